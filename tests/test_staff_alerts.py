"""Alerts to the staff's LINE chat through the notifications outbox: one per paid order, slip to review
and failed event, pushed once to STAFF_LINE_TARGET with stable retry keys, retried while LINE is down;
nothing while STAFF_LINE_TARGET is empty. Staff's customer messages (PushSoon) go out the same way."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from backoffice_data import NOW, make_order, slip_for_review
from shop_data import seed_shop
from sqlalchemy import select

from bot.housekeeping import PushSoon, run_once
from bot.replies.fulfilment import customer_messages
from payments import review
from shop import audit, staff_alerts
from shop.models import InboxEvent, Notification
from shop.settings import load_settings
from webhooks.line_api import LineApi

GROUP = "C" + "5" * 32


@pytest.fixture
def settings(tmp_path, fake_line):
    return load_settings(_env_file=None, app_env="test", database_url=f"sqlite:///{tmp_path / 'x.db'}",
                         line_channel_secret="test-secret", line_channel_access_token="test-token",
                         line_api_base_url=fake_line.url, public_base_url="https://shop.example",
                         staff_line_target=GROUP)


@pytest.fixture
def line(settings):
    api = LineApi(settings)
    api.push_backoff_seconds = 0.01
    yield api
    api.close()


def failed_event(db) -> int:
    with db.session() as session:
        event = InboxEvent(webhook_event_id="ev-failed-1", chat_id="U" + "a" * 32, event_type="message",
                           timestamp_ms=1, body="{}", status="failed", attempts=5, last_error="turn crashed",
                           finished_at=NOW)
        session.add(event)
        session.flush()
        return event.id


def test_each_alert_is_pushed_once_to_the_staff_chat(db, settings, line, fake_line):
    shop = seed_shop(db)
    paid = make_order(db, shop.alice, status="paid", created=NOW - timedelta(minutes=5))
    unpaid = make_order(db, shop.bob, sku="TTR")
    slip_id = slip_for_review(db, settings, shop.bob, unpaid)
    event_id = failed_event(db)
    make_order(db, shop.alice, status="paid", created=NOW - timedelta(days=3))  # old news: no alert

    for _ in range(3):  # however many rounds run
        run_once(db, settings, line, now=NOW)
    pushes = [call for call in fake_line.of("push") if call["status"] == 200]
    assert [call["body"]["to"] for call in pushes] == [GROUP] * 3
    texts = sorted(call["body"]["messages"][0]["text"] for call in pushes)
    assert any(paid in t and "ชำระแล้ว" in t and f"https://shop.example/admin/orders/{paid}" in t for t in texts)
    assert any(f"สลิปรอตรวจ (หมายเลข {slip_id})" in t and unpaid in t and "/admin/slips/" in t for t in texts)
    assert any(f"event {event_id}" in t and "turn crashed" in t for t in texts)


def test_an_approved_slip_alerts_staff_of_the_new_paid_order(db, settings, line, fake_line):
    shop = seed_shop(db)
    number = make_order(db, shop.alice)
    slip_id = slip_for_review(db, settings, shop.alice, number)
    run_once(db, settings, line, now=NOW)
    review.approve(db, audit.Actor(None, "malee"), customer_messages, slip_check_id=slip_id)
    run_once(db, settings, line)
    to = [(call["body"]["to"], call["body"]["messages"][0].get("text", "")[:40]) for call in fake_line.of("push")]
    assert to[0][0] == GROUP and "สลิปรอตรวจ" in to[0][1]
    assert sorted(who for who, _ in to[1:]) == sorted([GROUP, "U" + "a" * 32])  # the receipt, the staff alert


def test_a_staff_alert_waits_while_line_is_down(db, settings, line, fake_line):
    shop = seed_shop(db)
    make_order(db, shop.alice, status="paid", created=NOW - timedelta(minutes=5))
    fake_line.fail_next = [500] * 3  # every attempt of the first round
    assert run_once(db, settings, line, now=NOW)["notifications_unsent"] == 1
    assert run_once(db, settings, line, now=NOW)["notifications_sent"] == 1
    keys = {call["retry_key"] for call in fake_line.of("push")}
    assert len(keys) == 1  # the same retry key every time: LINE can tell it is one message
    with db.session() as session:
        row = session.scalar(select(Notification))
    assert row.target == GROUP and row.customer_id is None and row.sent_at is not None and row.attempts == 1


def test_no_target_no_alerts(db, settings, line, fake_line):
    shop = seed_shop(db)
    make_order(db, shop.alice, status="paid", created=NOW - timedelta(minutes=5))
    quiet = settings.model_copy(update={"staff_line_target": ""})
    assert staff_alerts.queue_due(db, quiet, NOW) == 0
    run_once(db, quiet, line, now=NOW)
    assert fake_line.of("push") == []


@pytest.mark.parametrize("value", ["group-1", "C123", "X" + "a" * 32, "C" + "G" * 32])
def test_staff_line_target_must_be_a_line_chat_id(value):
    from shop.settings import ConfigError

    with pytest.raises(ConfigError, match="STAFF_LINE_TARGET"):
        load_settings(_env_file=None, staff_line_target=value)


def test_push_soon_sends_what_staff_just_queued(db, settings, fake_line):
    shop = seed_shop(db)
    number = make_order(db, shop.alice, status="paid")
    from shop.fulfilment import advance

    advance(db, audit.Actor(None, "malee"), number, "ship", customer_messages, carrier="Flash", tracking_number="TH1")
    push_soon = PushSoon(db, settings)
    push_soon()
    push_soon()  # folded into the running send, or a second (empty) one
    deadline = time.monotonic() + 10
    while len(fake_line.of("push")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    by_chat = {call["body"]["to"]: call["body"]["messages"] for call in fake_line.of("push")}
    assert len(fake_line.of("push")) == 2  # each once
    assert by_chat["U" + "a" * 32][1]["type"] == "flex"  # the tracking card
    assert "คำสั่งซื้อใหม่ชำระแล้ว" in by_chat[GROUP][0]["text"]  # and the staff alerts are queued first


def test_a_customer_asking_for_a_person_alerts_staff_once(db, settings, line, fake_line):
    from shop.models.customers import StaffRequest

    shop = seed_shop(db)
    with db.session() as session:
        session.add(StaffRequest(customer_id=shop.alice, reason="อยากสอบถามเรื่องเกมมือสอง", created_at=NOW))
    for _ in range(2):
        run_once(db, settings, line, now=NOW)
    pushes = [p for p in fake_line.of("push") if p["body"]["to"] == GROUP]
    assert len(pushes) == 1
    text = pushes[0]["body"]["messages"][0]["text"]
    assert "ขอคุยกับแอดมิน" in text and "Alice" in text and "เกมมือสอง" in text
    assert text.endswith("https://shop.example/admin/handoffs")
