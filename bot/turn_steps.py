"""A retried turn repeats no side effect: what a turn did is recorded under its webhook event's id.

A worker can die after a tool committed and before the answer was recorded; the inbox then runs the
event again. So:
- each tool call that may change something runs in one transaction with its record (the tool's own
  sessions join that transaction, see `shop.db.StepDatabase`): both are stored or neither is;
- on the retry, the same call (same tool, same arguments, the n-th such call of the turn) gets the
  recorded result instead of running again: "add 1 box" stays one box;
- the turn's answer is recorded with the customer's new state, so a retry after that only returns it.
Tools that only read run again (they change nothing). Records older than `KEEP` are deleted by housekeeping.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from agent.tools import CUSTOMER_TOOLS
from shop.db import Database, StepDatabase
from shop.models.base import utcnow
from shop.models.turns import TurnStep

ANSWER = "answer"
KEEP = timedelta(days=7)  # far longer than an event is ever retried
# The customer's tools that only read. They, and every catalogue tool (no customer bound: nothing of the
# customer's to change), run again on a retry; every other customer tool (new ones too) is recorded.
READ_ONLY_CUSTOMER_TOOLS = frozenset({"view_cart", "preview_order", "get_order_status"})


def recorded_tool(name: str) -> bool:
    return name in CUSTOMER_TOOLS and name not in READ_ONLY_CUSTOMER_TOOLS


def event_key(event: dict) -> str | None:
    """The webhook event's id, the key a retry shares with the first attempt (None: nothing to key on)."""
    key = event.get("webhookEventId")
    return key if isinstance(key, str) and 0 < len(key) <= 64 else None


class TurnJournal:
    """The records of one event's turn."""

    def __init__(self, db: Database, key: str | None):
        self.db, self.key = db, key

    def recorded(self, step: str) -> Any | None:
        if self.key is None:
            return None
        with self.db.session() as session:
            text = session.scalar(select(TurnStep.result).where(TurnStep.event_key == self.key, TurnStep.step == step))
        return None if text is None else json.loads(text)

    def add(self, session, step: str, result: Any) -> None:
        """Record `step` in the caller's transaction (commits with whatever the caller wrote)."""
        if self.key is not None:
            session.add(TurnStep(event_key=self.key, step=step[:120],
                                 result=json.dumps(result, ensure_ascii=False, default=str)))
            session.flush()


class RecordedTools:
    """The agents' tool session, with every changing call run once per event and replayed on a retry."""

    def __init__(self, tools, journal: TurnJournal, db: StepDatabase):
        self.tools, self.journal, self.db = tools, journal, db
        self._seen: dict[str, int] = {}

    def list_tools(self) -> list[dict]:
        return self.tools.list_tools()

    def call_tool(self, name: str, arguments: dict[str, Any] | None = None) -> dict:
        if self.journal.key is None or not recorded_tool(name):
            return self.tools.call_tool(name, arguments)
        step = self._step(name, arguments or {})
        replayed = self.journal.recorded(step)
        if replayed is not None:
            return replayed
        try:
            with self.db.step() as session:
                result = self.tools.call_tool(name, arguments)
                if result.get("error") != "internal_error":  # a transient failure is not an answer to replay
                    self.journal.add(session, step, result)
        except IntegrityError:  # recorded meanwhile by another attempt: its result stands
            return self.journal.recorded(step) or result
        return result

    def _step(self, name: str, arguments: dict) -> str:
        digest = hashlib.sha256(json.dumps(arguments, sort_keys=True, ensure_ascii=False, default=str)
                                .encode("utf-8")).hexdigest()[:16]
        base = f"tool:{name}:{digest}"
        self._seen[base] = self._seen.get(base, 0) + 1
        return f"{base}#{self._seen[base]}"


def forget_old_steps(db: Database, now: datetime | None = None) -> int:
    """Housekeeping: drop records no retry can need any more."""
    with db.session() as session:
        return session.execute(delete(TurnStep).where(TurnStep.created_at < (now or utcnow()) - KEEP)).rowcount


__all__ = ["TurnJournal", "RecordedTools", "event_key", "forget_old_steps", "recorded_tool", "ANSWER"]
