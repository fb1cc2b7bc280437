"""Staff decide the slips the automatic checks could not (`needs_review`, or `pending` while the
provider is down): approve → the order is paid and the customer gets the receipt; reject with a
reason → the order waits for payment again and the customer is told what to do next.

The same rules as `payments.checks` hold: the Payment row (unique sending bank + transRef, unique
order) is written in the transaction that marks the order paid, so a slip pays once and an order is
paid once, whoever decides. A slip whose QR could not be read has no transRef; its payment is keyed
`staff-<slip check id>` instead.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from payments.checks import PAYABLE
from shop import audit, notifications
from shop.db import Database
from shop.errors import ShopError
from shop.fulfilment import CustomerMessages
from shop.models import Customer, Media, Order, OrderStatus, Payment, SlipCheck, SlipOutcome
from shop.orders import STATUS_TH, normalise_number, order_json

UNDECIDED = (SlipOutcome.NEEDS_REVIEW.value, SlipOutcome.PENDING.value)
MAX_REASON = 500


def slips_to_review(session: Session, limit: int = 100) -> list[dict]:
    """Slips staff must decide, oldest first, with their order and customer."""
    rows = session.execute(
        select(SlipCheck, Order, Customer)
        .outerjoin(Order, Order.id == SlipCheck.order_id).outerjoin(Customer, Customer.id == SlipCheck.customer_id)
        .where(SlipCheck.outcome == SlipOutcome.NEEDS_REVIEW.value)
        .order_by(SlipCheck.created_at, SlipCheck.id).limit(limit)).all()
    return [slip_json(check, order, customer) for check, order, customer in rows]


def slip_json(check: SlipCheck, order: Order | None, customer: Customer | None) -> dict:
    return {"id": check.id, "outcome": check.outcome, "reason": check.reason, "note": check.note,
            "created_at": check.created_at, "decided_at": check.decided_at, "provider": check.provider,
            "provider_raw": check.provider_raw, "qr_payload": check.qr_payload,
            "sending_bank": check.sending_bank, "trans_ref": check.trans_ref,
            "amount_satang": check.amount_satang, "transferred_at": check.transferred_at,
            "has_image": check.media_id is not None,
            "order": None if order is None else {"number": order.number, "status": order.status,
                                                 "status_th": STATUS_TH.get(order.status, order.status),
                                                 "total_satang": order.total_satang},
            "customer": None if customer is None else {"display_name": customer.display_name,
                                                       "line_user_id": customer.line_user_id},
            "decidable": check.outcome in UNDECIDED}


def slip_image(session: Session, slip_check_id: int) -> Media | None:
    media_id = session.scalar(select(SlipCheck.media_id).where(SlipCheck.id == slip_check_id))
    return session.get(Media, media_id) if media_id is not None else None


def _undecided_check(session: Session, *, slip_check_id: int | None, order_number: str | None) -> SlipCheck:
    if slip_check_id is not None:
        check = session.get(SlipCheck, slip_check_id)
        if check is None:
            raise ShopError("slip_not_found", f"ไม่พบสลิปหมายเลข {slip_check_id}")
    else:
        number = normalise_number(order_number or "")
        order_id = session.scalar(select(Order.id).where(Order.number == number))
        if order_id is None:
            raise ShopError("order_not_found", f"ไม่พบคำสั่งซื้อเลขที่ {number or '-'}")
        check = session.scalar(select(SlipCheck).where(SlipCheck.order_id == order_id,
                                                       SlipCheck.outcome.in_(UNDECIDED))
                               .order_by(SlipCheck.created_at.desc(), SlipCheck.id.desc()).limit(1))
        if check is None:
            raise ShopError("no_slip_to_review", f"คำสั่งซื้อ {number} ไม่มีสลิปที่รอตรวจ")
    if check.outcome not in UNDECIDED:
        raise ShopError("slip_decided", f"สลิปหมายเลข {check.id} ตัดสินไปแล้ว ({check.outcome})")
    return check


def _claim(session: Session, check: SlipCheck, outcome: SlipOutcome, reason: str, note: str,
           now: datetime) -> None:
    """Decide the check only if nobody (staff or the retry loop) decided it meanwhile."""
    done = session.execute(update(SlipCheck).where(SlipCheck.id == check.id, SlipCheck.outcome.in_(UNDECIDED))
                           .values(outcome=outcome.value, reason=reason, note=note[:2000], decided_at=now,
                                   next_attempt_at=None).execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise ShopError("slip_decided", f"สลิปหมายเลข {check.id} เพิ่งถูกตัดสินไปแล้ว")


def approve(db: Database, actor: audit.Actor, messages: CustomerMessages, *, slip_check_id: int | None = None,
            order_number: str | None = None, now: datetime | None = None) -> dict:
    """Accept the slip as payment of its order in full. Returns the paid order (`order_json`)."""
    now = now or datetime.now(UTC)
    try:
        with db.session() as session:
            check = _undecided_check(session, slip_check_id=slip_check_id, order_number=order_number)
            order = session.get(Order, check.order_id, with_for_update=True) if check.order_id else None
            if order is None:
                raise ShopError("no_order", "สลิปนี้ไม่ได้ผูกกับคำสั่งซื้อ จึงอนุมัติไม่ได้ "
                                            "กรุณาปฏิเสธพร้อมแจ้งลูกค้า หรือให้ลูกค้าสั่งซื้อใหม่")
            if order.status not in PAYABLE:
                raise ShopError("order_not_payable", f"คำสั่งซื้อ {order.number} อยู่ในสถานะ "
                                                     f"“{STATUS_TH.get(order.status, order.status)}” จึงอนุมัติไม่ได้")
            before = {"order_status": order.status, "slip_outcome": check.outcome}
            _claim(session, check, SlipOutcome.PAID, "", _note(check.note, f"approved by {actor.name}"), now)
            session.add(Payment(order_id=order.id, slip_check_id=check.id, amount_satang=order.total_satang,
                                sending_bank=check.sending_bank or "",
                                trans_ref=check.trans_ref or f"staff-{check.id}", paid_at=now))
            order.status, order.paid_at = OrderStatus.PAID.value, now
            session.flush()  # the payment's unique keys fire here
            audit.record(session, actor, "slip.approve", "order", order.number, before,
                         {"order_status": order.status, "slip_outcome": SlipOutcome.PAID.value},
                         f"slip {check.id}")
            session.refresh(order)
            data = order_json(order)
            pushed = messages("payment_approved", data)
            if pushed:
                notifications.add(session, key=f"slip-approved-{check.id}", messages=pushed,
                                  customer_id=order.customer_id)
            return data
    except IntegrityError:
        raise ShopError("slip_used", "สลิปนี้ (ธนาคารและเลขอ้างอิงเดียวกัน) เคยใช้ชำระคำสั่งซื้ออื่นแล้ว "
                                     "จึงอนุมัติซ้ำไม่ได้") from None


def reject(db: Database, actor: audit.Actor, messages: CustomerMessages, reason: str, *,
           slip_check_id: int | None = None, order_number: str | None = None, pay_within_minutes: int = 60,
           now: datetime | None = None) -> dict:
    """Refuse the slip with a reason the customer reads. The order (if it was waiting on this slip)
    waits for payment again, with at least `pay_within_minutes` left to pay. Returns the slip."""
    now = now or datetime.now(UTC)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ShopError("missing_reason", "กรุณากรอกเหตุผลที่ปฏิเสธ (ลูกค้าจะได้รับข้อความนี้)")
    if len(reason) > MAX_REASON:
        raise ShopError("too_long", f"เหตุผลยาวเกิน {MAX_REASON} ตัวอักษร")
    with db.session() as session:
        check = _undecided_check(session, slip_check_id=slip_check_id, order_number=order_number)
        order = session.get(Order, check.order_id, with_for_update=True) if check.order_id else None
        before = {"slip_outcome": check.outcome, "order_status": order.status if order else None}
        _claim(session, check, SlipOutcome.REJECTED, "staff_rejected", _note(check.note, reason), now)
        if order is not None and order.status in (OrderStatus.AWAITING_PAYMENT.value, OrderStatus.NEEDS_REVIEW.value,
                                                  OrderStatus.PAYMENT_PENDING.value):
            # the customer gets time to pay again after staff turned a slip down
            order.status = OrderStatus.AWAITING_PAYMENT.value
            order.expires_at = max(order.expires_at, now + timedelta(minutes=pay_within_minutes))
        audit.record(session, actor, "slip.reject", "order" if order else "slip",
                     order.number if order else str(check.id), before,
                     {"slip_outcome": SlipOutcome.REJECTED.value, "order_status": order.status if order else None},
                     reason)
        data = order_json(order) if order is not None else {"number": "", "status": "", "items": []}
        pushed = messages("slip_rejected", data, reason=reason)
        if pushed and check.customer_id is not None:
            notifications.add(session, key=f"slip-rejected-{check.id}", messages=pushed,
                              customer_id=check.customer_id)
        return {"id": check.id, "order": data if order is not None else None}


def _note(existing: str, line: str) -> str:
    return f"{existing}\n{line}".strip() if existing else line
