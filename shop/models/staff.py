"""The shop's staff: accounts that sign in to the back office, the slow-down after failed sign-ins,
and the audit log of every change staff make."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shop.models.base import Base, JSONType, UTCDateTime, utcnow


class StaffAccount(Base):
    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)  # lower case, see shop.staff.USERNAME
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))  # werkzeug "scrypt:..." string, never the password
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped by sign-out and disabling: a session cookie carrying an older number is no longer valid.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInFailures(Base):
    """Failed sign-ins counted per username and per client address (`key` is "user:NAME" or "ip:ADDR")."""

    __tablename__ = "staff_sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who changed what, when, and the values before and after (JSON objects of the fields changed)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    actor: Mapped[str] = mapped_column(String(80))  # the staff username, or "cli:<os user>"
    action: Mapped[str] = mapped_column(String(40), index=True)  # e.g. order.ship, slip.approve, staff.add
    subject_type: Mapped[str] = mapped_column(String(20))  # order, slip, staff
    subject_key: Mapped[str] = mapped_column(String(64), index=True)  # order number, slip id, username
    before: Mapped[dict | None] = mapped_column(JSONType)
    after: Mapped[dict | None] = mapped_column(JSONType)
    detail: Mapped[str] = mapped_column(Text, default="")
