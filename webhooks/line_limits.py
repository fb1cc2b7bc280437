"""LINE's message limits, enforced before sending: split or trim rather than be rejected.

LINE rejects a whole reply or push when one message breaks a limit, and a rejected reply burns the
reply token. So the turn's messages go through `prepare_batches` first: long texts are split, big
carousels become several carousels, oversize fields are trimmed, non-HTTPS images are dropped in
production, and the result is cut into batches of at most five messages (one API call each).
Limits: ../shared/reference/line.md §3 (LINE Messaging API reference).
"""
from __future__ import annotations

import copy
import logging
import unicodedata
from collections.abc import Callable

log = logging.getLogger(__name__)

MAX_MESSAGES_PER_CALL = 5
MAX_BATCHES = 5  # a runaway turn must not flood the chat (and the push quota)
MAX_TEXT_UTF16 = 5000
MAX_CAROUSEL_BUBBLES = 12
MAX_ALT_TEXT = 1500
MAX_QUICK_REPLY_ITEMS = 13
MAX_QUICK_REPLY_LABEL = 20
MAX_POSTBACK_DATA = 300
MAX_DISPLAY_TEXT = 300
MAX_URL = 2000

_NO_BREAK_BEFORE = {"\u200d", "\ufe0e", "\ufe0f"}  # zero-width joiner, variation selectors


def utf16_len(text: str) -> int:
    """Length as LINE counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _prefix_fitting(text: str, limit: int) -> int:
    """Number of characters of `text` that fit in `limit` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def _safe_cut(text: str, cut: int) -> int:
    """Move `cut` left so it does not separate a base character from its marks (Thai vowels and
    tone marks, emoji modifiers and joiners)."""
    while 0 < cut < len(text) and (unicodedata.category(text[cut]).startswith("M")
                                   or text[cut] in _NO_BREAK_BEFORE or text[cut - 1] == "\u200d"
                                   or 0x1F3FB <= ord(text[cut]) <= 0x1F3FF):
        cut -= 1
    return cut


def split_text(text: str, limit: int = MAX_TEXT_UTF16) -> list[str]:
    """Split `text` into pieces of at most `limit` UTF-16 units, preferring paragraph breaks, then
    line breaks, then spaces (Thai separates phrases with spaces), then a cut between characters."""
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        window = _prefix_fitting(rest, limit)
        cut = 0
        for separator in ("\n\n", "\n", " "):
            position = rest.rfind(separator, 0, window)
            if position > window // 2:  # do not leave a tiny first piece
                cut = position + len(separator)
                break
        if not cut:
            cut = _safe_cut(rest, window) or window
        piece = rest[:cut].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].lstrip("\n ")
    if not pieces:
        return [rest]
    if rest.strip():
        pieces.append(rest.rstrip())
    return pieces


def _trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:_safe_cut(text, limit - 1) or limit - 1] + "…"


def _https_only(url: object, allow_http: bool) -> bool:
    return isinstance(url, str) and len(url) <= MAX_URL and (
        url.startswith("https://") or (allow_http and url.startswith("http://")))


def _fix_action(action: dict) -> None:
    data = action.get("data")
    if isinstance(data, str) and len(data) > MAX_POSTBACK_DATA:
        log.error("postback data over %d characters trimmed: %r…", MAX_POSTBACK_DATA, data[:40])
        action["data"] = data[:MAX_POSTBACK_DATA]
    for key in ("displayText", "text"):
        value = action.get(key)
        if isinstance(value, str) and action.get("type") == "postback" and len(value) > MAX_DISPLAY_TEXT:
            action[key] = _trim(value, MAX_DISPLAY_TEXT)


def _fix_quick_reply(message: dict) -> None:
    quick_reply = message.get("quickReply")
    if not isinstance(quick_reply, dict):
        return
    items = [item for item in quick_reply.get("items") or [] if isinstance(item, dict)]
    if len(items) > MAX_QUICK_REPLY_ITEMS:
        log.warning("quick reply has %d items; keeping the first %d", len(items), MAX_QUICK_REPLY_ITEMS)
        items = items[:MAX_QUICK_REPLY_ITEMS]
    for item in items:
        action = item.get("action")
        if isinstance(action, dict):
            _fix_action(action)
            if isinstance(action.get("label"), str):
                action["label"] = _trim(action["label"], MAX_QUICK_REPLY_LABEL)
    if items:
        quick_reply["items"] = items
    else:
        del message["quickReply"]


def _walk_flex(node: object, allow_http: bool) -> object:
    """Fix actions inside a Flex tree and drop image components LINE would refuse; returns the node,
    or None when the node itself must go."""
    if isinstance(node, list):
        kept = [_walk_flex(child, allow_http) for child in node]
        return [child for child in kept if child is not None]
    if not isinstance(node, dict):
        return node
    if node.get("type") == "image" and "url" in node and not _https_only(node["url"], allow_http):
        log.error("flex image dropped: not an HTTPS URL (%r)", str(node["url"])[:80])
        return None
    if node.get("type") == "postback":
        _fix_action(node)
    for key, child in list(node.items()):
        if isinstance(child, (dict, list)):
            fixed = _walk_flex(child, allow_http)
            if fixed is None:
                del node[key]
            else:
                node[key] = fixed
    return node


def _fix_message(message: dict, allow_http: bool) -> list[dict]:
    """One message in, the messages that respect LINE's limits out (possibly several, possibly none)."""
    message = copy.deepcopy(message)
    kind = message.get("type")
    if kind == "text":
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            log.error("empty text message dropped")
            return []
        pieces = split_text(text)
        if len(pieces) == 1:
            return [message]
        quick_reply = message.pop("quickReply", None)
        if message.pop("emojis", None):
            log.warning("LINE emojis dropped from a text that had to be split")
        out = [{**message, "text": piece} for piece in pieces]
        if quick_reply:
            out[-1]["quickReply"] = quick_reply  # LINE shows only the last message's quick reply
        return out
    if kind == "image":
        for key in ("originalContentUrl", "previewImageUrl"):
            if not _https_only(message.get(key), allow_http):
                log.error("image message dropped: %s is not an HTTPS URL (%r)", key, str(message.get(key))[:80])
                return []
        return [message]
    if kind == "flex":
        alt_text = message.get("altText")
        if isinstance(alt_text, str) and len(alt_text) > MAX_ALT_TEXT:
            message["altText"] = _trim(alt_text, MAX_ALT_TEXT)
        contents = _walk_flex(message.get("contents"), allow_http)
        if not isinstance(contents, dict):
            log.error("flex message dropped: no contents")
            return []
        message["contents"] = contents
        if contents.get("type") == "carousel":
            bubbles = contents.get("contents") or []
            if not bubbles:
                log.error("flex carousel dropped: no bubbles")
                return []
            if len(bubbles) > MAX_CAROUSEL_BUBBLES:
                quick_reply = message.pop("quickReply", None)
                out = []
                for start in range(0, len(bubbles), MAX_CAROUSEL_BUBBLES):
                    chunk = bubbles[start:start + MAX_CAROUSEL_BUBBLES]
                    out.append({**message, "contents": {**contents, "contents": chunk}})
                if quick_reply:
                    out[-1]["quickReply"] = quick_reply
                return out
        return [message]
    return [message]


def prepare_batches(messages: list[dict], *, allow_http_images: bool = False,
                    validate: Callable[[list[dict]], list[dict]] | None = None) -> list[list[dict]]:
    """The turn's messages, made to fit LINE's limits and grouped into calls of at most five.
    `validate` (e.g. `webhooks.line_api.checked_messages`) may drop messages LINE would still refuse."""
    fixed: list[dict] = []
    for message in messages:
        if not isinstance(message, dict):
            log.error("message dropped: not a JSON object (%r)", type(message).__name__)
            continue
        fixed.extend(_fix_message(message, allow_http_images))
    for message in fixed:
        _fix_quick_reply(message)
    if validate is not None:
        fixed = validate(fixed)
    limit = MAX_MESSAGES_PER_CALL * MAX_BATCHES
    if len(fixed) > limit:
        log.warning("turn produced %d messages; sending the first %d", len(fixed), limit)
        fixed = fixed[:limit]
    return [fixed[start:start + MAX_MESSAGES_PER_CALL] for start in range(0, len(fixed), MAX_MESSAGES_PER_CALL)]


__all__ = ["prepare_batches", "split_text", "utf16_len", "MAX_MESSAGES_PER_CALL", "MAX_TEXT_UTF16"]
