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


def new_group_id() -> str:
    """Group IDs are "C" and 32 hex digits, room IDs "R" and 32 hex digits."""
    return "C" + secrets.token_hex(16)


def new_room_id() -> str:
    return "R" + secrets.token_hex(16)


def new_read_token() -> str:
    return secrets.token_urlsafe(32)


def source_of(user_id: str | None, chat_id: str | None = None) -> dict:
    """The `source` object: a one-to-one chat, or a group/room (with the member who acted, if any)."""
    if chat_id is None or chat_id == user_id:
        return {"type": "user", "userId": user_id}
    kind, key = ("group", "groupId") if chat_id.startswith("C") else ("room", "roomId")
    source = {"type": kind, key: chat_id}
    if user_id:
        source["userId"] = user_id
    return source


def _base(event_type: str, user_id: str | None, *, reply: bool, chat_id: str | None = None) -> dict:
    event = {
        "type": event_type,
        "mode": "active",
        "timestamp": _now_ms(),
        "source": source_of(user_id, chat_id),
        "webhookEventId": str(ULID()),
        "deliveryContext": {"isRedelivery": False},
    }
    if reply:
        event["replyToken"] = new_reply_token()
    return event


def message_event(user_id: str, message: dict, chat_id: str | None = None) -> dict:
    """A message event. `message` is the content without `id` (added); a `quoteToken` is added for
    the types LINE quotes (text, sticker, image, video) and a `markAsReadToken` in one-to-one chats."""
    event = _base("message", user_id, reply=True, chat_id=chat_id)
    content = {"id": message.pop("id", None) or new_message_id(), **message}
    if content["type"] in QUOTABLE:
        content["quoteToken"] = new_quote_token()
    if event["source"]["type"] == "user":
        content["markAsReadToken"] = new_read_token()
    event["message"] = content
    return event


QUOTABLE = ("text", "sticker", "image", "video")


def text_event(user_id: str, text: str, chat_id: str | None = None) -> dict:
    return message_event(user_id, {"type": "text", "text": text}, chat_id)


def image_event(user_id: str, message_id: str, image_set: tuple[str, int, int] | None = None,
                chat_id: str | None = None) -> dict:
    """An image the user sent; its bytes are served by the content endpoint under `message_id`.

    `image_set` = (set id, 1-based index, total) when several images were sent together.
    """
    message = {"type": "image", "id": message_id, "contentProvider": {"type": "line"}}
    if image_set is not None:
        set_id, index, total = image_set
        message["imageSet"] = {"id": set_id, "index": index, "total": total}
    return message_event(user_id, message, chat_id)


def sticker_event(user_id: str, package_id: str, sticker_id: str, keywords: list[str] | None = None,
                  *, resource_type: str = "STATIC", text: str | None = None, chat_id: str | None = None) -> dict:
    message = {"type": "sticker", "packageId": package_id, "stickerId": sticker_id,
               "stickerResourceType": resource_type}
    if keywords:
        message["keywords"] = keywords[:15]   # LINE sends at most 15
    if text:
        message["text"] = text[:100]
    return message_event(user_id, message, chat_id)


def location_event(user_id: str, latitude: float, longitude: float, *, title: str | None = None,
                   address: str | None = None, chat_id: str | None = None) -> dict:
    message = {"type": "location", "latitude": latitude, "longitude": longitude}
    if title:
        message["title"] = title
    if address:
        message["address"] = address
    return message_event(user_id, message, chat_id)


def media_event(user_id: str, kind: str, *, duration_ms: int | None = None, file_name: str | None = None,
                file_size: int | None = None, chat_id: str | None = None) -> dict:
    """Audio, video or file: the content itself is not simulated (the shop does not download it)."""
    if kind == "file":
        message = {"type": "file", "fileName": file_name or "document.pdf", "fileSize": int(file_size or 0)}
    else:
        message = {"type": kind, "contentProvider": {"type": "line"}}
        if duration_ms is not None:
            message["duration"] = int(duration_ms)
    return message_event(user_id, message, chat_id)


def new_image_set_id() -> str:
    return secrets.token_hex(16).upper()


def postback_event(user_id: str, data: str, params: dict | None = None, chat_id: str | None = None) -> dict:
    event = _base("postback", user_id, reply=True, chat_id=chat_id)
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


def join_event(chat_id: str) -> dict:
    """The bot was added to a group or room (no user in the source)."""
    return _base("join", None, reply=True, chat_id=chat_id)


def leave_event(chat_id: str) -> dict:
    """The bot was removed from a group (no reply token: nothing can be said any more)."""
    return _base("leave", None, reply=False, chat_id=chat_id)


def member_joined_event(chat_id: str, user_ids: list[str]) -> dict:
    event = _base("memberJoined", None, reply=True, chat_id=chat_id)
    event["joined"] = {"members": [{"type": "user", "userId": user_id} for user_id in user_ids]}
    return event


def member_left_event(chat_id: str, user_ids: list[str]) -> dict:
    event = _base("memberLeft", None, reply=False, chat_id=chat_id)
    event["left"] = {"members": [{"type": "user", "userId": user_id} for user_id in user_ids]}
    return event


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


def chat_of(source: dict) -> str:
    """The chat an event's source belongs to: the group or room, else the user."""
    return source.get("groupId") or source.get("roomId") or source.get("userId") or ""
