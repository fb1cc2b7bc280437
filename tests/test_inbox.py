"""Inbox leases: one event per chat at a time, timestamp order, dead workers' events retried, bounded
attempts. On SQLite and PostgreSQL."""
from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

from fake_line_api import SECRET, TOKEN, text_event
from sqlalchemy import select, update

from shop.models.base import utcnow
from shop.models.inbox import InboxEvent
from shop.settings import load_settings
from webhooks import inbox
from webhooks.line_api import LineApi
from webhooks.worker import Worker


def store(db, *events) -> list[int]:
    return [stored.id for stored in inbox.store_events(db, [inbox.inbox_row(event, known=True) for event in events])]


def statuses(db) -> dict[int, str]:
    with db.session() as session:
        return dict(session.execute(select(InboxEvent.id, InboxEvent.status)).all())


def test_claims_follow_timestamp_order_within_a_chat(any_db):
    late, early = store(any_db, text_event(user="Ua", timestamp=2000), text_event(user="Ua", timestamp=1000))
    other = store(any_db, text_event(user="Ub", timestamp=1500))[0]
    first = inbox.claim_next(any_db, "w1", lease_seconds=60, max_attempts=3)
    assert first.id == early
    # chat Ua is busy: the next claim goes to the other chat, never to Ua's later event
    second = inbox.claim_next(any_db, "w2", lease_seconds=60, max_attempts=3)
    assert second.id == other
    assert inbox.claim_next(any_db, "w3", lease_seconds=60, max_attempts=3) is None
    assert inbox.finish(any_db, early, "w1", inbox.DONE)
    assert inbox.claim_next(any_db, "w3", lease_seconds=60, max_attempts=3).id == late


def test_a_worker_that_lost_its_lease_cannot_finish(any_db):
    [event_id] = store(any_db, text_event())
    claimed = inbox.claim_next(any_db, "dead", lease_seconds=60, max_attempts=3)
    with any_db.session() as session:  # time passes: the lease runs out
        session.execute(update(InboxEvent).values(lease_until=utcnow() - timedelta(seconds=1)))
    retaken = inbox.claim_next(any_db, "alive", lease_seconds=60, max_attempts=3)
    assert retaken.id == claimed.id == event_id and retaken.attempts == 2
    assert not inbox.finish(any_db, event_id, "dead", inbox.DONE)
    assert not inbox.extend_lease(any_db, event_id, "dead", 60)
    assert inbox.finish(any_db, event_id, "alive", inbox.DONE)


def test_an_event_whose_worker_keeps_dying_is_failed_after_max_attempts(any_db):
    [event_id] = store(any_db, text_event())
    for attempt in range(2):
        assert inbox.claim_next(any_db, f"w{attempt}", lease_seconds=60, max_attempts=2) is not None
        with any_db.session() as session:
            session.execute(update(InboxEvent).values(lease_until=utcnow() - timedelta(seconds=1)))
    assert inbox.claim_next(any_db, "w3", lease_seconds=60, max_attempts=2) is None
    assert statuses(any_db)[event_id] == "failed"
    assert inbox.status_counts(any_db)["failed"] == 1
    assert inbox.requeue(any_db) == 1 and statuses(any_db)[event_id] == "queued"


def test_retry_later_backs_off_then_fails(any_db):
    [event_id] = store(any_db, text_event())
    inbox.claim_next(any_db, "w", lease_seconds=60, max_attempts=2)
    assert inbox.retry_later(any_db, event_id, "w", "boom", max_attempts=2) == "queued"
    assert inbox.claim_next(any_db, "w", lease_seconds=60, max_attempts=2) is None  # backoff not over
    with any_db.session() as session:
        session.execute(update(InboxEvent).values(available_at=utcnow()))
    inbox.claim_next(any_db, "w", lease_seconds=60, max_attempts=2)
    assert inbox.retry_later(any_db, event_id, "w", "boom again", max_attempts=2) == "failed"
    [failed] = inbox.failed_events(any_db)
    assert failed.last_error == "boom again" and failed.attempts == 2


def test_concurrent_workers_keep_each_chat_serial_and_in_order(any_db, fake_line):
    settings = load_settings(app_env="test", database_url=any_db.url, line_channel_secret=SECRET,
                             line_channel_access_token=TOKEN, line_api_base_url=fake_line.url)
    events = [text_event(f"ข้อความ {n}", user=f"U{chat}", timestamp=1_000 + n, reply_token="")
              for chat in "abc" for n in range(6)]
    random.Random(4).shuffle(events)
    store(any_db, *events)

    seen: dict[str, list[int]] = {}
    busy: set[str] = set()
    overlaps = []
    lock = threading.Lock()

    def turn(db, settings, event):
        chat = event["source"]["userId"]
        with lock:
            if chat in busy:
                overlaps.append(chat)
            busy.add(chat)
        time.sleep(0.01)
        with lock:
            busy.discard(chat)
            seen.setdefault(chat, []).append(event["timestamp"])
        return []

    line = LineApi(settings)
    workers = [Worker(any_db, settings, turn, line) for _ in range(4)]
    threads = [threading.Thread(target=worker.drain) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in workers:  # a worker may have stopped while a chat was busy elsewhere
        worker.drain()
    assert overlaps == []
    assert seen == {f"U{chat}": list(range(1_000, 1_006)) for chat in "abc"}
    assert set(statuses(any_db).values()) == {"done"}
