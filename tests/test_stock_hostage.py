"""No stock held hostage (issue 11, item 3), through the simulator against the real service on SQLite
and PostgreSQL: a photo without a slip QR keeps the order's expiry, one customer holds at most one
order awaiting payment, and staff can cancel any order (`salesbot orders cancel`)."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import test_conversation as conversation
from click.testing import CliRunner
from PIL import Image, ImageDraw
from sqlalchemy import select
from test_conversation import add_by_text, button, confirm_pickup, new_user, order_with_qr, text_of, types

from bot.commands.orders import orders as orders_command
from bot.housekeeping import run_once
from shop.models import Notification, SlipCheck

service, shop = conversation.service, conversation.shop  # the running service and its fixtures, reused


def box_photo() -> bytes:
    """A photo of a game box: colours and a title, no QR code anywhere."""
    image = Image.new("RGB", (1200, 900), (40, 90, 160))
    draw = ImageDraw.Draw(image)
    draw.rectangle((150, 120, 1050, 780), fill=(230, 200, 60), outline=(20, 20, 20), width=12)
    draw.text((420, 420), "TICKET TO RIDE", fill=(20, 20, 20))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def housekeeping(shop, now):
    line = shop.line_api()
    try:
        return run_once(shop.db, shop.settings(), line, now=now)
    finally:
        line.close()


def test_a_photo_without_a_slip_qr_asks_for_the_slip_and_the_order_still_expires(shop):
    user = new_user()
    order_with_qr(shop, user)
    assert shop.stock("AZUL") == 0
    answer = shop.sim.send_image(user, box_photo())
    assert "สลิป" in text_of(answer) and "QR" in text_of(answer)
    [order] = shop.orders(user)
    assert order.status == "awaiting_payment"  # not needs_review: nothing waits for staff
    with shop.db.session() as session:  # staff may still look at the picture
        [check] = session.scalars(select(SlipCheck).where(SlipCheck.order_id == order.id)).all()
        assert (check.reason, check.media_id is not None) == ("no_qr", True)
    assert housekeeping(shop, order.expires_at + timedelta(minutes=1))["expired_orders"] == 1
    assert [o.status for o in shop.orders(user)] == ["expired"] and shop.stock("AZUL") == 1


def test_one_customer_holds_at_most_one_unpaid_order(shop):
    """The report: one account held 9 of 10 units on 3 orders."""
    user = new_user()
    first = confirm_pickup(shop, user, add_by_text(shop, user, "เอาต่อรถไฟ 3 กล่อง"))
    assert types(first)[-1] == "image" and shop.stock("TTR") == 7
    for _ in range(2):
        again = confirm_pickup(shop, user, add_by_text(shop, user, "เอาต่อรถไฟ 3 กล่อง"))
        assert "image" not in types(again)
        [order] = shop.orders(user)
        assert order.number in text_of(again) and "ยกเลิก" in text_of(again)
    assert [o.status for o in shop.orders(user)] == ["awaiting_payment"] and shop.stock("TTR") == 7
    # another customer can still buy what is left
    other = new_user()
    bought = confirm_pickup(shop, other, add_by_text(shop, other, "เอาต่อรถไฟ 7 กล่อง"))
    assert types(bought)[-1] == "image" and shop.stock("TTR") == 0


def test_after_cancelling_the_customer_can_order_again(shop):
    user = new_user()
    created = order_with_qr(shop, user, "เอาสเพลนเดอร์ 1 กล่อง")
    shop.sim.click(user, button(created, "cancel"))
    again = order_with_qr(shop, user, "เอาสเพลนเดอร์ 2 กล่อง")
    assert "คำสั่งซื้อ" in text_of(again)
    assert [o.status for o in shop.orders(user)] == ["cancelled", "awaiting_payment"] and shop.stock("SPL-TH") == 3


def test_staff_cancel_an_order_waiting_for_review_and_the_customer_is_told(shop, monkeypatch):
    user = new_user()
    order_with_qr(shop, user, "เอาต่อรถไฟ 2 กล่อง")
    [order] = shop.orders(user)
    from sqlalchemy import update

    from shop.models import Order
    with shop.db.session() as session:  # e.g. a slip staff could not confirm: the order never expires
        session.execute(update(Order).where(Order.id == order.id).values(status="needs_review"))
    assert housekeeping(shop, datetime.now(UTC) + timedelta(days=2))["expired_orders"] == 0
    assert shop.stock("TTR") == 8

    monkeypatch.setenv("DATABASE_URL", shop.db.url)
    from shop.settings import get_settings
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        missing = runner.invoke(orders_command, ["cancel", order.number])
        assert missing.exit_code != 0 and "--reason" in missing.output
        done = runner.invoke(orders_command, ["cancel", order.number.lower(), "--reason", "ลูกค้าขอยกเลิกทางโทรศัพท์"])
        assert done.exit_code == 0, done.output
        assert order.number in done.output and "stock released" in done.output
        again = runner.invoke(orders_command, ["cancel", order.number, "--reason", "ซ้ำ"])
        assert again.exit_code == 1 and "step_not_allowed" in again.output
        listed = runner.invoke(orders_command, ["--json"])
        assert "ลูกค้าขอยกเลิกทางโทรศัพท์" in listed.output
    finally:
        get_settings.cache_clear()
    [cancelled] = shop.orders(user)
    assert cancelled.status == "cancelled" and cancelled.cancel_reason == "ลูกค้าขอยกเลิกทางโทรศัพท์"
    assert shop.stock("TTR") == 10
    with shop.db.session() as session:
        [notice] = session.scalars(select(Notification).where(Notification.key == f"order-cancel-{order.id}"))
        assert order.number in notice.messages
    before = len(shop.sim.transcript(user))
    assert housekeeping(shop, datetime.now(UTC))["notifications_sent"] == 1
    pushed = [e for e in shop.sim.transcript(user)[before:] if e["from"] == "bot"]
    assert [e["via"] for e in pushed] == ["push"] and "ยกเลิกคำสั่งซื้อ" in pushed[0]["message"]["text"]
