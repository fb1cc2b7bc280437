"""One turn: a LINE webhook event in, the LINE messages to send back out.

PLACEHOLDER until the shop-conversation issue lands: it only echoes text so the edge can be built
and tested. The real pipeline routes postbacks to deterministic actions, text to the agent, and
images to the slip checks.
"""
from __future__ import annotations

from bot.db import Database
from bot.settings import Settings


def run_turn(db: Database, settings: Settings, event: dict) -> list[dict]:
    """Return LINE message objects (plain JSON dicts, as in the Messaging API) answering `event`."""
    if event.get("type") == "message" and event.get("message", {}).get("type") == "text":
        return [{"type": "text", "text": event["message"]["text"]}]
    return []
