"""Periodic work the workers do besides answering events: expire unpaid orders (their stock goes back
on sale), re-check slips whose provider was unreachable, telling each customer the outcome, queue
the staff's LINE alerts (all through the notifications table, so a failed push is tried again next
round), and forget the records of turns too old to be retried. `PushSoon` sends that table at once
when staff have just queued something for a customer."""
from __future__ import annotations

import logging
import threading
from datetime import datetime

from agent.offline import phrases
from bot.replies.messages import text as message_text
from bot.replies.messages import with_quick_replies
from bot.slip_replies import slip_messages
from bot.turn_steps import forget_old_steps
from shop import notifications, staff_alerts
from shop.db import Database
from shop.handoff import close_timed_out
from shop.metrics import SLIP_OUTCOMES
from shop.models import Order
from shop.money import format_baht
from shop.orders import expire_unpaid_orders
from shop.privacy import purge_expired
from shop.settings import Settings
from webhooks.line_api import LineApi
from webhooks.notifications import send_due

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 60.0


def run_once(db: Database, settings: Settings, line: LineApi, now: datetime | None = None) -> dict:
    """One round; safe to run in several processes at once (each step claims its rows, and a
    notification is stored once under its key and pushed with stable retry keys)."""
    from payments.checks import retry_pending_slips

    with db.session() as session:
        purged = purge_expired(session, settings.retention_days, now)
    if purged.orders or purged.images or purged.chat_lines:
        log.info("housekeeping: retention (%d days): %s", settings.retention_days, purged.summary())
    handed_back = close_timed_out(db, settings.handoff_timeout_minutes, now)
    expired = expire_unpaid_orders(db, settings, now)
    for order_id in expired:
        _tell_expired(db, order_id)
    for result in retry_pending_slips(db, settings, now):
        if result.outcome != "pending":
            SLIP_OUTCOMES.labels(result.outcome, result.reason or "").inc()
        if result.outcome != "pending" and result.customer_id is not None:
            notifications.queue(db, result.customer_id, f"slip-check-{result.slip_check_id}",
                                slip_messages(db, result))
    staff_alerts.queue_due(db, settings, now)
    sent, unsent = send_due(db, settings, line)
    forget_old_steps(db, now)
    if expired or sent or unsent or handed_back:
        log.info("housekeeping: %d unpaid order(s) expired, %d handoff(s) timed out, %d notification(s) sent, "
                 "%d not sent", len(expired), handed_back, sent, unsent)
    return {"expired_orders": len(expired), "notifications_sent": sent, "notifications_unsent": unsent}


def _tell_expired(db: Database, order_id: int) -> None:
    with db.session() as session:
        order = session.get(Order, order_id)
        customer_id, text = order.customer_id, phrases.ORDER_EXPIRED.format(
            number=order.number, total=format_baht(order.total_satang))
    notifications.queue(db, customer_id, f"order-expired-{order_id}",
                        with_quick_replies([message_text(text)], phrases.MAIN_MENU))


class Housekeeper:
    """A daemon thread running `run_once` every `interval` seconds until stopped."""

    def __init__(self, db: Database, settings: Settings, line: LineApi, interval: float = INTERVAL_SECONDS):
        self.db, self.settings, self.line, self.interval = db, settings, line, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="housekeeping", daemon=True)

    def start(self) -> Housekeeper:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                run_once(self.db, self.settings, self.line)
            except Exception:  # the database or LINE may be down: try again next round
                log.exception("housekeeping round failed; trying again in %.0f s", self.interval)

    def stop(self) -> None:
        self._stop.set()


class PushSoon:
    """Send the notifications outbox now, in a background thread, instead of at the next round (the
    back office calls it after staff approve a slip or ship an order). Calls while a send runs are
    folded into one more send. Safe beside housekeeping: a notification pushed twice carries the same
    retry key, and LINE accepts it once."""

    def __init__(self, db: Database, settings: Settings, line_factory=None):
        self.db, self.settings = db, settings
        self._line_factory = line_factory or (lambda: LineApi(settings))
        self._lock = threading.Lock()
        self._again = threading.Event()
        self._running = False

    def __call__(self) -> None:
        with self._lock:
            self._again.set()
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._run, name="push-soon", daemon=True).start()

    def _run(self) -> None:
        line = self._line_factory()
        try:
            while True:
                with self._lock:
                    if not self._again.is_set():
                        self._running = False
                        return
                    self._again.clear()
                try:
                    staff_alerts.queue_due(self.db, self.settings)  # e.g. the paid order a slip approval made
                    send_due(self.db, self.settings, line)
                except Exception:  # the next housekeeping round sends what this one could not
                    log.exception("sending notifications now failed; housekeeping will retry")
        finally:
            line.close()
