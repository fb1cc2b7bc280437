"""Pushing the notifications the shop queued (`shop.notifications`), to customers and to the staff chat.

`send_due` pushes every unsent one with retry keys derived from its key, so a push LINE already
accepted answers 409 instead of arriving twice, and a failed push is tried again next round.
"""
from __future__ import annotations

import json
import logging
import uuid

from sqlalchemy import func, select

from shop.db import Database
from shop.models import Customer, Notification
from shop.models.base import utcnow
from shop.settings import Settings
from webhooks.line_api import LineApi, LineApiError, checked_messages
from webhooks.line_limits import prepare_batches

log = logging.getLogger(__name__)
RETRY_KEYS = uuid.UUID("6f1d9b1e-5d55-4d7e-9a3e-1b7c5d2f8a10")  # namespace for stable push retry keys
MAX_ATTEMPTS = 10


def retry_key(key: str, batch: int) -> str:
    return str(uuid.uuid5(RETRY_KEYS, f"{key}-{batch}"))


def send_due(db: Database, settings: Settings, line: LineApi, limit: int = 50) -> tuple[int, int]:
    """Push unsent notifications; returns (sent, not sent this round)."""
    with db.session() as session:
        due = session.execute(
            select(Notification.id, Notification.key, Notification.messages,
                   func.coalesce(Customer.line_user_id, Notification.target))
            .outerjoin(Customer, Customer.id == Notification.customer_id)
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


