"""What the shop owes customers outside a reply, stored in the `notifications` table.

`queue` stores the messages under a key (storing the same key twice keeps the first); `add` does the
same inside the caller's transaction, so a status change and the message it owes commit together. A
notification goes to a customer (`customer_id`) or to an explicit LINE chat (`target`, e.g. the staff
group). The edge's `webhooks.notifications.send_due` pushes them. Staff see what LINE refused for good
with `undelivered`.
"""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop.db import Database
from shop.models import Notification


def add(session: Session, *, key: str, messages: list[dict], customer_id: int | None = None,
        target: str = "") -> None:
    """Store a notification in the caller's transaction (a duplicate key fails that transaction)."""
    if (customer_id is None) == (not target):
        raise ValueError("a notification goes to a customer_id or to a target chat, exactly one")
    session.add(Notification(customer_id=customer_id, target=target, key=key,
                             messages=json.dumps(messages, ensure_ascii=False)))


def queue(db: Database, customer_id: int, key: str, messages: list[dict]) -> None:
    try:
        with db.session() as session:
            add(session, key=key, messages=messages, customer_id=customer_id)
    except IntegrityError:  # already queued (another process, or an earlier round)
        pass


def undelivered(db: Database) -> list[str]:
    """Keys of notifications given up on, for staff (`salesbot worker status`)."""
    with db.session() as session:
        return list(session.scalars(select(Notification.key).where(Notification.given_up_at.is_not(None))
                                    .order_by(Notification.id)))
