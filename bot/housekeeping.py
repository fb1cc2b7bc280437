"""Periodic work the workers do besides answering events: expire unpaid orders (their stock goes back
on sale) and re-check slips whose provider was unreachable, telling each customer the outcome."""
from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime

from bot.db import Database
from bot.line_api import LineApi, LineApiError, checked_messages
from bot.line_limits import prepare_batches
from bot.models import Customer
from bot.settings import Settings
from bot.shop.orders import expire_unpaid_orders
from bot.slip_replies import slip_messages

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 60.0
RETRY_KEYS = uuid.UUID("6f1d9b1e-5d55-4d7e-9a3e-1b7c5d2f8a10")  # namespace for stable push retry keys


def run_once(db: Database, settings: Settings, line: LineApi, now: datetime | None = None) -> dict:
    """One round; safe to run in several processes at once (each step claims its rows)."""
    from payments.checks import retry_pending_slips

    expired = expire_unpaid_orders(db, settings, now)
    told = unsent = 0
    for result in retry_pending_slips(db, settings, now):
        if result.outcome == "pending" or result.customer_id is None:
            continue
        with db.session() as session:
            customer = session.get(Customer, result.customer_id)
            user_id = customer.line_user_id if customer else None
        if not user_id:
            continue
        batches = prepare_batches(slip_messages(db, result), allow_http_images=not settings.production,
                                  validate=checked_messages)
        try:
            for number, batch in enumerate(batches):
                # The same key for the same slip decision: a second process or a retry gets LINE's 409.
                key = uuid.uuid5(RETRY_KEYS, f"slip-check-{result.slip_check_id}-{number}")
                line.push(user_id, batch, retry_key=str(key))
        except LineApiError as error:
            # The decision is stored (staff see it); one customer's failed push must not keep the
            # others in this round from hearing theirs.
            log.error("slip check %s decided (%s) but the customer could not be told: %s",
                      result.slip_check_id, result.outcome, error)
            unsent += 1
            continue
        told += 1
    if expired or told or unsent:
        log.info("housekeeping: %d unpaid order(s) expired, %d slip decision(s) sent, %d not sent",
                 expired, told, unsent)
    return {"expired_orders": expired, "slip_decisions_sent": told, "slip_decisions_unsent": unsent}


class Housekeeper:
    """A daemon thread running `run_once` every `interval` seconds until stopped."""

    def __init__(self, db: Database, settings: Settings, line: LineApi, interval: float = INTERVAL_SECONDS):
        self.db, self.settings, self.line, self.interval = db, settings, line, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="housekeeping", daemon=True)

    def start(self) -> "Housekeeper":
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
