"""Staff deciding slips (payments.review) on SQLite and PostgreSQL: approve pays the order once and
queues the receipt; reject sends the reason and lets the customer pay again; decided slips stay decided."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from backoffice_data import NOW, make_order, order_row, slip_for_review, status
from shop_data import seed_shop
from sqlalchemy import select

from bot.replies.fulfilment import customer_messages
from payments import review
from shop import audit
from shop.errors import ShopError
from shop.models import AuditEntry, Notification, Order, Payment, SlipCheck

STAFF = audit.Actor(None, "somchai")


def notes(db) -> list[Notification]:
    with db.session() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def test_approve_pays_the_order_and_queues_the_receipt(any_db, settings):
    shop = seed_shop(any_db)
    number = make_order(any_db, shop.alice)
    slip_id = slip_for_review(any_db, settings, shop.alice, number)
    assert status(any_db, number) == "awaiting_payment"  # the order keeps its expiry (issue 11)
    with any_db.session() as session:
        [listed] = review.slips_to_review(session)
    assert listed["id"] == slip_id and listed["order"]["number"] == number and listed["has_image"]

    paid = review.approve(any_db, STAFF, customer_messages, order_number=number.lower())
    assert paid["status"] == "paid" and paid["paid_at"]
    with any_db.session() as session:
        payment = session.scalar(select(Payment))
        check = session.get(SlipCheck, slip_id)
        entry = session.scalar(select(AuditEntry))
        assert review.slips_to_review(session) == []
    assert payment.amount_satang == order_row(any_db, number).total_satang and payment.trans_ref == f"staff-{slip_id}"
    assert check.outcome == "paid" and "approved by somchai" in check.note
    assert (entry.action, entry.subject_key, entry.before, entry.after) == (
        "slip.approve", number, {"order_status": "awaiting_payment", "slip_outcome": "needs_review"},
        {"order_status": "paid", "slip_outcome": "paid"})
    [note] = notes(any_db)
    messages = json.loads(note.messages)
    assert note.customer_id == shop.alice and "ได้รับชำระเงิน" in messages[0]["text"]
    assert messages[1]["type"] == "flex" and messages[1]["altText"].startswith(f"ใบเสร็จ {number}")

    with pytest.raises(ShopError) as again:
        review.approve(any_db, STAFF, customer_messages, slip_check_id=slip_id)
    assert again.value.code == "slip_decided"
    assert len(notes(any_db)) == 1


def test_reject_tells_the_reason_and_the_order_waits_for_payment_again(any_db, settings):
    shop = seed_shop(any_db)
    number = make_order(any_db, shop.alice, created=NOW - timedelta(minutes=59))
    slip_id = slip_for_review(any_db, settings, shop.alice, number)
    with pytest.raises(ShopError) as empty:
        review.reject(any_db, STAFF, customer_messages, "  ", slip_check_id=slip_id)
    assert empty.value.code == "missing_reason"

    review.reject(any_db, STAFF, customer_messages, "ยอดโอนไม่ครบ ขาดอีก 100 บาท", slip_check_id=slip_id,
                  pay_within_minutes=60, now=NOW)
    row = order_row(any_db, number)
    assert row.status == "awaiting_payment" and row.expires_at >= NOW + timedelta(minutes=60)
    text = json.loads(notes(any_db)[0].messages)[0]["text"]
    assert "ยอดโอนไม่ครบ ขาดอีก 100 บาท" in text and "ส่งสลิป" in text and "ภายใน" in text
    with any_db.session() as session:
        assert session.get(SlipCheck, slip_id).outcome == "rejected"
    with pytest.raises(ShopError):
        review.approve(any_db, STAFF, customer_messages, slip_check_id=slip_id)


def test_a_slip_without_an_order_can_be_rejected_not_approved(db, settings):
    from backoffice_data import photo_png

    from payments.checks import check_slip

    shop = seed_shop(db)
    result = check_slip(db, settings, customer_id=shop.bob, order_id=None, image=photo_png())
    assert result.outcome == "needs_review" and result.order_id is None
    with pytest.raises(ShopError) as refused:
        review.approve(db, STAFF, customer_messages, slip_check_id=result.slip_check_id)
    assert refused.value.code == "no_order"
    review.reject(db, STAFF, customer_messages, "ไม่พบคำสั่งซื้อ กรุณาสั่งซื้อใหม่", slip_check_id=result.slip_check_id)
    [note] = notes(db)
    assert note.customer_id == shop.bob and "ไม่พบคำสั่งซื้อ กรุณาสั่งซื้อใหม่" in json.loads(note.messages)[0]["text"]


def test_an_expired_order_cannot_be_approved(db, settings):
    shop = seed_shop(db)
    number = make_order(db, shop.alice)
    slip_id = slip_for_review(db, settings, shop.alice, number)
    with db.session() as session:
        session.scalar(select(Order).where(Order.number == number)).status = "expired"
    with pytest.raises(ShopError) as refused:
        review.approve(db, STAFF, customer_messages, slip_check_id=slip_id)
    assert refused.value.code == "order_not_payable"
    with db.session() as session:
        assert session.get(SlipCheck, slip_id).outcome == "needs_review"  # nothing changed


def test_one_slip_cannot_pay_two_orders(db, settings):
    """Two review slips with the same bank reference (a customer re-using a slip): the second approval fails."""
    shop = seed_shop(db)
    first, second = make_order(db, shop.alice), make_order(db, shop.alice, sku="TTR")
    ids = [slip_for_review(db, settings, shop.alice, n) for n in (first, second)]
    with db.session() as session:
        for check_id in ids:
            check = session.get(SlipCheck, check_id)
            check.sending_bank, check.trans_ref = "004", "016330142045BPM05678"
    review.approve(db, STAFF, customer_messages, slip_check_id=ids[0])
    with pytest.raises(ShopError) as refused:
        review.approve(db, STAFF, customer_messages, slip_check_id=ids[1])
    assert refused.value.code == "slip_used"
    assert status(db, second) == "awaiting_payment"
