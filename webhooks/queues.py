"""The queue seam between /callback and the workers. The inbox table is the queue's durable state;
a queue only wakes workers up, so a lost wake-up delays an event but never loses it.

- `EmbeddedQueue` (default, no REDIS_URL): worker threads inside the web process.
- `RedisQueue` (REDIS_URL set): one RQ job per chat with new events, run by `salesbot worker`.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Protocol

from shop.db import Database
from shop.settings import Settings
from webhooks.heartbeat import Heartbeat
from webhooks.line_api import LineApi
from webhooks.worker import TurnFunction, Worker, worker_name

log = logging.getLogger(__name__)


class Background(Protocol):
    """Periodic work started beside the workers (the application's housekeeping)."""

    def start(self) -> Background: ...

    def stop(self) -> None: ...


HousekeeperFactory = Callable[[Database, Settings, LineApi], Background]


WORKER_NICENESS = 10
REDIS_RETRY_SECONDS = 5.0


def _lower_priority() -> None:
    """Acks first: worker threads yield the CPU to the threads answering LINE (Linux sets niceness
    per thread; elsewhere this is a no-op)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICENESS)
    except (AttributeError, OSError):
        pass


class EmbeddedQueue:
    """Worker threads that drain the inbox. `notify` wakes one idle thread per chat with new events
    (not all of them: no thundering herd); a thread that found work wakes one more, so a backlog
    (or work noticed by polling) spreads over the idle threads."""

    kind = "embedded"

    def __init__(self, db: Database, settings: Settings, turn: TurnFunction, threads: int | None = None,
                 housekeeping: HousekeeperFactory | None = None):
        self.db, self.settings, self.turn, self.housekeeping = db, settings, turn, housekeeping
        self.thread_count = threads or settings.worker_threads
        self._wake = threading.Condition()
        self._pending = 0  # wake-ups not yet taken by a thread (none was idle when they came)
        self._idle = 0  # threads waiting for a wake-up
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._line: LineApi | None = None
        self._housekeeper: Background | None = None
        self._heartbeat: Heartbeat | None = None

    def start(self) -> None:
        if self._threads:
            return
        self._line = LineApi(self.settings)
        for number in range(self.thread_count):
            worker = Worker(self.db, self.settings, self.turn, self._line)
            # one thread polls the inbox every poll interval (work from other processes, due retries,
            # expired leases); the others sleep until woken
            poll = self.settings.worker_poll_seconds * (1 if number == 0 else 30)
            thread = threading.Thread(target=self._run, args=(worker, poll), name=f"inbox-worker-{number}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)
        if self.housekeeping is not None:
            self._housekeeper = self.housekeeping(self.db, self.settings, self._line).start()
        self._heartbeat = Heartbeat(self.db, self.settings, f"embedded:{worker_name()}").start()
        log.info("embedded inbox workers started: %d thread(s)", self.thread_count)

    def _run(self, worker: Worker, poll: float) -> None:
        _lower_priority()
        while not self._stop.is_set():
            try:
                while not self._stop.is_set() and worker.process_next():
                    self._wake_idle()  # there was work, there may be more: get an idle colleague going
            except Exception:  # e.g. the database is down: the leases keep the events safe
                log.exception("inbox worker %s: drain failed; retrying after the poll interval", worker.name)
            with self._wake:
                if self._pending:
                    self._pending -= 1
                    continue
                self._idle += 1
                self._wake.wait(poll)
                self._idle -= 1
                self._pending = max(0, self._pending - 1)

    def _wake_idle(self) -> None:
        with self._wake:
            if self._idle > self._pending:
                self._pending += 1
                self._wake.notify(1)

    def notify(self, chat_ids: list[str]) -> None:
        with self._wake:
            count = len(set(chat_ids))
            self._pending = min(self._pending + count, self.thread_count)
            self._wake.notify(count)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._housekeeper is not None:
            self._housekeeper.stop()
        if self._heartbeat is not None:
            self._heartbeat.stop()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        if self._line is not None:
            self._line.close()

    def health(self) -> tuple[bool, str]:
        alive = sum(thread.is_alive() for thread in self._threads)
        if not self._threads:
            if not self.settings.worker_in_web:
                return True, "embedded: events processed by a separate `salesbot worker` (WORKER_IN_WEB=false)"
            return False, "embedded worker threads not started"
        if alive < len(self._threads):
            return False, f"embedded worker threads: {alive} of {len(self._threads)} alive"
        return True, f"embedded: {alive} worker thread(s) alive"


class RedisQueue:
    """RQ on Redis: the web process only enqueues; `salesbot worker` processes."""

    kind = "redis"

    def __init__(self, settings: Settings):
        from redis import Redis
        from rq import Queue

        self.settings = settings
        # short timeouts: enqueueing happens inside LINE's 2-second window
        self.redis = Redis.from_url(settings.redis_url, socket_timeout=1, socket_connect_timeout=0.5)
        self.queue = Queue(settings.rq_queue_name, connection=self.redis)
        self._skip_until = 0.0  # after a failure, stop trying for a while (the sweep catches up)

    def start(self) -> None:
        """Nothing to start: the workers are separate processes."""

    def notify(self, chat_ids: list[str]) -> None:
        from webhooks.jobs import process_chat

        if time.monotonic() < self._skip_until:
            return
        for chat_id in dict.fromkeys(chat_ids):
            try:
                self.queue.enqueue(process_chat, chat_id, job_timeout=int(self.settings.inbox_lease_seconds),
                                   result_ttl=0, failure_ttl=7 * 24 * 3600)
            except Exception as error:  # the event is in the inbox; the worker's sweep will find it
                log.error("could not enqueue on Redis (%s); events stay in the inbox and the worker's "
                          "sweep will pick them up", type(error).__name__)
                self._skip_until = time.monotonic() + REDIS_RETRY_SECONDS
                return

    def stop(self, timeout: float = 5.0) -> None:
        self.redis.close()

    def health(self) -> tuple[bool, str]:
        try:
            self.redis.ping()
        except Exception as error:
            return False, f"redis unreachable ({type(error).__name__})"
        return True, f"redis: queue {self.settings.rq_queue_name!r} has {self.queue.count} job(s)"


def make_queue(db: Database, settings: Settings, turn: TurnFunction,
               housekeeping: HousekeeperFactory | None = None) -> EmbeddedQueue | RedisQueue:
    if settings.redis_url:
        return RedisQueue(settings)
    return EmbeddedQueue(db, settings, turn, housekeeping=housekeeping)
