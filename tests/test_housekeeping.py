"""bot.housekeeping.run_once against the fake LINE server and a fake slip provider: unpaid orders expire and
give their stock back; a slip decided after the provider was down is pushed to the customer once, with a
stable retry key, however many rounds (or processes) run."""
from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fake_line_api import FakeLine
from fake_slip_provider import FakeProvider
from shop_data import seed_shop, stock_of
from slip_images import slip_payload
from sqlalchemy import select

from bot.housekeeping import run_once
from payments.checks import check_slip
from payments.providers import BANGKOK, ProviderUnavailable
from shop.models import Order, OrderItem, OrderStatus, Payment, SlipCheck
from shop.settings import load_settings
from webhooks.line_api import LineApi
from webhooks.notifications import RETRY_KEYS

NOW = datetime.now(UTC).replace(microsecond=0)
TOTAL = 139000  # one Azul
REF = "016330142045BPM05678"


def down_provider() -> FakeProvider:
    """Down (raises ProviderUnavailable) until its `answer` is cleared; then confirms the slip for TOTAL."""
    return FakeProvider(ProviderUnavailable("bank down", raw={"code": "bank_down"}), amount_satang=TOTAL,
                        transferred_at=(NOW - timedelta(minutes=5)).astimezone(BANGKOK))


@pytest.fixture
def fake_line():
    server = FakeLine().start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path, fake_line):
    return load_settings(_env_file=None, app_env="test", database_url=f"sqlite:///{tmp_path / 'x.db'}",
                         line_channel_secret="test-secret", line_channel_access_token="test-token",
                         line_api_base_url=fake_line.url, promptpay_id="0812345678",
                         shop_name="ร้านบอร์ดเกมตัวอย่าง", slip_provider="simulator")


@pytest.fixture
def line(settings):
    api = LineApi(settings)
    api.push_backoff_seconds = 0.01
    yield api
    api.close()


@pytest.fixture
def provider(monkeypatch):
    fake = down_provider()
    monkeypatch.setattr("payments.checks.get_provider", lambda settings: fake)
    return fake


def azul_order(db, customer_id: int, created: datetime = NOW - timedelta(minutes=10),
               minutes: int = 60) -> int:
    """An unpaid order for the last Azul, its stock reserved as checkout does."""
    from shop.models import Product

    with db.session() as session:
        azul = session.scalar(select(Product).where(Product.sku == "AZUL"))
        azul.stock -= 1
        order = Order(number=f"SB-{uuid.uuid4().hex[:8]}", customer_id=customer_id,
                      status=OrderStatus.AWAITING_PAYMENT.value, fulfilment="pickup", subtotal_satang=TOTAL,
                      total_satang=TOTAL, created_at=created, expires_at=created + timedelta(minutes=minutes))
        order.items = [OrderItem(product_id=azul.id, name="อาซูล", unit_price_satang=TOTAL, quantity=1)]
        session.add(order)
        session.flush()
        return order.id


def status_of(db, order_id: int) -> str:
    with db.session() as session:
        return session.get(Order, order_id).status


def pending_slip(db, settings, customer_id: int, order_id: int, provider: FakeProvider) -> int:
    result = check_slip(db, settings, customer_id=customer_id, order_id=order_id, payload=slip_payload("004", REF),
                        now=NOW, provider=provider)
    assert result.outcome == "pending"
    return result.slip_check_id


def alice_pending_slip(db, settings, provider: FakeProvider) -> tuple[int, int]:
    """The test shop, Alice's unpaid Azul order, and her slip left pending while the provider is down."""
    shop = seed_shop(db)
    order_id = azul_order(db, shop.alice)
    return order_id, pending_slip(db, settings, shop.alice, order_id, provider)


# ---------------------------------------------------------------- expiry

def test_expiry_releases_stock_and_keeps_other_orders(db, settings, line, fake_line, provider):
    shop = seed_shop(db)
    due = azul_order(db, shop.alice, created=NOW - timedelta(hours=2))
    assert stock_of(db, "AZUL") == 0
    with db.session() as session:  # Bob's order is younger: not due yet
        fresh = Order(number="SB-FRESH", customer_id=shop.bob, status=OrderStatus.AWAITING_PAYMENT.value,
                      fulfilment="pickup", subtotal_satang=TOTAL, total_satang=TOTAL, created_at=NOW,
                      expires_at=NOW + timedelta(hours=1))
        session.add(fresh)
        session.flush()
        fresh_id = fresh.id

    result = run_once(db, settings, line, now=NOW)
    assert result["expired_orders"] == 1 and result["notifications_sent"] == 1
    assert status_of(db, due) == "expired" and status_of(db, fresh_id) == "awaiting_payment"
    assert stock_of(db, "AZUL") == 1
    assert run_once(db, settings, line, now=NOW)["expired_orders"] == 0
    assert stock_of(db, "AZUL") == 1  # released once only
    [push] = fake_line.of("push")  # Alice is told once; Bob hears nothing
    assert push["body"]["to"] == "U" + "a" * 32
    assert "หมดเวลาชำระเงิน" in push["body"]["messages"][0]["text"] and "1,390 บาท" in push["body"]["messages"][0]["text"]
    assert provider.calls == 0  # nothing pending: the provider is not asked


def test_an_order_whose_slip_is_being_checked_does_not_expire(db, settings, line, provider):
    order_id, _ = alice_pending_slip(db, settings, provider)
    assert status_of(db, order_id) == "payment_pending"
    run_once(db, settings, line, now=NOW + timedelta(hours=3))  # long past the deadline, provider still down
    assert status_of(db, order_id) == "payment_pending" and stock_of(db, "AZUL") == 0


# ---------------------------------------------------------------- slips decided later

def test_pending_slip_decided_later_is_pushed_exactly_once(db, settings, line, fake_line, provider):
    order_id, check_id = alice_pending_slip(db, settings, provider)

    assert run_once(db, settings, line, now=NOW + timedelta(seconds=30))["notifications_sent"] == 0  # not due
    assert run_once(db, settings, line, now=NOW + timedelta(minutes=2))["notifications_sent"] == 0  # still down
    assert fake_line.of("push") == [] and status_of(db, order_id) == "payment_pending"

    provider.answer = None
    later = NOW + timedelta(minutes=10)
    assert run_once(db, settings, line, now=later)["notifications_sent"] == 1
    assert run_once(db, settings, line, now=later)["notifications_sent"] == 0
    assert run_once(db, settings, line, now=later + timedelta(hours=1))["notifications_sent"] == 0

    [push] = fake_line.of("push")
    assert push["status"] == 200 and push["body"]["to"] == "U" + "a" * 32
    assert push["retry_key"] == str(uuid.uuid5(RETRY_KEYS, f"slip-check-{check_id}-0"))
    text, receipt = push["body"]["messages"]
    assert "ได้รับชำระเงิน" in text["text"] and "1,390 บาท" in text["text"]
    assert receipt["type"] == "flex" and "ใบเสร็จ" in receipt["altText"]
    assert status_of(db, order_id) == "paid"
    with db.session() as session:
        assert len(session.scalars(select(Payment)).all()) == 1
        assert session.get(SlipCheck, check_id).outcome == "paid"


def test_a_repeated_push_of_the_same_decision_is_a_duplicate_not_a_second_message(db, settings, line, fake_line,
                                                                                  provider):
    """A push LINE accepted but whose answer got lost is retried with the same key: LINE says 409."""
    order_id, check_id = alice_pending_slip(db, settings, provider)
    fake_line.retry_keys.add(str(uuid.uuid5(RETRY_KEYS, f"slip-check-{check_id}-0")))  # the lost first push

    provider.answer = None
    assert run_once(db, settings, line, now=NOW + timedelta(minutes=10))["notifications_sent"] == 1
    assert [call["status"] for call in fake_line.of("push")] == [409]
    assert fake_line.delivered() == []
    assert status_of(db, order_id) == "paid"


def test_a_failed_push_is_retried_with_the_same_key(db, settings, line, fake_line, provider):
    order_id, _ = alice_pending_slip(db, settings, provider)
    provider.answer = None
    fake_line.fail_next = [500]
    assert run_once(db, settings, line, now=NOW + timedelta(minutes=10))["notifications_sent"] == 1
    first, second = fake_line.of("push")
    assert (first["status"], second["status"]) == (500, 200) and first["retry_key"] == second["retry_key"]
    assert len(fake_line.delivered()) == 2  # the text and the receipt, once


def test_one_customers_failed_push_does_not_silence_the_others(db, settings, line, fake_line, provider):
    shop = seed_shop(db)
    alice_order = azul_order(db, shop.alice)
    with db.session() as session:
        from shop.models import Product

        session.scalar(select(Product).where(Product.sku == "AZUL")).stock = 1  # a second copy for Bob
    bob_order = azul_order(db, shop.bob)
    pending_slip(db, settings, shop.alice, alice_order, provider)
    check_slip(db, settings, customer_id=shop.bob, order_id=bob_order, payload=slip_payload("004", REF[:-1] + "9"),
               now=NOW, provider=provider)
    provider.answer = None
    fake_line.fail_next = [400]  # LINE refuses the first push for good (not retryable)

    result = run_once(db, settings, line, now=NOW + timedelta(minutes=10))
    assert (result["notifications_sent"], result["notifications_unsent"]) == (1, 1)
    assert {status_of(db, alice_order), status_of(db, bob_order)} == {"paid"}
    assert [call["status"] for call in fake_line.of("push")] == [400, 200]


def test_two_processes_at_once_push_once(any_db, settings, fake_line, provider):
    db = any_db
    order_id, _ = alice_pending_slip(db, settings, provider)
    provider.answer = None
    results, apis = [], [LineApi(settings), LineApi(settings)]

    def round_(api: LineApi) -> None:
        results.append(run_once(db, settings, api, now=NOW + timedelta(minutes=10)))

    threads = [threading.Thread(target=round_, args=(api,)) for api in apis]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for api in apis:
        api.close()
    assert sorted(r["notifications_sent"] for r in results) == [0, 1]
    assert len(fake_line.delivered()) == 2 and status_of(db, order_id) == "paid"


def test_a_push_that_keeps_failing_this_round_is_sent_next_round(db, settings, line, fake_line, provider):
    from webhooks.line_api import PUSH_ATTEMPTS

    order_id, check_id = alice_pending_slip(db, settings, provider)
    provider.answer = None
    fake_line.fail_next = [503] * PUSH_ATTEMPTS  # LINE down for the whole first round
    first = run_once(db, settings, line, now=NOW + timedelta(minutes=10))
    assert (first["notifications_sent"], first["notifications_unsent"]) == (0, 1)
    assert status_of(db, order_id) == "paid" and fake_line.delivered() == []

    second = run_once(db, settings, line, now=NOW + timedelta(minutes=11))
    assert (second["notifications_sent"], second["notifications_unsent"]) == (1, 0)
    assert len(fake_line.delivered()) == 2  # the text and the receipt, once
    assert {call["retry_key"] for call in fake_line.of("push")} == {
        str(uuid.uuid5(RETRY_KEYS, f"slip-check-{check_id}-0"))}
    assert run_once(db, settings, line, now=NOW + timedelta(minutes=12))["notifications_sent"] == 0


def test_a_push_line_refuses_for_good_is_not_retried(db, settings, line, fake_line, provider):
    from shop.models import Notification

    order_id, _ = alice_pending_slip(db, settings, provider)
    provider.answer = None
    fake_line.fail_next = [400]
    assert run_once(db, settings, line, now=NOW + timedelta(minutes=10))["notifications_unsent"] == 1
    assert run_once(db, settings, line, now=NOW + timedelta(minutes=11))["notifications_unsent"] == 0
    assert [call["status"] for call in fake_line.of("push")] == [400]
    with db.session() as session:
        [notification] = session.scalars(select(Notification)).all()
        assert notification.given_up_at is not None and "400" in notification.last_error
