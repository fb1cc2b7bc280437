"""Basic LINE message objects and quick replies."""
from __future__ import annotations

from agent.reply import Suggestion


def text(body: str) -> dict:
    return {"type": "text", "text": body}


def image(url: str, preview_url: str | None = None) -> dict:
    return {"type": "image", "originalContentUrl": url, "previewImageUrl": preview_url or url}


def flex(alt_text: str, contents: dict) -> dict:
    return {"type": "flex", "altText": alt_text[:1500], "contents": contents}


def with_quick_replies(messages: list[dict], suggestions: list[Suggestion]) -> list[dict]:
    """LINE shows only the last message's quick reply, so attach them there (≤ 13 items)."""
    if not messages or not suggestions:
        return messages
    items = [{"type": "action", "action": s.to_action()} for s in suggestions[:13]]
    last = dict(messages[-1])
    last["quickReply"] = {"items": items}
    return [*messages[:-1], last]
