"""Talking to the LINE Messaging API with line-bot-sdk v3: reply, push, loading animation, content,
profiles, mark-as-read and the rich menu.

Every call has a timeout (the SDK has none by default). With `LINE_API_BASE_URL` set, one
`Configuration(host=...)` sends every call, the content download included, to that origin (the
simulator). Message dicts are converted with the SDK's models so the SDK validates them. Errors
become `LineApiError` and are logged with LINE's message and request id, never with the token.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import urllib3
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MarkMessagesAsReadByTokenRequest,
    Message,
    MessagingApi,
    MessagingApiBlob,
    PushMessageRequest,
    ReplyMessageRequest,
    RichMenuRequest,
    ShowLoadingAnimationRequest,
)

from shop.metrics import LINE_API_ERRORS
from shop.settings import Settings

log = logging.getLogger(__name__)

# urllib3 retried a GET that timed out 3 more times (a download took 4 × LINE_TIMEOUT_SECONDS). Retry
# only what cannot have reached LINE (the connection was never made); a read that times out fails at
# once (`push` retries on its own, with its retry key).
CONNECT_RETRIES_ONLY = urllib3.Retry(total=2, connect=2, read=0, status=0, other=0, redirect=0)
PUSH_ATTEMPTS = 3  # push only: it carries a retry key, so a repeat cannot double a message
POOL_SIZE = 64
IMAGE_CONTENT_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif"}


class LineApiError(Exception):
    """A LINE call failed. `status` is the HTTP status (0 for a network error or timeout)."""

    def __init__(self, operation: str, status: int, message: str, request_id: str = ""):
        self.operation = operation
        self.status = status
        self.message = message
        self.request_id = request_id
        super().__init__(f"LINE {operation} failed: HTTP {status or 'network'}: {message}"
                         + (f" (request id {request_id})" if request_id else ""))

    @property
    def retryable(self) -> bool:
        """Worth another try later: network trouble, rate limit, LINE's own errors."""
        return self.status == 0 or self.status == 429 or self.status >= 500

    @property
    def invalid_reply_token(self) -> bool:
        return self.status == 400 and "invalid reply token" in self.message.lower()


class ContentError(Exception):
    """A customer's image could not be kept (expired, too big, not an image, LINE unreachable)."""


@dataclass(frozen=True)
class Content:
    data: bytes
    content_type: str


def _error(operation: str, exception: Exception) -> LineApiError:
    error = _describe(operation, exception)
    LINE_API_ERRORS.labels(operation, str(error.status)).inc()
    return error


def _describe(operation: str, exception: Exception) -> LineApiError:
    if isinstance(exception, ApiException):
        message = str(exception.reason or "")
        body = exception.body
        if isinstance(body, (bytes, bytearray)):
            body = body.decode("utf-8", "replace")
        try:
            payload = json.loads(body or "")
            message = payload.get("message", message)
            if payload.get("details"):
                message += " " + json.dumps(payload["details"], ensure_ascii=False)[:500]
        except (ValueError, AttributeError):
            pass
        headers = exception.headers or {}
        return LineApiError(operation, int(exception.status or 0), message,
                            headers.get("x-line-request-id", "") if hasattr(headers, "get") else "")
    return LineApiError(operation, 0, f"{type(exception).__name__}: {exception}")


_TRANSPORT_ERRORS = (ApiException, urllib3.exceptions.HTTPError, OSError)


def checked_messages(messages: list[dict]) -> list[dict]:
    """Keep the messages the SDK accepts (its models validate fields and types); log the rest."""
    kept = []
    for message in messages:
        try:
            Message.from_dict(message)
        except (ValueError, TypeError) as error:
            log.error("message dropped, LINE would refuse it: %s", str(error).splitlines()[0][:300])
            continue
        kept.append(message)
    return kept


class LineApi:
    """One API client per process (urllib3 pools are thread-safe; not fork-safe: make one per process)."""

    push_backoff_seconds = 0.5  # wait before push attempt n+1: n * this

    def __init__(self, settings: Settings, *, timeout_seconds: float | None = None):
        configuration = Configuration(access_token=settings.line_channel_access_token.get_secret_value(),
                                      host=settings.line_api_base_url)
        configuration.connection_pool_maxsize = POOL_SIZE  # shared by the worker threads of a process
        configuration.retries = CONNECT_RETRIES_ONLY
        self._client = ApiClient(configuration)
        self._messaging = MessagingApi(self._client)
        self._blob = MessagingApiBlob(self._client)
        seconds = timeout_seconds or settings.line_timeout_seconds
        self.timeout = (min(3.0, seconds), seconds)  # (connect, read)

    def close(self) -> None:
        self._client.close()

    def show_loading_animation(self, chat_id: str, seconds: int = 20) -> bool:
        """Best effort: the animation is a nicety, so a failure is logged and the turn goes on."""
        try:
            self._messaging.show_loading_animation(
                ShowLoadingAnimationRequest(chat_id=chat_id, loading_seconds=seconds),
                _request_timeout=self.timeout)
            return True
        except _TRANSPORT_ERRORS as exception:
            log.warning("%s", _error("loading animation", exception))
            return False

    def reply(self, reply_token: str, messages: list[dict]) -> None:
        """Reply once (a reply token is single use, so never retried here)."""
        request = ReplyMessageRequest.from_dict({"replyToken": reply_token, "messages": messages})
        try:
            self._messaging.reply_message(request, _request_timeout=self.timeout)
        except _TRANSPORT_ERRORS as exception:
            error = _error("reply", exception)
            log.warning("%s", error)
            raise error from None

    def push(self, to: str, messages: list[dict], retry_key: str) -> str:
        """Push with `X-Line-Retry-Key`; returns "sent", or "duplicate" when LINE answers 409 (a
        request with this key was already accepted). 429/5xx/network errors are retried a bounded
        number of times with the same key."""
        request = PushMessageRequest.from_dict({"to": to, "messages": messages})
        for attempt in range(1, PUSH_ATTEMPTS + 1):
            try:
                self._messaging.push_message(request, x_line_retry_key=retry_key, _request_timeout=self.timeout)
                return "sent"
            except _TRANSPORT_ERRORS as exception:
                error = _error("push", exception)
                if error.status == 409:
                    log.info("push already accepted by LINE (retry key %s)", retry_key)
                    return "duplicate"
                log.warning("%s (attempt %d of %d)", error, attempt, PUSH_ATTEMPTS)
                if not error.retryable or attempt == PUSH_ATTEMPTS:
                    raise error from None
                time.sleep(self.push_backoff_seconds * attempt)
        raise AssertionError("unreachable")

    def get_content(self, message_id: str, *, max_bytes: int) -> Content:
        """Download a customer's image (content expires on LINE's side, so fetch it at once)."""
        try:
            response = self._blob.get_message_content_with_http_info(message_id, _request_timeout=self.timeout)
        except _TRANSPORT_ERRORS as exception:
            error = _error("get content", exception)
            log.warning("%s", error)
            raise ContentError(str(error)) from None
        if response.status_code != 200 or response.data is None:
            raise ContentError(f"LINE content not ready (HTTP {response.status_code})")
        data = bytes(response.data)
        content_type = (response.headers or {}).get("Content-Type", "").split(";")[0].strip().lower()
        if len(data) > max_bytes:
            raise ContentError(f"image too large ({len(data)} bytes, limit {max_bytes})")
        if content_type not in IMAGE_CONTENT_TYPES:
            raise ContentError(f"not an image (content type {content_type or 'missing'!r})")
        if not data:
            raise ContentError("empty image")
        return Content(data=data, content_type=content_type)

    def get_profile(self, user_id: str) -> dict:
        """The user's profile (displayName, pictureUrl, language...); LineApiError when LINE refuses."""
        try:
            profile = self._messaging.get_profile(user_id, _request_timeout=self.timeout)
        except _TRANSPORT_ERRORS as exception:
            raise _error("get profile", exception) from None
        return profile.to_dict()

    def mark_as_read(self, mark_as_read_token: str) -> bool:
        """Best effort, like the loading animation: the customer sees "read" on their messages."""
        try:
            self._messaging.mark_messages_as_read_by_token(
                MarkMessagesAsReadByTokenRequest(mark_as_read_token=mark_as_read_token),
                _request_timeout=self.timeout)
            return True
        except _TRANSPORT_ERRORS as exception:
            log.warning("%s", _error("mark as read", exception))
            return False

    # ---- rich menus (`salesbot line richmenu`) --------------------------------------------------

    def create_rich_menu(self, request: RichMenuRequest) -> str:
        try:
            return self._messaging.create_rich_menu(request, _request_timeout=self.timeout).rich_menu_id
        except _TRANSPORT_ERRORS as exception:
            raise _error("create rich menu", exception) from None

    def set_rich_menu_image(self, rich_menu_id: str, data: bytes, content_type: str) -> None:
        """Upload the picture (api-data.line.me): LINE needs the picture's own Content-Type."""
        try:
            self._blob.set_rich_menu_image(rich_menu_id, bytes(data), _headers={"Content-Type": content_type},
                                           _request_timeout=self.timeout)
        except _TRANSPORT_ERRORS as exception:
            raise _error("upload rich menu image", exception) from None

    def set_default_rich_menu(self, rich_menu_id: str) -> None:
        try:
            self._messaging.set_default_rich_menu(rich_menu_id, _request_timeout=self.timeout)
        except _TRANSPORT_ERRORS as exception:
            raise _error("set default rich menu", exception) from None

    def default_rich_menu_id(self) -> str | None:
        """The default rich menu's ID, or None when there is none (LINE answers 404)."""
        try:
            return self._messaging.get_default_rich_menu_id(_request_timeout=self.timeout).rich_menu_id
        except _TRANSPORT_ERRORS as exception:
            error = _error("get default rich menu", exception)
            if error.status == 404:
                return None
            raise error from None

    def cancel_default_rich_menu(self) -> None:
        try:
            self._messaging.cancel_default_rich_menu(_request_timeout=self.timeout)
        except _TRANSPORT_ERRORS as exception:
            raise _error("cancel default rich menu", exception) from None

    def rich_menus(self) -> list[dict]:
        try:
            listing = self._messaging.get_rich_menu_list(_request_timeout=self.timeout)
        except _TRANSPORT_ERRORS as exception:
            raise _error("list rich menus", exception) from None
        return [menu.to_dict() for menu in listing.richmenus]

    def delete_rich_menu(self, rich_menu_id: str) -> None:
        try:
            self._messaging.delete_rich_menu(rich_menu_id, _request_timeout=self.timeout)
        except _TRANSPORT_ERRORS as exception:
            raise _error("delete rich menu", exception) from None


__all__ = ["LineApi", "LineApiError", "ContentError", "Content", "checked_messages", "IMAGE_CONTENT_TYPES"]
