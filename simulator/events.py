"""Webhook events exactly as the LINE platform sends them today, and the signature over their bytes.

line-bot-sdk v3 turns an event missing a required field (``webhookEventId``, ``deliveryContext``,
``quoteToken``, ``contentProvider``…) into a silent ``UnknownEvent``; every builder here fills them all.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import secrets
import time

from ulid import ULID

_message_ids = itertools.count(600_000_000_000_000_000 + secrets.randbelow(10**15))


def new_user_id() -> str:
    """A LINE user ID: "U" and 32 lowercase hex digits."""
    return "U" + secrets.token_hex(16)


def new_message_id() -> str:
    """LINE message IDs are 18-digit decimal strings, increasing over time."""
    return str(next(_message_ids))


def new_reply_token() -> str:
    return secrets.token_hex(16)


def new_quote_token() -> str:
    return secrets.token_urlsafe(48)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _base(event_type: str, user_id: str, *, reply: bool) -> dict:
    event = {
        "type": event_type,
        "mode": "active",
        "timestamp": _now_ms(),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": str(ULID()),
        "deliveryContext": {"isRedelivery": False},
    }
    if reply:
        event["replyToken"] = new_reply_token()
    return event


def text_event(user_id: str, text: str) -> dict:
    event = _base("message", user_id, reply=True)
    event["message"] = {"type": "text", "id": new_message_id(), "quoteToken": new_quote_token(), "text": text}
    return event


def image_event(user_id: str, message_id: str, image_set: tuple[str, int, int] | None = None) -> dict:
    """An image the user sent; its bytes are served by the content endpoint under `message_id`.

    `image_set` = (set id, 1-based index, total) when several images were sent together.
    """
    event = _base("message", user_id, reply=True)
    message = {"type": "image", "id": message_id, "quoteToken": new_quote_token(),
               "contentProvider": {"type": "line"}}
    if image_set is not None:
        set_id, index, total = image_set
        message["imageSet"] = {"id": set_id, "index": index, "total": total}
    event["message"] = message
    return event


def new_image_set_id() -> str:
    return secrets.token_hex(16).upper()


def postback_event(user_id: str, data: str, params: dict | None = None) -> dict:
    event = _base("postback", user_id, reply=True)
    event["postback"] = {"data": data}
    if params:
        event["postback"]["params"] = params
    return event


def follow_event(user_id: str, *, is_unblocked: bool = False) -> dict:
    event = _base("follow", user_id, reply=True)
    event["follow"] = {"isUnblocked": is_unblocked}
    return event


def unfollow_event(user_id: str) -> dict:
    """Unfollow events carry no reply token."""
    return _base("unfollow", user_id, reply=False)


def as_redelivery(event: dict) -> dict:
    """The same event again: same webhookEventId, reply token and timestamp, isRedelivery true."""
    again = copy.deepcopy(event)
    again["deliveryContext"] = {"isRedelivery": True}
    return again


def webhook_body(destination: str, events: list[dict]) -> bytes:
    """The exact bytes to POST. Thai stays as UTF-8 (not \\u escapes), as LINE sends it."""
    return json.dumps({"destination": destination, "events": events},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(body: bytes, channel_secret: str) -> str:
    """X-Line-Signature: base64 of HMAC-SHA256 over the body bytes, keyed by the channel secret."""
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")
