"""Workers end to end against a fake LINE server: embedded threads, RQ on the real Redis, sending rules
(reply/push/standby), customer images, bounded failures, and crashes that never double a reply."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from fake_line_api import SECRET, TOKEN, USER, image_event, sign, text_event, webhook_body
from sqlalchemy import select, update

from shop.media import customer_image
from shop.models.base import utcnow
from shop.models.inbox import InboxEvent, OutboundMessage
from shop.models.media import Media
from shop.settings import load_settings
from webhooks import inbox
from webhooks.app import create_app
from webhooks.line_api import LineApi
from webhooks.worker import APOLOGY, Worker

TESTS = Path(__file__).parent
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def echo(db, settings, event):
    return [{"type": "text", "text": "ได้รับแล้วค่ะ: " + event.get("message", {}).get("text", "")}]


def wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.fixture
def settings_for(fake_line):
    def make(db, **overrides):
        return load_settings(**{"app_env": "test", "database_url": db.url, "line_channel_secret": SECRET,
                                "line_channel_access_token": TOKEN, "line_api_base_url": fake_line.url,
                                **overrides})
    return make


def store(db, *events) -> list[int]:
    return [stored.id for stored in inbox.store_events(db, [inbox.inbox_row(event, known=True) for event in events])]


def row(db, event_id: int) -> InboxEvent:
    with db.session() as session:
        return session.get(InboxEvent, event_id)


def expire_leases(db):
    with db.session() as session:
        session.execute(update(InboxEvent).where(InboxEvent.status.in_(["processing", "queued"]))
                        .values(lease_until=utcnow() - timedelta(seconds=1), available_at=None))


def test_embedded_worker_replies_after_the_ack(any_db, fake_line, settings_for):
    app = create_app(settings_for(any_db), database=any_db, turn=echo, start_workers=True)
    try:
        event = text_event("มี Catan ไหมคะ")
        body = webhook_body(event)
        response = app.test_client().post("/callback", data=body, headers={"X-Line-Signature": sign(body)})
        assert response.status_code == 200
        [reply] = wait_for(lambda: fake_line.of("reply"))
        assert reply["body"] == {"replyToken": event["replyToken"], "notificationDisabled": False,
                                 "messages": [{"type": "text", "text": "ได้รับแล้วค่ะ: มี Catan ไหมคะ"}]}
        assert reply["auth"] == f"Bearer {TOKEN}"
        [loading] = fake_line.of("loading")
        assert loading["body"]["chatId"] == USER
        assert fake_line.calls.index(loading) < fake_line.calls.index(reply)
        wait_for(lambda: inbox.status_counts(any_db)["done"] == 1)
    finally:
        app.extensions["salesbot.queue"].stop()


def run(db, settings, turn=echo, line=None) -> Worker:
    worker = Worker(db, settings, turn, line or LineApi(settings))
    worker.drain()
    return worker


def test_stale_or_refused_reply_token_falls_back_to_push_with_retry_key(db, fake_line, settings_for):
    stale = text_event("เก่า", user="Ustale", timestamp=int(time.time() * 1000) - 55_000)
    refused = text_event("โทเคนใช้ไม่ได้", user="Urefused")
    fake_line.expired_tokens.add(refused["replyToken"])
    store(db, stale, refused)
    run(db, settings_for(db))
    pushes = fake_line.of("push")
    assert {push["body"]["to"] for push in pushes} == {"Ustale", "Urefused"}
    assert all(push["retry_key"] and push["status"] == 200 for push in pushes)
    quoted = {push["body"]["to"]: push["body"]["messages"][0].get("quoteToken") for push in pushes}
    assert quoted == {"Ustale": stale["message"]["quoteToken"], "Urefused": refused["message"]["quoteToken"]}
    assert [call["status"] for call in fake_line.of("reply")] == [400]  # only the refused one tried reply
    with db.session() as session:
        assert {batch.method for batch in session.scalars(select(OutboundMessage))} == {"push"}


def test_the_customers_message_is_marked_read_when_a_worker_takes_it(db, fake_line, settings_for):
    event = text_event("สวัสดีค่ะ")
    event["message"]["markAsReadToken"] = "read-" + uuid.uuid4().hex
    store(db, event, text_event("ไม่มีโทเคนอ่าน", user="Unoread"))
    run(db, settings_for(db))
    assert [call["body"] for call in fake_line.of("read")] == [{"markAsReadToken": event["message"]["markAsReadToken"]}]
    assert len(fake_line.of("reply")) == 2   # marking is best effort and beside the answer


def test_events_without_reply_token_push_only_to_user_chats(db, fake_line, settings_for):
    user_event = text_event("ไม่มีโทเคน", user="Uuser")
    del user_event["replyToken"]
    group_event = text_event("ในกลุ่ม", source={"type": "group", "groupId": "Cgroup", "userId": "Umember"})
    del group_event["replyToken"]
    ids = store(db, user_event, group_event)
    run(db, settings_for(db))
    assert [push["body"]["to"] for push in fake_line.of("push")] == ["Uuser"]
    assert fake_line.of("reply") == []
    assert {row(db, event_id).status for event_id in ids} == {"done"}


def test_standby_events_send_nothing(db, fake_line, settings_for):
    app = create_app(settings_for(db), database=db, turn=echo, start_workers=False)
    event = text_event(mode="standby")
    del event["replyToken"]
    body = webhook_body(event)
    assert app.test_client().post("/callback", data=body, headers={"X-Line-Signature": sign(body)}).status_code == 200
    assert run(db, settings_for(db)).drain() == 0  # nothing to process
    assert fake_line.calls == []
    assert inbox.status_counts(db)["skipped"] == 1


def test_more_than_five_messages_reply_then_push_in_order(db, fake_line, settings_for):
    def chatty(db, settings, event):
        return [{"type": "text", "text": f"ข้อความที่ {n}"} for n in range(1, 8)]

    store(db, text_event())
    run(db, settings_for(db), turn=chatty)
    [reply] = fake_line.of("reply")
    [push] = fake_line.of("push")
    assert len(reply["body"]["messages"]) == 5 and len(push["body"]["messages"]) == 2
    assert [m["text"] for m in fake_line.delivered()] == [f"ข้อความที่ {n}" for n in range(1, 8)]


def test_failing_turn_is_failed_after_bounded_attempts_and_the_customer_hears_once(any_db, fake_line, settings_for):
    calls = []

    def broken(db, settings, event):
        calls.append(event["webhookEventId"])
        raise RuntimeError("agent exploded")

    settings = settings_for(any_db, inbox_max_attempts=3)
    [event_id] = store(any_db, text_event())
    for _ in range(3):
        run(any_db, settings, turn=broken)
        expire_leases(any_db)  # skip the backoff wait
    run(any_db, settings, turn=broken)
    failed = row(any_db, event_id)
    assert failed.status == "failed" and failed.attempts == 3 and "agent exploded" in failed.last_error
    assert len(calls) == 3
    assert [m["text"] for m in fake_line.delivered()] == [APOLOGY]
    assert inbox.status_counts(any_db)["failed"] == 1


def test_permanent_line_error_fails_the_event_without_retries(db, fake_line, settings_for):
    event = text_event()
    del event["replyToken"]
    [event_id] = store(db, event)
    fake_line.fail_next = [400]
    run(db, settings_for(db))
    assert row(db, event_id).status == "failed" and "HTTP 400" in row(db, event_id).last_error
    assert len(fake_line.of("push")) == 1


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the worker catches it."""


class CrashAfterSend(LineApi):
    def reply(self, *args, **kwargs):
        super().reply(*args, **kwargs)
        raise Crash

    def push(self, *args, **kwargs):
        super().push(*args, **kwargs)
        raise Crash


@pytest.mark.parametrize("has_reply_token", [True, False])
def test_crash_between_sending_and_recording_never_doubles(any_db, fake_line, settings_for, has_reply_token):
    calls = []

    def counting(db, settings, event):
        calls.append(1)
        return echo(db, settings, event)

    settings = settings_for(any_db)
    event = text_event("ครั้งเดียวพอค่ะ")
    if not has_reply_token:
        del event["replyToken"]
    [event_id] = store(any_db, event)
    with pytest.raises(Crash):
        run(any_db, settings, turn=counting, line=CrashAfterSend(settings))
    assert row(any_db, event_id).status == "processing"
    expire_leases(any_db)
    run(any_db, settings, turn=counting)
    assert row(any_db, event_id).status == "done"
    assert [m["text"] for m in fake_line.delivered()] == ["ได้รับแล้วค่ะ: ครั้งเดียวพอค่ะ"]
    assert len(calls) == 1  # the recorded answer was resent, the turn did not run again
    if not has_reply_token:
        assert [push["status"] for push in fake_line.of("push")] == [200, 409]
        assert len({push["retry_key"] for push in fake_line.of("push")}) == 1


def test_worker_killed_mid_turn_completes_once_after_restart(db, fake_line, settings_for, tmp_path):
    marker = tmp_path / "turn-started"
    event = text_event("ฆ่า worker กลางทาง")
    [event_id] = store(db, event)
    env = {**os.environ, "DATABASE_URL": db.url, "LINE_API_BASE_URL": fake_line.url, "APP_ENV": "test",
           "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "INBOX_LEASE_SECONDS": "1",
           "SALESBOT_TEST_MARKER": str(marker), "PYTHONPATH": str(TESTS)}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker", "--turn", "worker_turns:blocking_turn"],
                               env=env, cwd=TESTS.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(marker.exists, timeout=30)
        assert row(db, event_id).status == "processing"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    assert fake_line.delivered() == []
    # restart: a new worker picks the event up once the dead one's lease (1 s) has run out
    settings = settings_for(db, inbox_lease_seconds=1)
    worker = Worker(db, settings, echo, LineApi(settings))
    assert wait_for(lambda: worker.drain(), timeout=10) == 1
    assert row(db, event_id).status == "done" and row(db, event_id).attempts == 2
    assert [m["text"] for m in fake_line.delivered()] == ["ได้รับแล้วค่ะ: ฆ่า worker กลางทาง"]
    assert worker.drain() == 0


def test_customer_images_are_downloaded_before_the_turn(any_db, fake_line, settings_for):
    seen = {}

    def look(db, settings, event):
        with db.session() as session:
            media = customer_image(session, event["message"]["id"])
            seen[event["message"]["id"]] = media.data if media else None
        return [{"type": "text", "text": "ได้รับรูปแล้วค่ะ" if media else "รบกวนส่งรูปอีกครั้งนะคะ"}]

    fake_line.content["1001"] = (200, PNG, "image/png")
    fake_line.content["1002"] = (200, b"\xff\xd8\xff" + b"1" * 50, "image/jpeg")
    fake_line.content["1004"] = (200, b"<html>", "text/html")
    fake_line.content["1005"] = (200, b"x" * 2000, "image/png")
    fake_line.content["1006"] = (410, b'{"message":"gone"}', "application/json")
    image_set = {"id": "SET1", "total": 2}
    events = [image_event("1001", user="U1", image_set={**image_set, "index": 1}),
              image_event("1002", user="U1", image_set={**image_set, "index": 2}),
              image_event("1003", user="U2"), image_event("1004", user="U3"), image_event("1005", user="U4"),
              image_event("1006", user="U5")]
    ids = store(any_db, *events)
    run(any_db, settings_for(any_db, customer_image_max_bytes=1000), turn=look)
    assert seen == {"1001": PNG, "1002": b"\xff\xd8\xff" + b"1" * 50, "1003": None, "1004": None,
                    "1005": None, "1006": None}
    errors = [row(any_db, event_id).content_error for event_id in ids]
    assert errors[:2] == ["", ""]
    assert "404" in errors[2] and "not an image" in errors[3] and "too large" in errors[4] and "410" in errors[5]
    assert {row(any_db, event_id).status for event_id in ids} == {"done"}
    with any_db.session() as session:
        kinds = {media.kind for media in session.scalars(select(Media))}
    assert kinds == {"customer_image"}


def test_rq_path_with_real_redis(any_db, fake_line, settings_for, redis_url, monkeypatch):
    from redis import Redis
    from rq import Queue, SimpleWorker

    from webhooks import jobs

    queue_name = f"salesbot-test-{uuid.uuid4().hex[:8]}"
    settings = settings_for(any_db, redis_url=redis_url, rq_queue_name=queue_name)
    app = create_app(settings, database=any_db, turn=echo)
    monkeypatch.setattr(jobs, "_worker", None)
    connection = Redis.from_url(redis_url)
    queue = Queue(queue_name, connection=connection)
    try:
        client = app.test_client()
        first = text_event("หนึ่ง", timestamp=int(time.time() * 1000) - 10)
        second = text_event("สอง")
        for event in (second, first):  # arrive out of order
            body = webhook_body(event)
            assert client.post("/callback", data=body, headers={"X-Line-Signature": sign(body)}).status_code == 200
        assert queue.count == 1 or queue.count == 2  # one job per request with new events
        assert app.test_client().get("/readyz").get_json()["checks"]["queue"].startswith("redis")
        jobs.configure(settings, db=any_db, turn=echo)
        SimpleWorker([queue], connection=connection).work(burst=True)
        assert [m["text"] for m in fake_line.delivered()] == ["ได้รับแล้วค่ะ: หนึ่ง", "ได้รับแล้วค่ะ: สอง"]
        assert inbox.status_counts(any_db)["done"] == 2
        # the sweep finds work whose job was lost (here: an event stored without any enqueue)
        store(any_db, text_event("สาม"))
        assert jobs.sweep(queue, any_db, settings, older_than_seconds=0) == 1
        SimpleWorker([queue], connection=connection).work(burst=True)
        assert len(fake_line.delivered()) == 3
    finally:
        queue.delete(delete_jobs=True)
        connection.close()


def test_staff_can_list_and_retry_failed_events(db, fake_line, settings_for, monkeypatch):
    from click.testing import CliRunner

    from bot.commands import service as cli

    settings = settings_for(db)
    monkeypatch.setattr(cli, "settings_or_exit", lambda: settings)
    monkeypatch.setattr("shop.db.get_database", lambda url=None: db)
    [event_id] = store(db, text_event("ค้างอยู่"))
    inbox.claim_next(db, "w", lease_seconds=60, max_attempts=1)
    inbox.retry_later(db, event_id, "w", "LINE failed: HTTP 500", max_attempts=1)

    status = CliRunner().invoke(cli.worker, ["status"])
    assert status.exit_code == 0, status.output
    assert "failed: 1" in status.output and f"failed #{event_id}" in status.output and "HTTP 500" in status.output

    assert CliRunner().invoke(cli.worker, ["retry"]).exit_code != 0  # says what to give
    retried = CliRunner().invoke(cli.worker, ["retry", str(event_id)])
    assert retried.exit_code == 0 and "1 event(s) queued again" in retried.output
    monkeypatch.setattr(cli, "_load_turn", lambda path: echo)
    burst = CliRunner().invoke(cli.worker, ["--burst"])
    assert burst.exit_code == 0 and "processed 1 event(s)" in burst.output
    assert [m["text"] for m in fake_line.delivered()] == ["ได้รับแล้วค่ะ: ค้างอยู่"]


def test_reply_in_doubt_with_a_stale_token_is_not_resent(db, fake_line, settings_for):
    """A crash right after a reply, noticed only once the token is too old to test: at most once."""
    import json as json_module

    settings = settings_for(db)
    event = text_event("ตอบแล้วหรือยัง")
    [event_id] = store(db, event)
    with pytest.raises(Crash):
        run(db, settings, line=CrashAfterSend(settings))
    with db.session() as session:  # a minute later
        stale = {**event, "timestamp": event["timestamp"] - 60_000}
        session.execute(update(InboxEvent).where(InboxEvent.id == event_id)
                        .values(body=json_module.dumps(stale), lease_until=utcnow() - timedelta(seconds=1)))
    run(db, settings)
    assert row(db, event_id).status == "done"
    assert len(fake_line.delivered()) == 1 and fake_line.of("push") == []
