"""A person takes over a chat: while a handoff is open the bot stays quiet on the customer's text (it still
reads slips), staff reply through pushes, and the bot comes back when staff close it or it times out.

A handoff is a `StaffRequest` without `resolved_at`; it times out HANDOFF_TIMEOUT_MINUTES after the last
thing staff did (the request itself, or their last reply).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shop import audit, notifications
from shop.db import Database
from shop.models.base import utcnow
from shop.models.customers import ChatMessage, Customer, StaffRequest

BOT_IS_BACK = "ทางร้านขอกลับมาดูแลต่อนะคะ 🙏 ถ้ามีอะไรให้ช่วย พิมพ์มาได้เลยค่ะ"
MAX_REPLY_CHARS = 2000


@dataclass(frozen=True)
class OpenHandoff:
    request_id: int
    customer_id: int
    line_user_id: str
    display_name: str
    reason: str
    opened_at: datetime
    last_activity_at: datetime


def _last_activity(request: StaffRequest) -> datetime:
    return request.staff_replied_at or request.created_at


def active_handoff(session: Session, customer_id: int, timeout_minutes: int,
                   now: datetime | None = None) -> StaffRequest | None:
    """The customer's open handoff that has not timed out, if any."""
    request = session.scalar(select(StaffRequest).where(StaffRequest.customer_id == customer_id,
                                                        StaffRequest.resolved_at.is_(None))
                             .order_by(StaffRequest.id.desc()))
    if request is None or _last_activity(request) < (now or utcnow()) - timedelta(minutes=timeout_minutes):
        return None
    return request


def open_handoffs(session: Session) -> list[OpenHandoff]:
    rows = session.scalars(select(StaffRequest).options(selectinload(StaffRequest.customer))
                           .where(StaffRequest.resolved_at.is_(None)).order_by(StaffRequest.created_at))
    return [OpenHandoff(r.id, r.customer_id, r.customer.line_user_id, r.customer.display_name, r.reason,
                        r.created_at, _last_activity(r)) for r in rows]


def conversation(session: Session, customer_id: int, limit: int = 50) -> list[ChatMessage]:
    """The chat so far (oldest first), for the staff member taking over."""
    rows = session.scalars(select(ChatMessage).where(ChatMessage.customer_id == customer_id)
                           .order_by(ChatMessage.id.desc()).limit(limit)).all()
    return list(reversed(rows))


def _customer(session: Session, line_user_id: str) -> Customer:
    customer = session.scalar(select(Customer).where(Customer.line_user_id == line_user_id))
    if customer is None:
        raise LookupError(f"no customer with LINE user id {line_user_id}")
    return customer


def staff_reply(db: Database, line_user_id: str, text: str, *, staff: str = "",
                actor: audit.Actor | None = None) -> int:
    """Send staff's words to the customer (a push through the notifications outbox, sent once) and keep
    the handoff open. Returns the chat line's id. Raises LookupError / ValueError. With `actor`, the
    reply is in the audit log (same transaction)."""
    text = (text or "").strip()
    if not text:
        raise ValueError("the reply is empty")
    if len(text) > MAX_REPLY_CHARS:
        raise ValueError(f"the reply is longer than {MAX_REPLY_CHARS} characters")
    now = utcnow()
    with db.session() as session:
        customer = _customer(session, line_user_id)
        request = session.scalar(select(StaffRequest).where(StaffRequest.customer_id == customer.id,
                                                            StaffRequest.resolved_at.is_(None)))
        if request is None:  # staff start the conversation themselves: that is a handoff too
            request = StaffRequest(customer_id=customer.id, reason=f"staff wrote first ({staff})"[:500],
                                   created_at=now)
            session.add(request)
        request.staff_replied_at = now
        line = ChatMessage(customer_id=customer.id, role="staff", text=text, created_at=now)
        session.add(line)
        session.flush()
        customer_id, line_id = customer.id, line.id
        if actor is not None:
            audit.record(session, actor, "handoff.reply", "customer", str(customer_id), None,  # not the words:
                         {"chat_line": line_id, "characters": len(text)})  # the log outlives a PDPA erasure
    notifications.queue(db, customer_id, f"staff-reply-{line_id}", [{"type": "text", "text": text}])
    return line_id


def close_handoff(db: Database, line_user_id: str, *, now: datetime | None = None,
                  actor: audit.Actor | None = None) -> bool:
    """Staff are done: the bot answers again, and says so. False when no handoff was open."""
    with db.session() as session:
        customer = _customer(session, line_user_id)
        closed = _close_open(session, customer.id, now or utcnow())
        customer_id = customer.id
        if actor is not None and closed:
            audit.record(session, actor, "handoff.close", "customer", str(customer_id), {"handoff": "open"},
                         {"handoff": "closed"})
    for request_id in closed:
        notifications.queue(db, customer_id, f"handoff-closed-{request_id}", [{"type": "text", "text": BOT_IS_BACK}])
    return bool(closed)


def _close_open(session: Session, customer_id: int, now: datetime) -> list[int]:
    open_requests = session.scalars(select(StaffRequest).where(StaffRequest.customer_id == customer_id,
                                                               StaffRequest.resolved_at.is_(None))).all()
    for request in open_requests:
        request.resolved_at = now
    return [request.id for request in open_requests]


def close_timed_out(db: Database, timeout_minutes: int, now: datetime | None = None) -> int:
    """Housekeeping: handoffs nobody touched for the timeout close, and the bot says it is back."""
    now = now or utcnow()
    cutoff = now - timedelta(minutes=timeout_minutes)
    with db.session() as session:
        stale = [r for r in session.scalars(select(StaffRequest).where(StaffRequest.resolved_at.is_(None)))
                 if _last_activity(r) < cutoff]
        for request in stale:
            request.resolved_at = now
        closed = [(r.id, r.customer_id) for r in stale]
    for request_id, customer_id in closed:
        notifications.queue(db, customer_id, f"handoff-closed-{request_id}", [{"type": "text", "text": BOT_IS_BACK}])
    return len(closed)
