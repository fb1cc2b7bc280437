"""RQ side: the job function and the sweep that re-enqueues work nobody is doing.

A job carries only a chat id; the worker process holds the settings, database and turn (set by
`configure`, done by `salesbot worker`). A job drains what can be processed in its chat now; events
that must wait (an earlier event of the chat is still running elsewhere, a retry backoff, a lease left
by a dead worker) are picked up by the worker that finishes the earlier event or by `sweep`.
"""
from __future__ import annotations

import logging
import os

from shop.db import Database, get_database
from shop.settings import Settings, get_settings
from webhooks import inbox
from webhooks.line_api import LineApi
from webhooks.worker import TurnFunction, Worker

log = logging.getLogger(__name__)

_worker: Worker | None = None
_worker_pid: int | None = None
_turn: TurnFunction | None = None


def configure(settings: Settings, *, turn: TurnFunction, db: Database | None = None) -> Worker:
    """Set up this process's worker (one per process: database pools and HTTP pools do not survive fork)."""
    global _worker, _worker_pid, _turn
    _turn = turn
    _worker = Worker(db or get_database(settings.database_url), settings, turn, LineApi(settings))
    _worker_pid = os.getpid()
    return _worker


def current_worker() -> Worker:
    if _turn is None:
        raise RuntimeError("this process has no turn configured: jobs run under `salesbot worker`")
    if _worker is None or _worker_pid != os.getpid():  # a forked job runner: fresh pools, same turn
        return configure(get_settings(), turn=_turn)
    return _worker


def process_chat(chat_id: str) -> int:
    """RQ job: process the events of one chat that are ready, oldest first."""
    return current_worker().drain(chat_id=chat_id)


def sweep(queue, db: Database, settings: Settings, older_than_seconds: float | None = None) -> int:
    """Enqueue chats with stale queued events, due retries or expired leases. Returns how many."""
    if older_than_seconds is None:
        older_than_seconds = max(5.0, 5 * settings.worker_poll_seconds)
    chats = inbox.due_chats(db, older_than_seconds=older_than_seconds)
    for chat_id in chats:
        queue.enqueue(process_chat, chat_id, job_timeout=int(settings.inbox_lease_seconds),
                      result_ttl=0, failure_ttl=7 * 24 * 3600)
    if chats:
        log.info("sweep: re-enqueued %d chat(s)", len(chats))
    return len(chats)
