"""Orders: creation with an atomic stock reservation, the last-copy race, cancel, expiry, scoping,
and the staff listing (`salesbot orders`)."""
from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from shop_data import DELIVERY, seed_shop, stock_of

from shop import cart as carts
from shop import orders
from shop.checkout import checkout_summary, set_shipping
from shop.customers import get_or_create_customer
from shop.errors import ShopError
from shop.models.catalog import Product
from shop.models.customers import Customer, StaffRequest
from shop.models.orders import Order, OrderStatus
from shop.models.payments import SlipCheck

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def shop(any_db):
    return seed_shop(any_db)


def fill_cart(db, customer_id, lines, fulfilment="pickup", **details):
    with db.session() as session:
        for sku, quantity in lines:
            carts.add_item(session, customer_id, carts.find_product(session, sku), quantity)
        set_shipping(session, session.get(Customer, customer_id), fulfilment, **details)


def summary_total(db, settings, customer_id):
    with db.session() as session:
        return checkout_summary(session, settings, session.get(Customer, customer_id))["total_satang"]


def place(db, settings, customer_id, total=None, now=NOW):
    total = summary_total(db, settings, customer_id) if total is None else total
    with db.session() as session:
        order = orders.create_order(session, settings, session.get(Customer, customer_id),
                                    expected_total_satang=total, now=now)
        return order.number


def status_of(db, number):
    with db.session() as session:
        return session.query(Order).filter_by(number=number).one().status


def test_order_reserves_stock_copies_prices_and_empties_the_cart(shop, settings):
    fill_cart(shop.db, shop.alice, [("SPL-TH", 2), ("TTR", 1)], "delivery", **DELIVERY)
    number = place(shop.db, settings, shop.alice)
    assert re.fullmatch(r"SB261126-\d{4}", number)
    assert stock_of(shop.db, "SPL-TH") == 3 and stock_of(shop.db, "TTR") == 9
    with shop.db.session() as session:
        session.query(Product).filter_by(sku="SPL-TH").one().sale_price_satang = 99900  # a later price change
    with shop.db.session() as session:
        order = orders.find_order(session, shop.alice, number.lower())
        data = orders.order_json(order)
        assert carts.cart_json(session, shop.alice)["items"] == []
    assert [(i["name"], i["quantity"], i["unit_price_satang"]) for i in data["items"]] == [
        ("สเพลนเดอร์ (TH)", 2, 126000), ("ต่อรถไฟ", 1, 175050)]  # prices as at order time
    assert data["shipping_satang"] == settings.delivery_fee_satang
    assert data["total_satang"] == 2 * 126000 + 175050 + settings.delivery_fee_satang
    assert data["ship_phone"] == "0812345678" and data["status"] == "awaiting_payment"
    assert datetime.fromisoformat(data["expires_at"]) == NOW + timedelta(minutes=settings.order_expiry_minutes)
    assert data["pay_before_text"] == "26/11/2026 18:00 น."  # shop time, UTC+7


def test_a_changed_total_asks_for_a_fresh_confirmation_and_reserves_nothing(shop, settings):
    fill_cart(shop.db, shop.alice, [("AZUL", 1)])
    seen = summary_total(shop.db, settings, shop.alice)
    with shop.db.session() as session:
        session.query(Product).filter_by(sku="AZUL").one().list_price_satang = 149000
    with pytest.raises(ShopError) as error:
        place(shop.db, settings, shop.alice, total=seen)
    assert error.value.code == "total_changed"
    assert error.value.details["summary"]["total_satang"] == 149000
    assert "1,490 บาท" in error.value.message_th
    assert stock_of(shop.db, "AZUL") == 1
    assert place(shop.db, settings, shop.alice, total=149000)  # confirmed again at the new total


def test_incomplete_checkout_and_empty_cart_are_refused(shop, settings):
    with pytest.raises(ShopError) as empty:
        place(shop.db, settings, shop.alice, total=0)
    assert empty.value.code == "cart_empty"
    fill_cart(shop.db, shop.alice, [("AZUL", 1)], "delivery", name="สมชาย ใจดี")
    with pytest.raises(ShopError) as incomplete:
        place(shop.db, settings, shop.alice)
    assert incomplete.value.code == "checkout_incomplete"
    assert incomplete.value.details["missing"] == ["phone", "address"]
    assert stock_of(shop.db, "AZUL") == 1


def test_a_short_line_reserves_nothing_at_all(shop, settings):
    fill_cart(shop.db, shop.alice, [("TTR", 2), ("AZUL", 1), ("SPL-TH", 1)])
    with shop.db.session() as session:
        session.query(Product).filter_by(sku="AZUL").one().stock = 0  # sold in the shop meanwhile
    with pytest.raises(ShopError) as error:
        place(shop.db, settings, shop.alice)
    assert error.value.code == "out_of_stock" and error.value.details["sku"] == "AZUL"
    assert (stock_of(shop.db, "TTR"), stock_of(shop.db, "SPL-TH")) == (10, 5)  # earlier lines given back
    with shop.db.session() as session:
        assert len(carts.cart_json(session, shop.alice)["items"]) == 3  # the cart stays for the customer


def test_even_a_caller_that_swallows_the_error_and_commits_keeps_stock_right(shop, settings):
    fill_cart(shop.db, shop.alice, [("TTR", 2), ("AZUL", 1)])
    total = summary_total(shop.db, settings, shop.alice)
    with shop.db.session() as session:
        session.query(Product).filter_by(sku="AZUL").one().stock = 0
    with shop.db.session() as session:
        with pytest.raises(ShopError):
            orders.create_order(session, settings, session.get(Customer, shop.alice),
                                expected_total_satang=total, now=NOW)
    assert stock_of(shop.db, "TTR") == 10


def test_two_customers_buying_the_last_copy_exactly_one_succeeds(shop, settings):
    buyers = [shop.alice, shop.bob]
    with shop.db.session() as session:
        buyers += [get_or_create_customer(session, f"U{n:032x}").id for n in range(2)]
    for buyer in buyers:
        fill_cart(shop.db, buyer, [("AZUL", 1)])
    barrier = threading.Barrier(len(buyers))
    outcomes: dict[int, str] = {}

    def buy(customer_id):
        barrier.wait()
        try:
            outcomes[customer_id] = place(shop.db, settings, customer_id, total=139000)
        except ShopError as error:
            outcomes[customer_id] = error.code

    threads = [threading.Thread(target=buy, args=(buyer,)) for buyer in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [o for o in outcomes.values() if o.startswith("SB")]
    assert len(outcomes) == len(buyers)
    assert len(winners) == 1, outcomes
    assert sorted(o for o in outcomes.values() if not o.startswith("SB")) == ["out_of_stock"] * (len(buyers) - 1)
    assert stock_of(shop.db, "AZUL") == 0
    with shop.db.session() as session:
        assert session.query(Order).count() == 1


def test_cancel_releases_stock_once_and_only_for_unpaid_orders(shop, settings):
    fill_cart(shop.db, shop.alice, [("SPL-TH", 2)])
    number = place(shop.db, settings, shop.alice)
    assert stock_of(shop.db, "SPL-TH") == 3
    with shop.db.session() as session:
        order = orders.cancel_order(session, shop.alice, number, now=NOW + timedelta(minutes=5))
        assert order.status == "cancelled" and order.closed_at is not None
    assert stock_of(shop.db, "SPL-TH") == 5
    with shop.db.session() as session, pytest.raises(ShopError) as again:
        orders.cancel_order(session, shop.alice, number)
    assert again.value.code == "cannot_cancel" and "ยกเลิกไปแล้ว" in again.value.message_th
    assert stock_of(shop.db, "SPL-TH") == 5  # not released twice

    fill_cart(shop.db, shop.alice, [("SPL-TH", 1)])
    paid = place(shop.db, settings, shop.alice)
    with shop.db.session() as session:
        session.query(Order).filter_by(number=paid).one().status = OrderStatus.PAID.value
    with shop.db.session() as session, pytest.raises(ShopError) as error:
        orders.cancel_order(session, shop.alice, paid)
    assert error.value.code == "cannot_cancel" and "พนักงาน" in error.value.message_th
    assert stock_of(shop.db, "SPL-TH") == 4


def test_expiry_releases_stock_of_unpaid_orders_only(shop, settings):
    fill_cart(shop.db, shop.alice, [("TTR", 1)])
    checking = place(shop.db, settings, shop.alice, now=NOW)
    with shop.db.session() as session:  # a slip is being checked: no longer awaiting payment
        session.query(Order).filter_by(number=checking).one().status = OrderStatus.PAYMENT_PENDING.value
    fill_cart(shop.db, shop.alice, [("SPL-TH", 2)])
    old = place(shop.db, settings, shop.alice, now=NOW)
    fill_cart(shop.db, shop.bob, [("SPL-TH", 1)])
    fresh = place(shop.db, settings, shop.bob, now=NOW + timedelta(minutes=50))
    later = NOW + timedelta(minutes=settings.order_expiry_minutes + 1)
    assert len(orders.expire_unpaid_orders(shop.db, settings, later)) == 1
    assert (status_of(shop.db, old), status_of(shop.db, checking), status_of(shop.db, fresh)) == (
        "expired", "payment_pending", "awaiting_payment")
    assert stock_of(shop.db, "SPL-TH") == 4 and stock_of(shop.db, "TTR") == 9
    assert orders.expire_unpaid_orders(shop.db, settings, later) == []  # nothing released twice


def test_another_customers_order_is_simply_not_found(shop, settings):
    fill_cart(shop.db, shop.alice, [("AZUL", 1)])
    number = place(shop.db, settings, shop.alice)
    with shop.db.session() as session:
        for attempt in (lambda: orders.find_order(session, shop.bob, number),
                        lambda: orders.cancel_order(session, shop.bob, number)):
            with pytest.raises(ShopError) as error:
                attempt()
            assert error.value.code == "order_not_found"
        assert orders.recent_orders(session, shop.bob) == []
    assert status_of(shop.db, number) == "awaiting_payment" and stock_of(shop.db, "AZUL") == 0


def test_salesbot_orders_lists_orders_with_payment_outcome(shop, settings, monkeypatch):
    from bot.commands.orders import orders as orders_command
    from shop.settings import get_settings

    fill_cart(shop.db, shop.alice, [("SPL-TH", 1)], "delivery", **DELIVERY)
    first = place(shop.db, settings, shop.alice)
    fill_cart(shop.db, shop.bob, [("AZUL", 1)])
    second = place(shop.db, settings, shop.bob)
    with shop.db.session() as session:
        order = session.query(Order).filter_by(number=second).one()
        session.add(SlipCheck(customer_id=shop.bob, order_id=order.id, outcome="rejected", reason="wrong_amount"))
    with shop.db.session() as session:
        session.add(StaffRequest(customer_id=shop.bob, reason="ขอคุยกับพนักงาน", order_number=second))
    monkeypatch.setenv("DATABASE_URL", shop.db.url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        as_json = runner.invoke(orders_command, ["--json"])
        text = runner.invoke(orders_command, ["--status", "awaiting_payment"])
        only_paid = runner.invoke(orders_command, ["--status", "paid", "--json"])
        bad = runner.invoke(orders_command, ["--status", "lost"])
        request_id = json.loads(as_json.output)["staff_requests"][0]["id"]
        resolved = runner.invoke(orders_command, ["--resolve", str(request_id)])
        again = runner.invoke(orders_command, ["--resolve", str(request_id)])
        after = runner.invoke(orders_command, ["--json"])
    finally:
        get_settings.cache_clear()
    assert as_json.exit_code == 0, as_json.output
    rows = {row["number"]: row for row in json.loads(as_json.output)["orders"]}
    assert set(rows) == {first, second}
    assert rows[first]["customer"]["display_name"] == "Alice"
    assert rows[first]["payment"]["outcome"] == "no_slip"
    assert rows[second]["payment"] == {"outcome": "rejected", "reason": "wrong_amount", "amount_satang": None}
    assert rows[first]["items"][0]["quantity"] == 1 and rows[first]["total_satang"] == 126000 + 5000
    assert text.exit_code == 0 and first in text.output and "rejected (wrong_amount)" in text.output
    assert "1 × สเพลนเดอร์ (TH)" in text.output and "0812345678" in text.output
    assert json.loads(only_paid.output)["orders"] == []
    assert bad.exit_code != 0 and "lost" in bad.output
    assert "customers waiting for staff: 1" in text.output and "ขอคุยกับพนักงาน" in text.output
    assert resolved.exit_code == 0 and again.exit_code == 1 and "no open staff request" in again.output
    assert json.loads(after.output)["staff_requests"] == []


def test_first_messages_racing_create_one_customer(any_db):
    barrier = threading.Barrier(4)
    ids: list[int] = []

    def first_message():
        barrier.wait()
        with any_db.session() as session:
            ids.append(get_or_create_customer(session, "U" + "f" * 32, "Fern").id)

    threads = [threading.Thread(target=first_message) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(ids) == 4 and len(set(ids)) == 1
    with any_db.session() as session:
        assert session.query(Customer).count() == 1
