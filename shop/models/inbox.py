"""Webhook events as received (the inbox) and the messages sent for them (so a retry never sends twice)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shop.models.base import Base, UTCDateTime, utcnow


class InboxStatus(str, enum.Enum):
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    SKIPPED = "skipped"   # standby mode, no reply token where one is needed, unknown type
    FAILED = "failed"     # gave up after the bounded number of attempts: staff can see it


class InboxEvent(Base):
    __tablename__ = "inbox_events"
    __table_args__ = (Index("ix_inbox_chat_order", "chat_id", "status", "timestamp_ms"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    chat_id: Mapped[str] = mapped_column(String(64))  # userId, groupId or roomId
    user_id: Mapped[str] = mapped_column(String(64), default="")
    event_type: Mapped[str] = mapped_column(String(32))
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    reply_token: Mapped[str] = mapped_column(String(128), default="")
    body: Mapped[str] = mapped_column(Text)  # the event's JSON exactly as LINE sent it
    status: Mapped[str] = mapped_column(String(16), default=InboxStatus.QUEUED.value, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a worker holds it until then
    lease_owner: Mapped[str] = mapped_column(String(64), default="")  # which worker holds the lease
    available_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # retry not before (backoff)
    last_error: Mapped[str] = mapped_column(Text, default="")
    content_error: Mapped[str] = mapped_column(Text, default="")  # customer image could not be fetched
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboundMessage(Base):
    """A batch of messages sent (or to be sent) for one inbox event; `retry_key` is the push retry key."""

    __tablename__ = "outbound_messages"
    __table_args__ = (UniqueConstraint("inbox_event_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inbox_event_id: Mapped[int] = mapped_column(ForeignKey("inbox_events.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(default=0)
    retry_key: Mapped[str] = mapped_column(String(36))
    messages: Mapped[str] = mapped_column(Text)  # JSON list of LINE message objects
    # reply | push: written BEFORE the call, so a retry knows a reply may already have gone out
    method: Mapped[str] = mapped_column(String(8), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkerHeartbeat(Base):
    """A worker process saying it is alive (webhooks/heartbeat.py), so /readyz can tell waiting events
    that nothing takes from events in progress."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
