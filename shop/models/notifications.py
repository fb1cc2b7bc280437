"""Messages the shop owes a customer outside a reply (e.g. a slip decided after the provider was down),
and alerts to the staff's LINE chat: stored first, then pushed until LINE accepts them, so a failed
push is retried rather than lost."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shop.models.base import Base, UTCDateTime, utcnow


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    # To a customer (customer_id) or to an explicit LINE chat (target: the staff group or user id).
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(64), default="")
    key: Mapped[str] = mapped_column(String(80), unique=True)  # what it is about, e.g. slip-check-12; seeds the retry keys
    messages: Mapped[str] = mapped_column(Text)  # JSON list of LINE message objects
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    given_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # LINE refused it for good, or too many tries
