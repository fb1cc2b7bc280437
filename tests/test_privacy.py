"""Personal data: a customer forgotten on request keeps the shop's accounts; retention deletes what is old.
SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from shop_data import seed_shop
from sqlalchemy import func, select

from shop.models import ChatMessage, Customer, Media, Notification, Order, Payment, SlipCheck
from shop.models.base import utcnow
from shop.models.inbox import InboxEvent
from shop.privacy import forget_customer, purge_expired

USER = "U" + "a" * 32
NOW = utcnow()


def add_order(session, customer_id, number, status, age_days, *, photo=True):
    created = NOW - timedelta(days=age_days)
    order = Order(number=number, customer_id=customer_id, status=status, fulfilment="delivery",
                  ship_name="สมชาย ใจดี", ship_phone="0812345678", ship_address="99/1 ถ.สุขุมวิท กทม. 10110",
                  subtotal_satang=126000, shipping_satang=5000, total_satang=131000, created_at=created,
                  expires_at=created + timedelta(hours=1))
    session.add(order)
    session.flush()
    media = None
    if photo:
        media = Media(token=f"t-{number}", kind="customer_image", content_type="image/jpeg", data=b"slip",
                      line_message_id=f"m-{number}", created_at=created)
        session.add(media)
        session.flush()
    session.add(SlipCheck(customer_id=customer_id, order_id=order.id, media_id=media.id if media else None,
                          qr_payload="0041000600000101030040220" + number, sending_bank="004", trans_ref="REF" + number,
                          outcome="paid", provider_raw={"sender": {"name": "นาย สมชาย ใจดี"}}, created_at=created))
    return order


def test_a_forgotten_customer_leaves_the_accounts_and_nothing_personal(any_db):
    shop = seed_shop(any_db)
    with any_db.session() as session:
        customer = session.get(Customer, shop.alice)
        customer.ship_name, customer.ship_phone, customer.ship_address = "สมชาย ใจดี", "0812345678", "กทม. 10110"
        order = add_order(session, shop.alice, "SB-1", "paid", 3)
        session.add(Payment(order_id=order.id, amount_satang=131000, sending_bank="004", trans_ref="REFSB-1"))
        session.add(ChatMessage(customer_id=shop.alice, role="user", text="ส่งที่ 99/1 ถ.สุขุมวิท นะคะ"))
        session.add(Notification(customer_id=shop.alice, key="receipt-1", messages="[]"))
        session.add(InboxEvent(webhook_event_id="E1", chat_id=USER, event_type="message", timestamp_ms=1,
                               body='{"message": {"text": "ชื่อ สมชาย"}}', status="done"))
    with any_db.session() as session:
        erased = forget_customer(session, USER)
    assert (erased.orders, erased.images, erased.chat_lines) == (1, 1, 1)
    with any_db.session() as session:
        customer = session.get(Customer, shop.alice)
        assert customer.line_user_id != USER and customer.line_user_id.startswith("forgotten-")
        assert (customer.ship_name, customer.ship_phone, customer.ship_address, customer.display_name) == ("", "", "", "")
        order = session.scalar(select(Order).where(Order.number == "SB-1"))
        assert (order.total_satang, order.status) == (131000, "paid")
        assert (order.ship_name, order.ship_phone, order.ship_address) == ("", "", "")
        assert session.scalar(select(Payment.trans_ref)) == "REFSB-1"   # a reused slip is still refused
        check = session.scalar(select(SlipCheck))
        assert check.provider_raw is None and check.media_id is None and check.trans_ref == "REFSB-1"
        for model in (Media, ChatMessage, Notification, InboxEvent):
            assert session.scalar(select(func.count()).select_from(model)) == 0
    with any_db.session() as session:
        assert forget_customer(session, USER) is None  # the LINE id is gone


def test_retention_deletes_old_personal_data_of_settled_orders_only(any_db):
    shop = seed_shop(any_db)
    with any_db.session() as session:
        add_order(session, shop.alice, "OLD-PAID", "paid", 200)
        add_order(session, shop.alice, "OLD-OPEN", "needs_review", 200)
        add_order(session, shop.bob, "NEW-PAID", "paid", 10)
        session.add(ChatMessage(customer_id=shop.alice, role="user", text="เก่า", created_at=NOW - timedelta(days=200)))
        session.add(ChatMessage(customer_id=shop.alice, role="user", text="ใหม่", created_at=NOW))
    with any_db.session() as session:
        erased = purge_expired(session, 180, NOW)
    assert (erased.orders, erased.images, erased.chat_lines) == (1, 1, 1)
    with any_db.session() as session:
        addresses = dict(session.execute(select(Order.number, Order.ship_address)).all())
        assert addresses["OLD-PAID"] == "" and addresses["OLD-OPEN"] and addresses["NEW-PAID"]
        photos = set(session.scalars(select(Media.token)))
        assert photos == {"t-OLD-OPEN", "t-NEW-PAID"}   # staff may still need the open order's slip
        assert list(session.scalars(select(ChatMessage.text))) == ["ใหม่"]


def test_cli_forget_asks_first(db, monkeypatch):
    from bot.commands import customers

    seed_shop(db)
    monkeypatch.setattr("shop.db.get_database", lambda url=None: db)
    monkeypatch.setattr(customers, "settings_or_exit", lambda: type("S", (), {"database_url": "x"})())
    refused = CliRunner().invoke(customers.customers, ["forget", USER], input="n\n")
    assert refused.exit_code == 1
    with db.session() as session:
        assert session.scalar(select(Customer.line_user_id).where(Customer.id == 1)) == USER
    done = CliRunner().invoke(customers.customers, ["forget", USER, "--yes"])
    assert done.exit_code == 0 and "orders and amounts kept" in done.output
    unknown = CliRunner().invoke(customers.customers, ["forget", "Unobody", "--yes"])
    assert unknown.exit_code == 1 and "no customer" in unknown.output
