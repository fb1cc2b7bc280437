"""Processing one inbox event: loading animation, customer image, the turn, then sending.

The turn is a parameter (the application hands in `bot.turn.run_turn`) so tests and benchmarks can hand in a
slow, failing or crashing one. The edge knows nothing of agents: it passes the event as LINE sent it
and sends back what the turn returns.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError

from shop.db import Database
from shop.media import customer_image, store_customer_image
from shop.models.inbox import InboxEvent
from shop.settings import Settings
from webhooks import inbox
from webhooks.line_api import ContentError, LineApi, LineApiError, checked_messages
from webhooks.line_limits import prepare_batches
from webhooks.log_context import event_context
from webhooks.outbox import LeaseLost, batches_of, deliver, record_batches, reply_token_fresh

log = logging.getLogger(__name__)

TurnFunction = Callable[[Database, Settings, dict], list[dict]]

# Sent once when a turn keeps failing, so the customer is not left in silence.
APOLOGY = "ขออภัยค่ะ ตอนนี้ระบบของทางร้านขัดข้องชั่วคราว รบกวนส่งข้อความมาอีกครั้งในอีกสักครู่นะคะ"
LOADING_EVENT_TYPES = {"message", "postback"}
RELEASE_RETRY_FIRST_SECONDS, RELEASE_RETRY_MAX_SECONDS = 0.25, 4.0
T = TypeVar("T")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """One worker (a thread or an RQ job runner). Each has its own name: leases are per worker."""

    def __init__(self, db: Database, settings: Settings, turn: TurnFunction, line: LineApi,
                 name: str | None = None):
        self.db, self.settings, self.turn, self.line = db, settings, turn, line
        self.name = name or worker_name()

    def drain(self, chat_id: str | None = None, stop: threading.Event | None = None) -> int:
        """Process events until none can be claimed now; returns how many were handled."""
        handled = 0
        while (stop is None or not stop.is_set()) and self.process_next(chat_id):
            handled += 1
        return handled

    def process_next(self, chat_id: str | None = None) -> bool:
        """Claim and handle one event; False when none can be claimed now."""
        row = inbox.claim_next(self.db, self.name, lease_seconds=self.settings.inbox_lease_seconds,
                               max_attempts=self.settings.inbox_max_attempts, chat_id=chat_id)
        if row is None:
            return False
        self.handle(row)
        return True

    def handle(self, row: InboxEvent) -> str:
        """Run one claimed event to its end; returns the status it was left in."""
        with event_context(row.webhook_event_id, row.chat_id):
            return self._handle(row)

    def _handle(self, row: InboxEvent) -> str:
        event = json.loads(row.body)
        lease = self.settings.inbox_lease_seconds
        try:
            recorded_now = False
            if not batches_of(self.db, row.id):  # a retry after the answer was recorded only resends
                self._start_loading_animation(event)
                self._mark_as_read(event)
                self._keep_customer_image(row, event)
                messages = self.turn(self.db, self.settings, event)
                if not isinstance(messages, list):
                    raise TypeError(f"the turn returned {type(messages).__name__}, not a list of messages")
                batches = prepare_batches(messages, allow_http_images=not self.settings.production,
                                          validate=checked_messages)
                recorded_now = record_batches(self.db, row.id, self.name, lease, batches,
                                              reply_first=reply_token_fresh(event))
            outcomes = deliver(self.db, self.line, event_id=row.id, event=event, owner=self.name,
                               lease_seconds=lease, recorded_now=recorded_now)
        except LeaseLost:
            log.warning("inbox event %s: lease lost to another worker; stopped without sending", row.id)
            return "lost"
        except LineApiError as error:
            message = str(error)
            if error.retryable:
                return self._once_the_database_answers(lambda: inbox.retry_later(
                    self.db, row.id, self.name, message, max_attempts=self.settings.inbox_max_attempts))
            log.error("inbox event %s failed: %s", row.id, message)
            self._once_the_database_answers(lambda: inbox.finish(self.db, row.id, self.name, inbox.FAILED, message))
            return inbox.FAILED
        except Exception as error:  # the turn (or the database) failed: bounded retries
            log.exception("inbox event %s: attempt %d failed", row.id, row.attempts)
            reason = f"{type(error).__name__}: {error}"
            if row.attempts >= self.settings.inbox_max_attempts and self._apologise(row, event, reason):
                return inbox.FAILED
            return self._once_the_database_answers(lambda: inbox.retry_later(
                self.db, row.id, self.name, reason, max_attempts=self.settings.inbox_max_attempts))
        log.info("inbox event %s done (%s)", row.id, ", ".join(outcomes) or "nothing to send")
        return inbox.DONE

    def _once_the_database_answers(self, release: Callable[[], T]) -> T:
        """Give the event back (or close it) even when the database is down at that moment: try again
        until it answers, within the lease. Otherwise the chat would wait out the whole lease
        (`INBOX_LEASE_SECONDS`, 2 minutes) after an outage of a few seconds."""
        give_up_at = time.monotonic() + self.settings.inbox_lease_seconds
        delay = RELEASE_RETRY_FIRST_SECONDS
        while True:
            try:
                return release()
            except SQLAlchemyError as error:
                if time.monotonic() + delay >= give_up_at:
                    raise
                log.warning("database unavailable (%s); releasing the event again in %.1f s", type(error).__name__,
                            delay)
                time.sleep(delay)
                delay = min(delay * 2, RELEASE_RETRY_MAX_SECONDS)

    def _start_loading_animation(self, event: dict) -> None:
        source = event.get("source") or {}
        if event.get("type") in LOADING_EVENT_TYPES and source.get("type") == "user" and source.get("userId"):
            self.line.show_loading_animation(source["userId"])

    def _mark_as_read(self, event: dict) -> None:
        """The customer sees "read" on their message once a worker takes it (best effort)."""
        message = event.get("message") if isinstance(event.get("message"), dict) else {}
        token = message.get("markAsReadToken")
        if event.get("type") == "message" and isinstance(token, str) and token:
            self.line.mark_as_read(token)

    def _keep_customer_image(self, row: InboxEvent, event: dict) -> None:
        """Fetch a customer's photo now (LINE deletes content after a while) and keep it for the turn.
        A failure is recorded on the event; the turn finds no image and asks for it again."""
        message = event.get("message") if isinstance(event.get("message"), dict) else {}
        provider = message.get("contentProvider") if isinstance(message.get("contentProvider"), dict) else {}
        message_id = message.get("id")
        if (event.get("type") != "message" or message.get("type") != "image" or provider.get("type") != "line"
                or not isinstance(message_id, str) or not message_id):
            return
        with self.db.session() as session:
            if customer_image(session, message_id) is not None:
                return
        try:
            content = self.line.get_content(message_id, max_bytes=self.settings.customer_image_max_bytes)
        except ContentError as error:
            log.warning("inbox event %s: customer image %s not kept: %s", row.id, message_id, error)
            inbox.record_content_error(self.db, row.id, str(error))
            return
        with self.db.session() as session:
            store_customer_image(session, message_id, content.data, content.content_type)

    def _apologise(self, row: InboxEvent, event: dict, reason: str) -> bool:
        """Last attempt failed: tell the customer (best effort) instead of leaving them in silence,
        and close the event as failed. Returns False when nothing was sent (the caller closes it)."""
        if (event.get("source") or {}).get("type") != "user" or batches_of(self.db, row.id):
            return False
        try:
            lease = self.settings.inbox_lease_seconds
            recorded = record_batches(self.db, row.id, self.name, lease, [[{"type": "text", "text": APOLOGY}]],
                                      reply_first=reply_token_fresh(event))
            deliver(self.db, self.line, event_id=row.id, event=event, owner=self.name, lease_seconds=lease,
                    recorded_now=recorded, close_status=inbox.FAILED, close_error=reason)
        except Exception:
            log.exception("inbox event %s: could not send the apology", row.id)
            return False
        log.error("inbox event %s failed after %d attempts: %s", row.id, row.attempts, reason)
        return True
