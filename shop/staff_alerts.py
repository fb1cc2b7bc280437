"""Alerts to the staff's LINE chat (STAFF_LINE_TARGET: a group id or a staff member's user id): a new
paid order, a slip to review, a customer asking for a person, an event the workers gave up on.

Housekeeping calls `queue_due` every round. It looks at what happened in the last LOOKBACK and
stores one notification per thing under a key of its own (staff-paid-<order id>, ...), so an alert
is queued once however many rounds or processes see it, and the notifications outbox pushes it once
with a stable retry key, retried while LINE is down. Nothing is queued while STAFF_LINE_TARGET is empty.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop import notifications
from shop.db import Database
from shop.models import Customer, InboxEvent, InboxStatus, Notification, Order, SlipCheck, SlipOutcome
from shop.models.customers import StaffRequest
from shop.money import format_baht
from shop.settings import Settings

LOOKBACK = timedelta(days=1)
LIMIT = 100  # per kind and round; more wait for the next round
FULFILMENT_TH = {"pickup": "รับที่ร้าน", "delivery": "จัดส่ง"}


def _link(settings: Settings, path: str) -> str:
    return f"{settings.public_base_url}/admin/{path}"


def _who(customer: Customer | None) -> str:
    if customer is None:
        return "-"
    return customer.display_name or customer.line_user_id[:9] + "…"


def paid_order_text(settings: Settings, order: Order, customer: Customer | None) -> str:
    lines = [f"🛒 คำสั่งซื้อใหม่ชำระแล้ว {order.number}",
             f"ยอด {format_baht(order.total_satang)} · {FULFILMENT_TH.get(order.fulfilment, order.fulfilment)}",
             f"ลูกค้า: {_who(customer)}"]
    lines += [f"• {item.name} × {item.quantity}" for item in order.items[:10]]
    lines.append(_link(settings, f"orders/{order.number}"))
    return "\n".join(lines)


def review_text(settings: Settings, check: SlipCheck, order: Order | None, customer: Customer | None) -> str:
    what = f"คำสั่งซื้อ {order.number} ยอด {format_baht(order.total_satang)}" if order else "ไม่มีคำสั่งซื้อที่รอชำระ"
    return "\n".join([f"🧾 มีสลิปรอตรวจ (หมายเลข {check.id})", what, f"ลูกค้า: {_who(customer)}",
                      f"เหตุผล: {check.reason or '-'}", _link(settings, f"slips/{check.id}")])


def handoff_text(settings: Settings, request: StaffRequest, customer: Customer | None) -> str:
    return "\n".join([f"🙋 ลูกค้าขอคุยกับแอดมิน: {_who(customer)}", f"เรื่อง: {(request.reason or '-')[:300]}",
                      "ระหว่างนี้บอทจะไม่ตอบแชตนี้จนกว่าจะส่งแชตคืน", _link(settings, "handoffs")])


def failed_event_text(event: InboxEvent) -> str:
    return "\n".join([f"⚠️ ระบบตอบแชตไม่สำเร็จ (event {event.id}, {event.event_type})",
                      f"แชต: {event.chat_id[:9]}…", f"สาเหตุ: {(event.last_error or '-')[:300]}",
                      "ดูรายละเอียด: salesbot worker status · ส่งใหม่: salesbot worker retry " + str(event.id)])


def _due(session: Session, settings: Settings, since: datetime) -> dict[str, str]:
    """key -> alert text for everything in the look-back window (queued or not)."""
    due: dict[str, str] = {}
    paid = session.execute(select(Order, Customer).join(Customer, Customer.id == Order.customer_id)
                           .where(Order.paid_at >= since).order_by(Order.paid_at).limit(LIMIT)).all()
    for order, customer in paid:
        due[f"staff-paid-{order.id}"] = paid_order_text(settings, order, customer)
    review = session.execute(
        select(SlipCheck, Order, Customer).outerjoin(Order, Order.id == SlipCheck.order_id)
        .outerjoin(Customer, Customer.id == SlipCheck.customer_id)
        .where(SlipCheck.outcome == SlipOutcome.NEEDS_REVIEW.value, SlipCheck.created_at >= since)
        .order_by(SlipCheck.id).limit(LIMIT)).all()
    for check, order, customer in review:
        due[f"staff-review-{check.id}"] = review_text(settings, check, order, customer)
    handoffs = session.execute(select(StaffRequest, Customer).join(Customer, Customer.id == StaffRequest.customer_id)
                               .where(StaffRequest.created_at >= since, StaffRequest.resolved_at.is_(None))
                               .order_by(StaffRequest.id).limit(LIMIT)).all()
    for request, customer in handoffs:
        due[f"staff-handoff-{request.id}"] = handoff_text(settings, request, customer)
    failed = session.scalars(select(InboxEvent).where(InboxEvent.status == InboxStatus.FAILED.value,
                                                      InboxEvent.finished_at >= since)
                             .order_by(InboxEvent.id).limit(LIMIT)).all()
    for event in failed:
        due[f"staff-failed-event-{event.id}"] = failed_event_text(event)
    return due


def queue_due(db: Database, settings: Settings, now: datetime | None = None) -> int:
    """Queue the alerts not queued yet; returns how many were queued this round."""
    target = settings.staff_line_target
    if not target:
        return 0
    since = (now or datetime.now(UTC)) - LOOKBACK
    try:
        with db.session() as session:
            due = _due(session, settings, since)
            queued = set(session.scalars(select(Notification.key).where(Notification.key.in_(list(due))))) if due else set()
            for key in sorted(set(due) - queued):
                notifications.add(session, key=key, messages=[{"type": "text", "text": due[key][:5000]}],
                                  target=target)
            return len(set(due) - queued)
    except IntegrityError:  # another process queued one of them first: the next round does the rest
        return 0


def group_chats_seen(db: Database, limit: int = 20) -> list[dict]:
    """Group and room chats the bot has received events from (the join event when it was invited,
    any message since), newest first: where STAFF_LINE_TARGET's value comes from."""
    with db.session() as session:
        rows = session.execute(
            select(InboxEvent.chat_id, func.count(), func.max(InboxEvent.received_at))
            .where(or_(InboxEvent.chat_id.like("C%"), InboxEvent.chat_id.like("R%")))
            .group_by(InboxEvent.chat_id).order_by(func.max(InboxEvent.received_at).desc()).limit(limit)).all()
    return [{"chat_id": chat_id, "events": count, "last_event_at": last} for chat_id, count, last in rows]
