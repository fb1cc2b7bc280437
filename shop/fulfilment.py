"""What staff do with a paid order: pack it, ship it with a carrier and tracking number, mark it
delivered or picked up; or cancel an order with a reason (its stock goes back on sale).

Each step is one transaction: a conditional status change (so two staff clicking at once cannot both
win), the audit entry, and the message owed to the customer stored in the notifications outbox (sent
once by housekeeping, retried while LINE is down). The messages themselves are built by the caller's
`CustomerMessages` (the application layer owns the customer-facing Flex and Thai wording).

    awaiting_payment → payment_pending / needs_review → paid → packed → shipped → delivered
                                                          paid/packed → picked_up (pickup orders)
    awaiting_payment, payment_pending, needs_review, paid, packed → cancelled (stock back)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from shop import audit, notifications
from shop.db import Database
from shop.errors import ShopError
from shop.models import Order, OrderStatus, SlipCheck, SlipOutcome
from shop.orders import STATUS_TH, normalise_number, order_json, release_stock

S = OrderStatus
MAX_REASON = 500
MAX_CARRIER = 80
MAX_TRACKING = 80


class CustomerMessages(Protocol):
    """Builds the LINE messages a customer gets for `event` about `order` (an `order_json` dict):
    payment_approved, slip_rejected, packed, shipped, delivered, picked_up, cancelled. [] sends nothing."""

    def __call__(self, event: str, order: dict, *, reason: str = "") -> list[dict]: ...


@dataclass(frozen=True)
class Step:
    action: str                 # audit action suffix and form name
    label_th: str               # the button staff press
    to: OrderStatus
    from_: frozenset[str]
    fulfilment: str | None = None   # only for pickup or only for delivery orders
    stamp: str | None = None        # the timestamp column it sets


STEPS = {step.action: step for step in [
    Step("pack", "แพ็กแล้ว", S.PACKED, frozenset({S.PAID.value}), stamp="packed_at"),
    Step("ship", "จัดส่งแล้ว", S.SHIPPED, frozenset({S.PAID.value, S.PACKED.value}), "delivery", "shipped_at"),
    Step("deliver", "ลูกค้าได้รับแล้ว", S.DELIVERED, frozenset({S.SHIPPED.value}), "delivery", "fulfilled_at"),
    Step("pick_up", "ลูกค้ารับที่ร้านแล้ว", S.PICKED_UP, frozenset({S.PAID.value, S.PACKED.value}), "pickup",
         "fulfilled_at"),
    Step("cancel", "ยกเลิกคำสั่งซื้อ", S.CANCELLED,
         frozenset({S.AWAITING_PAYMENT.value, S.PAYMENT_PENDING.value, S.NEEDS_REVIEW.value, S.PAID.value,
                    S.PACKED.value}), stamp="closed_at"),
]}
CUSTOMER_EVENT = {"pack": "packed", "ship": "shipped", "deliver": "delivered", "pick_up": "picked_up",
                  "cancel": "cancelled"}


def next_steps(order: Order) -> list[Step]:
    """The steps staff may take on this order now (the back office shows one form each)."""
    return [step for step in STEPS.values()
            if order.status in step.from_ and step.fulfilment in (None, order.fulfilment)]


def _text(value: str, limit: int, name_th: str, *, required: bool = True) -> str:
    value = " ".join((value or "").split())
    if required and not value:
        raise ShopError("missing_" + name_th, f"กรุณากรอก{name_th}")
    if len(value) > limit:
        raise ShopError("too_long", f"{name_th}ยาวเกิน {limit} ตัวอักษร")
    return value


def _order_for_update(session: Session, number: str) -> Order:
    order = session.scalar(select(Order).options(selectinload(Order.items))
                           .where(Order.number == normalise_number(number)))
    if order is None:
        raise ShopError("order_not_found", f"ไม่พบคำสั่งซื้อเลขที่ {normalise_number(number) or '-'}")
    return order


def advance(db: Database, actor: audit.Actor, number: str, action: str, messages: CustomerMessages, *,
            carrier: str = "", tracking_number: str = "", reason: str = "",
            now: datetime | None = None) -> dict:
    """Take step `action` (pack, ship, deliver, pick_up, cancel) on order `number`; returns the order
    as `order_json` after the change. ShopError (Thai message for staff) when the step is not allowed."""
    step = STEPS.get(action)
    if step is None:
        raise ShopError("unknown_step", f"ไม่รู้จักขั้นตอน {action}")
    now = now or datetime.now(UTC)
    changes: dict = {"status": step.to.value}
    if step.stamp:
        changes[step.stamp] = now
    if action == "ship":
        changes["carrier"] = _text(carrier, MAX_CARRIER, "ชื่อขนส่ง")
        changes["tracking_number"] = _text(tracking_number, MAX_TRACKING, "เลขพัสดุ")
    if action == "cancel":
        changes["cancel_reason"] = _text(reason, MAX_REASON, "เหตุผลที่ยกเลิก")
    with db.session() as session:
        order = _order_for_update(session, number)
        if step.fulfilment not in (None, order.fulfilment):
            kind = "จัดส่ง" if step.fulfilment == "delivery" else "รับที่ร้าน"
            raise ShopError("wrong_fulfilment", f"ขั้นตอน “{step.label_th}” ใช้ได้เฉพาะคำสั่งซื้อแบบ{kind}")
        before = {"status": order.status, **{k: _plain(getattr(order, k)) for k in changes if k != "status"}}
        done = session.execute(update(Order).where(Order.id == order.id, Order.status.in_(step.from_))
                               .values(**changes).execution_options(synchronize_session=False)).rowcount
        if done != 1:
            session.refresh(order)
            raise ShopError("step_not_allowed", f"คำสั่งซื้อ {order.number} อยู่ในสถานะ "
                                                f"“{STATUS_TH.get(order.status, order.status)}” "
                                                f"จึงทำขั้นตอน “{step.label_th}” ไม่ได้")
        if action == "cancel":
            release_stock(session, order)
            # a slip still being checked for it goes to staff instead of paying a cancelled order
            session.execute(update(SlipCheck).where(SlipCheck.order_id == order.id,
                                                    SlipCheck.outcome == SlipOutcome.PENDING.value)
                            .values(outcome=SlipOutcome.NEEDS_REVIEW.value, reason="order_closed", decided_at=now,
                                    next_attempt_at=None).execution_options(synchronize_session=False))
        session.refresh(order)
        audit.record(session, actor, f"order.{action}", "order", order.number, before,
                     {k: _plain(v) for k, v in changes.items()})
        data = order_json(order)
        pushed = messages(CUSTOMER_EVENT[action], data, reason=changes.get("cancel_reason", ""))
        if pushed:
            notifications.add(session, key=f"order-{action}-{order.id}", messages=pushed,
                              customer_id=order.customer_id)
    return data


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value
