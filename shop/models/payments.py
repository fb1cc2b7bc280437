"""Slip checks (every slip a customer sends, with its outcome) and payments (money accepted)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.models.base import Base, JSONType, UTCDateTime, utcnow


class SlipOutcome(str, enum.Enum):
    PAID = "paid"
    REJECTED = "rejected"
    PENDING = "pending"            # provider unreachable: retried with backoff
    NEEDS_REVIEW = "needs_review"  # no readable QR: staff decide


class SlipCheck(Base):
    """One slip submission and what the checks decided, with the provider's raw answer."""

    __tablename__ = "slip_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id"))
    qr_payload: Mapped[str] = mapped_column(Text, default="")
    sending_bank: Mapped[str] = mapped_column(String(8), default="")
    trans_ref: Mapped[str] = mapped_column(String(64), default="", index=True)
    provider: Mapped[str] = mapped_column(String(32), default="")
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(String(40), default="")  # machine code, e.g. wrong_amount
    amount_satang: Mapped[int | None]
    transferred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_raw: Mapped[dict | None] = mapped_column(JSONType)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")


class Payment(Base):
    """Money accepted for an order. The unique slip key makes a reused slip fail at commit."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("sending_bank", "trans_ref", name="uq_payment_slip"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    slip_check_id: Mapped[int | None] = mapped_column(ForeignKey("slip_checks.id"))
    amount_satang: Mapped[int]
    sending_bank: Mapped[str] = mapped_column(String(8))
    trans_ref: Mapped[str] = mapped_column(String(64))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    slip_check: Mapped[SlipCheck | None] = relationship()
