"""Periodic work the workers do besides answering events: expire unpaid orders (their stock goes back
on sale) and re-check slips whose provider was unreachable, telling each customer the outcome (through
the notifications table, so a failed push is tried again next round), and forget the records of turns
too old to be retried."""
from __future__ import annotations

import logging
import threading
from datetime import datetime

from agent.offline import phrases
from bot.replies.messages import text as message_text
from bot.replies.messages import with_quick_replies
from bot.slip_replies import slip_messages
from bot.turn_steps import forget_old_steps
from shop import notifications
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
