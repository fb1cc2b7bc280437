"""A retried turn repeats no side effect (issue 11, item 5): a worker killed with SIGKILL after a tool
committed, or after the answer was stored, and another worker retrying the event, leave one box in the
cart and send one answer, on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import fake_line_api
import pytest
from fake_line_api import SECRET, TOKEN, text_event
from shop_data import seed_shop
from sqlalchemy import select, update
from test_workers import row, store, wait_for

from agent import actions
from bot.turn import run_turn
from shop.models import Cart, CartItem, Customer, InboxEvent, Product, TurnStep
from shop.models.base import utcnow
from shop.settings import load_settings
from webhooks.line_api import LineApi
from webhooks.worker import Worker

TESTS = Path(__file__).parent
fake_line = fake_line_api.fake_line  # the fixture


def postback_event(data: str, user: str) -> dict:
    event = text_event(user=user)
    event.pop("message")
    event.update(type="postback", postback={"data": data})
    return event


def boxes_in_cart(db, user: str, sku: str) -> int:
    with db.session() as session:
        return sum(session.scalars(select(CartItem.quantity).join(Cart, Cart.id == CartItem.cart_id)
                                   .join(Customer, Customer.id == Cart.customer_id)
                                   .join(Product, Product.id == CartItem.product_id)
                                   .where(Customer.line_user_id == user, Product.sku == sku)))


def kill_worker_at(db, fake_line, tmp_path, stop_at: str) -> None:
    marker = tmp_path / "stopped"
    env = {**os.environ, "DATABASE_URL": db.url, "LINE_API_BASE_URL": fake_line.url, "APP_ENV": "test",
           "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "INBOX_LEASE_SECONDS": "60",
           "SALESBOT_TEST_MARKER": str(marker), "SALESBOT_TEST_STOP_AT": stop_at, "PYTHONPATH": str(TESTS)}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker", "--turn",
                                "worker_turns:real_turn_killed_after"],
                               env=env, cwd=TESTS.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(marker.exists, timeout=90)
    finally:
        process.send_signal(signal.SIGKILL)  # kill -9: no clean-up of any kind
        process.wait(10)


@pytest.mark.parametrize("stop_at", ["tool", "answer"])
def test_a_turn_retried_after_kill_9_adds_one_box_and_answers_once(any_db, fake_line, tmp_path, stop_at):
    seed_shop(any_db)
    user = "U" + "a" * 32
    event = postback_event(actions.encode("add", sku="TTR", q=1), user)
    [event_id] = store(any_db, event)
    kill_worker_at(any_db, fake_line, tmp_path, stop_at)
    assert boxes_in_cart(any_db, user, "TTR") == 1 and fake_line.delivered() == []  # committed, not answered
    with any_db.session() as session:
        steps = session.scalars(select(TurnStep.step).where(TurnStep.event_key == event["webhookEventId"])).all()
    assert any(step.startswith("tool:add_to_cart:") for step in steps)
    assert ("answer" in steps) == (stop_at == "answer")

    with any_db.session() as session:  # the dead worker's lease runs out (sooner than 60 s, to keep the test short)
        session.execute(update(InboxEvent).where(InboxEvent.id == event_id).values(lease_until=utcnow()))
    settings = load_settings(app_env="test", database_url=any_db.url, line_channel_secret=SECRET,
                             line_channel_access_token=TOKEN, line_api_base_url=fake_line.url, inbox_lease_seconds=1)
    worker = Worker(any_db, settings, run_turn, LineApi(settings))
    assert wait_for(lambda: worker.drain(), timeout=30) == 1
    assert row(any_db, event_id).status == "done" and row(any_db, event_id).attempts == 2
    assert boxes_in_cart(any_db, user, "TTR") == 1  # not 2
    [answer] = [message["text"] for message in fake_line.delivered() if message["type"] == "text"]
    assert "ตะกร้า" in answer


def test_records_are_kept_a_week_then_forgotten(db):
    from datetime import timedelta

    from bot.turn_steps import KEEP, TurnJournal, forget_old_steps

    journal = TurnJournal(db, "EVENT1")
    with db.session() as session:
        journal.add(session, "answer", [{"type": "text", "text": "ค่ะ"}])
    assert journal.recorded("answer") == [{"type": "text", "text": "ค่ะ"}]
    assert forget_old_steps(db, utcnow() + KEEP - timedelta(minutes=1)) == 0
    assert forget_old_steps(db, utcnow() + KEEP + timedelta(minutes=1)) == 1
    assert journal.recorded("answer") is None
