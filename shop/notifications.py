"""What the shop owes customers outside a reply, stored in the `notifications` table.

`queue` stores the messages under a key (storing the same key twice keeps the first); the edge's
`webhooks.notifications.send_due` pushes them. Staff see what LINE refused for good with `undelivered`.
"""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shop.db import Database
from shop.models import Notification


def queue(db: Database, customer_id: int, key: str, messages: list[dict]) -> None:
    try:
        with db.session() as session:
            session.add(Notification(customer_id=customer_id, key=key, messages=json.dumps(messages, ensure_ascii=False)))
    except IntegrityError:  # already queued (another process, or an earlier round)
        pass


def undelivered(db: Database) -> list[str]:
    """Keys of notifications given up on, for staff (`salesbot worker status`)."""
    with db.session() as session:
        return list(session.scalars(select(Notification.key).where(Notification.given_up_at.is_not(None))
                                    .order_by(Notification.id)))
