"""Staff steps on an order (shop.fulfilment) on SQLite and PostgreSQL: allowed transitions only, one
audit entry and one customer notification per step, stock back on cancel, two staff at once."""
from __future__ import annotations

import json
import threading

import pytest
from backoffice_data import make_order, order_row, status
from shop_data import seed_shop, stock_of
from sqlalchemy import select

from bot.replies.fulfilment import customer_messages
from shop import audit
from shop.errors import ShopError
from shop.fulfilment import advance, next_steps
from shop.models import AuditEntry, Notification

STAFF = audit.Actor(None, "test-staff")


def notes(db) -> list[Notification]:
    with db.session() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def audit_rows(db, number: str) -> list[AuditEntry]:
    with db.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.subject_key == number).order_by(AuditEntry.id)))


def test_delivery_order_packed_shipped_delivered(any_db):
    shop = seed_shop(any_db)
    number = make_order(any_db, shop.alice, status="paid", fulfilment="delivery")
    assert [s.action for s in next_steps(order_row(any_db, number))] == ["pack", "ship", "cancel"]

    advance(any_db, STAFF, number, "pack", customer_messages)
    assert status(any_db, number) == "packed"
    assert notes(any_db) == []  # a delivery order hears from the shop when it ships

    shipped = advance(any_db, STAFF, number, "ship", customer_messages, carrier="Kerry Express",
                      tracking_number="  KEX 1234 5678 ")
    assert shipped["status"] == "shipped" and shipped["tracking_number"] == "KEX 1234 5678"
    [note] = notes(any_db)
    messages = json.loads(note.messages)
    assert note.customer_id == shop.alice and note.key == f"order-ship-{order_row(any_db, number).id}"
    assert messages[1]["type"] == "flex" and "KEX 1234 5678" in json.dumps(messages[1], ensure_ascii=False)
    assert messages[1]["contents"]["footer"]["contents"][0]["action"] == {
        "type": "clipboard", "label": "คัดลอกเลขพัสดุ", "clipboardText": "KEX 1234 5678"}

    advance(any_db, STAFF, number, "deliver", customer_messages)
    row = order_row(any_db, number)
    assert row.status == "delivered" and row.fulfilled_at is not None and row.shipped_at is not None
    entries = audit_rows(any_db, number)
    assert [e.action for e in entries] == ["order.pack", "order.ship", "order.deliver"]
    assert entries[1].before == {"status": "packed", "shipped_at": None, "carrier": "", "tracking_number": ""}
    assert entries[1].after["tracking_number"] == "KEX 1234 5678" and entries[1].actor == "test-staff"
    assert next_steps(row) == []


def test_pickup_order_is_ready_then_picked_up(any_db):
    shop = seed_shop(any_db)
    number = make_order(any_db, shop.bob, status="paid", fulfilment="pickup")
    with pytest.raises(ShopError) as refused:
        advance(any_db, STAFF, number, "ship", customer_messages, carrier="Kerry", tracking_number="X1")
    assert refused.value.code == "wrong_fulfilment"
    advance(any_db, STAFF, number, "pack", customer_messages)
    advance(any_db, STAFF, number, "pick_up", customer_messages)
    texts = [json.loads(n.messages)[0]["text"] for n in notes(any_db)]
    assert "พร้อมให้มารับที่ร้าน" in texts[0] and "ขอบคุณที่มารับสินค้า" in texts[1]
    assert status(any_db, number) == "picked_up"


def test_steps_out_of_order_are_refused_and_change_nothing(any_db):
    shop = seed_shop(any_db)
    unpaid = make_order(any_db, shop.alice, status="awaiting_payment")
    for action in ("pack", "ship", "deliver"):
        with pytest.raises(ShopError) as refused:
            advance(any_db, STAFF, unpaid, action, customer_messages, carrier="Kerry", tracking_number="X1")
        assert refused.value.code == "step_not_allowed" and "รอชำระเงิน" in refused.value.message_th
    assert status(any_db, unpaid) == "awaiting_payment" and audit_rows(any_db, unpaid) == [] and notes(any_db) == []


@pytest.mark.parametrize("fields, code", [
    ({"carrier": "", "tracking_number": "X1"}, "missing_ชื่อขนส่ง"),
    ({"carrier": "Kerry", "tracking_number": "   "}, "missing_เลขพัสดุ"),
    ({"carrier": "Kerry", "tracking_number": "X" * 81}, "too_long"),
])
def test_shipping_needs_a_carrier_and_a_tracking_number(db, fields, code):
    shop = seed_shop(db)
    number = make_order(db, shop.alice, status="paid")
    with pytest.raises(ShopError) as refused:
        advance(db, STAFF, number, "ship", customer_messages, **fields)
    assert refused.value.code == code
    assert status(db, number) == "paid"


def test_cancel_needs_a_reason_gives_stock_back_and_tells_the_customer(any_db):
    shop = seed_shop(any_db)
    number = make_order(any_db, shop.alice, sku="TTR", quantity=2, status="paid")
    assert stock_of(any_db, "TTR") == 8
    with pytest.raises(ShopError):
        advance(any_db, STAFF, number, "cancel", customer_messages, reason=" ")
    advance(any_db, STAFF, number, "cancel", customer_messages, reason="สินค้าชำรุดจากโรงงาน")
    assert stock_of(any_db, "TTR") == 10
    row = order_row(any_db, number)
    assert row.status == "cancelled" and row.cancel_reason == "สินค้าชำรุดจากโรงงาน" and row.closed_at is not None
    text = json.loads(notes(any_db)[0].messages)[0]["text"]
    assert "สินค้าชำรุดจากโรงงาน" in text and "คืนเงิน" in text  # it was paid: a refund is promised
    with pytest.raises(ShopError):  # twice: refused, stock not given back again
        advance(any_db, STAFF, number, "cancel", customer_messages, reason="อีกครั้ง")
    assert stock_of(any_db, "TTR") == 10


def test_an_unpaid_order_cancelled_by_staff_promises_no_refund(db):
    shop = seed_shop(db)
    number = make_order(db, shop.alice, status="awaiting_payment")
    advance(db, STAFF, number, "cancel", customer_messages, reason="ลูกค้าขอยกเลิกทางโทรศัพท์")
    assert "คืนเงิน" not in json.loads(notes(db)[0].messages)[0]["text"]
    assert stock_of(db, "SPL-TH") == 5


def test_a_shipped_order_cannot_be_cancelled(db):
    shop = seed_shop(db)
    number = make_order(db, shop.alice, status="shipped")
    with pytest.raises(ShopError) as refused:
        advance(db, STAFF, number, "cancel", customer_messages, reason="x")
    assert refused.value.code == "step_not_allowed"


@pytest.mark.postgres
def test_two_staff_shipping_at_once_one_wins(postgres_db):
    shop = seed_shop(postgres_db)
    number = make_order(postgres_db, shop.alice, status="paid")
    results, barrier = [], threading.Barrier(2)

    def ship(tracking: str) -> None:
        barrier.wait()
        try:
            advance(postgres_db, STAFF, number, "ship", customer_messages, carrier="Flash", tracking_number=tracking)
            results.append("ok")
        except ShopError as error:
            results.append(error.code)

    threads = [threading.Thread(target=ship, args=(t,)) for t in ("TH1", "TH2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ok", "step_not_allowed"]
    assert len(notes(postgres_db)) == 1 and len(audit_rows(postgres_db, number)) == 1


def test_where_is_my_order_answers_with_the_new_status_and_tracking_number(db, settings):
    from fake_line_api import text_event

    from bot.turn import run_turn

    shop = seed_shop(db)
    number = make_order(db, shop.alice, status="paid")
    advance(db, STAFF, number, "ship", customer_messages, carrier="Kerry Express", tracking_number="KEX998877")
    messages = run_turn(db, settings, text_event("ออเดอร์ของฉันถึงไหนแล้วคะ", user="U" + "a" * 32))
    answer = messages[0]["text"]
    assert number in answer and "จัดส่งแล้ว" in answer and "Kerry Express" in answer and "KEX998877" in answer


def test_the_bot_stays_quiet_in_the_staff_group(db, settings):
    from fake_line_api import text_event

    from bot.turn import run_turn

    group = "C" + "7" * 32
    event = text_event("สวัสดีค่ะ", user="U" + "c" * 32)
    event["source"] = {"type": "group", "groupId": group, "userId": "U" + "c" * 32}
    assert run_turn(db, settings.model_copy(update={"staff_line_target": group}), event) == []
