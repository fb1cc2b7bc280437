"""Worker heartbeats: every process that takes inbox events (embedded threads or `salesbot worker`)
writes its name and the time every WORKER_HEARTBEAT_SECONDS. /readyz compares them with the inbox:
events waiting while no worker was seen for three beats means nothing is taking them ("no worker")."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from shop.db import Database
from shop.models.base import utcnow
from shop.models.inbox import WorkerHeartbeat
from shop.settings import Settings

log = logging.getLogger(__name__)
MISSED_BEATS = 3


def stale_after(settings: Settings) -> float:
    """Seconds without a beat after which a worker counts as gone."""
    return MISSED_BEATS * settings.worker_heartbeat_seconds


def beat(db: Database, name: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    with db.session() as session:
        if not session.execute(update(WorkerHeartbeat).where(WorkerHeartbeat.name == name)
                               .values(seen_at=now)).rowcount:
            session.add(WorkerHeartbeat(name=name[:100], seen_at=now))


def forget(db: Database, name: str) -> None:
    with db.session() as session:
        session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.name == name))


def last_seen(db: Database) -> datetime | None:
    """When any worker last said it was alive."""
    with db.session() as session:
        return session.scalar(select(func.max(WorkerHeartbeat.seen_at)))


def worker_alive(db: Database, settings: Settings, now: datetime | None = None) -> bool:
    seen = last_seen(db)
    return seen is not None and seen >= (now or utcnow()) - timedelta(seconds=stale_after(settings))


class Heartbeat:
    """A daemon thread beating for one worker process until stopped (then its row is removed)."""

    def __init__(self, db: Database, settings: Settings, name: str):
        self.db, self.settings, self.name = db, settings, name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Heartbeat:
        self._beat()
        self._thread = threading.Thread(target=self._run, name="worker-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.settings.worker_heartbeat_seconds):
            self._beat()

    def _beat(self) -> None:
        try:
            beat(self.db, self.name)
        except SQLAlchemyError as error:  # the database is down: /readyz says so on its own
            log.warning("worker heartbeat not written: %s", type(error).__name__)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        try:
            forget(self.db, self.name)
        except SQLAlchemyError:
            pass
