"""What a turn already did, per webhook event, so a retried turn repeats no side effect (bot/turn_steps.py)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shop.models.base import Base, UTCDateTime, utcnow


class TurnStep(Base):
    """One step of the turn for one webhook event: a tool call (its result) or the turn's answer."""

    __tablename__ = "turn_steps"
    __table_args__ = (UniqueConstraint("event_key", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(64))   # the webhookEventId (or the inbox's digest of the event)
    step: Mapped[str] = mapped_column(String(120))       # "tool:add_to_cart:<arguments digest>#1", "answer"
    result: Mapped[str] = mapped_column(Text)            # JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
