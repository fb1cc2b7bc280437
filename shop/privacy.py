"""Personal data kept only as long as needed (Thailand's PDPA).

`forget_customer` erases one customer's personal data on request and keeps what the shop must keep for
its accounts: order numbers, dates, statuses, items, amounts and the payment's slip reference (which
also stops the same slip from paying twice). `purge_expired` is run by housekeeping: customer photos
(slips), delivery names, phones and addresses of settled orders, chat lines and finished webhook events
older than RETENTION_DAYS are deleted.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shop.models import Cart, ChatMessage, Customer, Media, Notification, Order, SlipCheck
from shop.models.base import utcnow
from shop.models.customers import StaffRequest
from shop.models.inbox import InboxEvent, InboxStatus
from shop.models.orders import OrderStatus

OPEN_STATUSES = (OrderStatus.AWAITING_PAYMENT.value, OrderStatus.PAYMENT_PENDING.value,
                 OrderStatus.NEEDS_REVIEW.value)
CUSTOMER_IMAGE = "customer_image"
FINISHED_EVENTS = (InboxStatus.DONE.value, InboxStatus.SKIPPED.value, InboxStatus.FAILED.value)


@dataclass
class Erased:
    orders: int = 0
    images: int = 0
    chat_lines: int = 0

    def summary(self) -> str:
        return f"{self.orders} order address(es), {self.images} photo(s), {self.chat_lines} chat line(s) erased"


def _blank_addresses(session: Session, orders) -> int:
    result = session.execute(update(Order).where(Order.id.in_(orders), Order.ship_address != "")
                             .values(ship_name="", ship_phone="", ship_address=""))
    return result.rowcount or 0


def _customer_images(session: Session, which) -> int:
    media_ids = list(session.scalars(which))  # before the slip checks stop pointing at them
    if not media_ids:
        return 0
    session.execute(update(SlipCheck).where(SlipCheck.media_id.in_(media_ids)).values(media_id=None))
    result = session.execute(delete(Media).where(Media.id.in_(media_ids), Media.kind == CUSTOMER_IMAGE))
    return result.rowcount or 0


def forget_customer(session: Session, line_user_id: str) -> Erased | None:
    """Erase one customer's personal data; None when there is no such customer."""
    customer = session.scalar(select(Customer).where(Customer.line_user_id == line_user_id))
    if customer is None:
        return None
    erased = Erased()
    orders = select(Order.id).where(Order.customer_id == customer.id)
    erased.orders = _blank_addresses(session, orders)
    slip_media = select(SlipCheck.media_id).where(SlipCheck.customer_id == customer.id, SlipCheck.media_id.is_not(None))
    erased.images = _customer_images(session, slip_media)
    # the sender's name and account come back in the provider's answer: the outcome and reference stay
    session.execute(update(SlipCheck).where(SlipCheck.customer_id == customer.id)
                    .values(provider_raw=None, qr_payload="", note=""))
    erased.chat_lines = session.execute(delete(ChatMessage).where(ChatMessage.customer_id == customer.id)).rowcount or 0
    for model in (Notification, StaffRequest, Cart):
        session.execute(delete(model).where(model.customer_id == customer.id))
    session.execute(delete(InboxEvent).where(InboxEvent.chat_id == line_user_id,
                                             InboxEvent.status.in_(FINISHED_EVENTS)))
    tombstone = "forgotten-" + hashlib.sha256(line_user_id.encode()).hexdigest()[:24]
    customer.line_user_id, customer.display_name, customer.profile_fetched_at = tombstone, "", None
    customer.ship_name = customer.ship_phone = customer.ship_address = ""
    customer.state = {}
    return erased


def purge_expired(session: Session, retention_days: int, now: datetime | None = None) -> Erased:
    """Delete what is older than the retention period and no longer needed (see the module docstring)."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    erased = Erased()
    settled = select(Order.id).where(Order.created_at < cutoff, Order.status.not_in(OPEN_STATUSES))
    erased.orders = _blank_addresses(session, settled)
    open_orders = select(Order.id).where(Order.status.in_(OPEN_STATUSES))
    still_needed = select(SlipCheck.media_id).where(SlipCheck.order_id.in_(open_orders),
                                                    SlipCheck.media_id.is_not(None))
    old_photos = select(Media.id).where(Media.kind == CUSTOMER_IMAGE, Media.created_at < cutoff,
                                        Media.id.not_in(still_needed))
    erased.images = _customer_images(session, old_photos)
    erased.chat_lines = session.execute(delete(ChatMessage).where(ChatMessage.created_at < cutoff)).rowcount or 0
    # the webhook inbox keeps each event's raw JSON (the customer's words): finished ones go too
    session.execute(delete(InboxEvent).where(InboxEvent.received_at < cutoff, InboxEvent.status.in_(FINISHED_EVENTS)))
    return erased
