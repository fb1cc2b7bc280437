"""Pushing what the shop owes customers outside a reply, from the `notifications` table.

`queue` stores the messages under a key (storing the same key twice keeps the first); `send_due` pushes
every unsent one with retry keys derived from that key, so a push LINE already accepted answers 409
instead of arriving twice, and a failed push is tried again next round.
"""
from __future__ import annotations

import json
import logging
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.db import Database
from bot.line_api import LineApi, LineApiError, checked_messages
from bot.line_limits import prepare_batches
from bot.models import Customer, Notification
from bot.models.base import utcnow
from bot.settings import Settings

log = logging.getLogger(__name__)
RETRY_KEYS = uuid.UUID("6f1d9b1e-5d55-4d7e-9a3e-1b7c5d2f8a10")  # namespace for stable push retry keys
MAX_ATTEMPTS = 10


def retry_key(key: str, batch: int) -> str:
    return str(uuid.uuid5(RETRY_KEYS, f"{key}-{batch}"))


def queue(db: Database, customer_id: int, key: str, messages: list[dict]) -> None:
    try:
        with db.session() as session:
            session.add(Notification(customer_id=customer_id, key=key, messages=json.dumps(messages, ensure_ascii=False)))
    except IntegrityError:  # already queued (another process, or an earlier round)
        pass


def send_due(db: Database, settings: Settings, line: LineApi, limit: int = 50) -> tuple[int, int]:
    """Push unsent notifications; returns (sent, not sent this round)."""
    with db.session() as session:
        due = session.execute(
            select(Notification.id, Notification.key, Notification.messages, Customer.line_user_id)
            .join(Customer, Customer.id == Notification.customer_id)
            .where(Notification.sent_at.is_(None), Notification.given_up_at.is_(None))
            .order_by(Notification.id).limit(limit)).all()
    sent = failed = 0
    for notification_id, key, messages, user_id in due:
        batches = prepare_batches(json.loads(messages), allow_http_images=not settings.production,
                                  validate=checked_messages)
        try:
            for number, batch in enumerate(batches):
                line.push(user_id, batch, retry_key=retry_key(key, number))
        except LineApiError as error:
            failed += 1
            _failed(db, notification_id, error)
            continue
        with db.session() as session:
            session.get(Notification, notification_id).sent_at = utcnow()
        sent += 1
    return sent, failed


def _failed(db: Database, notification_id: int, error: LineApiError) -> None:
    with db.session() as session:
        row = session.get(Notification, notification_id)
        row.attempts += 1
        row.last_error = str(error)[:1000]
        if not error.retryable or row.attempts >= MAX_ATTEMPTS:
            row.given_up_at = utcnow()
            log.error("notification %s (%s) given up after %d attempt(s): %s", row.id, row.key, row.attempts, error)
        else:
            log.warning("notification %s (%s) not sent, will retry: %s", row.id, row.key, error)


def undelivered(db: Database) -> list[str]:
    """Keys of notifications given up on, for staff (`salesbot worker status`)."""
    with db.session() as session:
        return list(session.scalars(select(Notification.key).where(Notification.given_up_at.is_not(None))
                                    .order_by(Notification.id)))
