"""Customers are LINE users: one row per LINE user id, created the first time they write or follow."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop.models.base import utcnow
from shop.models.customers import Customer


def get_or_create_customer(session: Session, line_user_id: str, display_name: str = "") -> Customer:
    """The customer for `line_user_id`, created when new. Safe when two workers race on a first message."""
    line_user_id = (line_user_id or "").strip()
    if not line_user_id:
        raise ValueError("a LINE user id is required")
    customer = session.scalar(select(Customer).where(Customer.line_user_id == line_user_id))
    if customer is None:
        try:
            with session.begin_nested():  # savepoint: a lost race must not undo the caller's work
                customer = Customer(line_user_id=line_user_id, display_name=display_name, state={})
                session.add(customer)
        except IntegrityError:
            customer = session.scalar(select(Customer).where(Customer.line_user_id == line_user_id))
            if customer is None:  # pragma: no cover - the other insert rolled back
                raise
    if display_name and customer.display_name != display_name:
        customer.display_name = display_name
    customer.last_seen_at = utcnow()
    return customer


def find_customer(session: Session, line_user_id: str) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.line_user_id == line_user_id))
