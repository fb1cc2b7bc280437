"""The shop's own slip checks, whatever the provider says. The conversation code calls only `check_slip`;
the worker calls `retry_pending_slips` periodically.

Outcomes (SlipOutcome): paid · rejected (reason + Thai message saying what to do next) · pending (provider
unreachable: stored and retried, the customer is told it is being checked) · needs_review (staff decide).
Every outcome is a SlipCheck row with the provider's raw answer. The Payment row (unique sending bank +
transRef, unique order) is written in the same transaction that marks the order paid, with the order row
locked, so one slip can pay only once and one order is paid only once.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from payments.providers import ProviderUnavailable, SlipProvider, Verification, get_provider
from payments.providers.base import DUPLICATE, FLAG_DUPLICATE, FLAG_RECEIVER_MISMATCH, INVALID_QR, NOT_FOUND
from payments.receiver import check_receiver
from payments.slip_qr import SlipReading, read_slip_image, read_slip_text
from shop.models import Order, OrderStatus, Payment, SlipCheck, SlipOutcome
from shop.money import format_baht

log = logging.getLogger(__name__)

PAYABLE = {OrderStatus.AWAITING_PAYMENT.value, OrderStatus.PAYMENT_PENDING.value, OrderStatus.NEEDS_REVIEW.value}
CLAIM_LEASE = timedelta(minutes=2)        # a check being verified is retried after this if the process dies
MAX_PENDING_ATTEMPTS = 12                 # then staff are asked to decide (about 5 hours of retries)
MAX_BACKOFF = timedelta(minutes=30)

# reason code -> outcome. Reasons not listed here are rejections.
NEEDS_REVIEW_REASONS = {"no_qr", "no_open_order", "order_already_paid", "order_closed", "provider_duplicate",
                        "receiver_unverified", "slip_data_incomplete", "slip_in_future", "provider_problem",
                        "no_provider", "provider_unavailable_long"}
# Staff may look at these, but the order stays open and keeps its expiry: a photo without a slip QR
# (a box photo, a blurred slip) must not hold the stock indefinitely. The customer is asked for the slip.
ORDER_STAYS_OPEN = {"no_qr"}

_NEXT_STEP_PAY = "รบกวนชำระผ่าน QR พร้อมเพย์ของคำสั่งซื้อ แล้วส่งสลิปจากแอปธนาคารมาอีกครั้งนะคะ"
MESSAGES_TH = {
    "paid": "ได้รับชำระเงิน {amount} สำหรับคำสั่งซื้อ {order} เรียบร้อยแล้วค่ะ ขอบคุณมากค่ะ 🙏",
    "provider_unavailable": "ทางร้านได้รับสลิปแล้วค่ะ ตอนนี้ระบบธนาคารตอบช้า ทางร้านกำลังตรวจสอบให้อยู่ "
                            "และจะแจ้งผลทันทีที่ตรวจเสร็จค่ะ ไม่ต้องส่งสลิปซ้ำนะคะ",
    "wrong_amount": "ยอดเงินในสลิป ({slip_amount}) ไม่ตรงกับยอดที่ต้องชำระ ({amount}) ค่ะ "
                    "รบกวนตรวจสอบยอดอีกครั้งนะคะ หากโอนไปแล้ว พิมพ์แจ้งทางร้านได้เลย พนักงานจะช่วยดูให้ค่ะ",
    "wrong_receiver": "สลิปนี้โอนเข้าบัญชีอื่นที่ไม่ใช่บัญชีของร้านค่ะ " + _NEXT_STEP_PAY,
    "slip_used": "สลิปนี้เคยใช้ชำระเงินไปแล้วค่ะ หากเป็นการโอนครั้งใหม่ รบกวนส่งสลิปของรายการล่าสุดนะคะ",
    "slip_used_same_order": "สลิปนี้ใช้ชำระคำสั่งซื้อ {order} เรียบร้อยแล้วค่ะ ไม่ต้องส่งซ้ำนะคะ",
    "slip_too_old": "สลิปนี้เป็นรายการโอนที่เก่าเกินไปค่ะ รบกวนส่งสลิปของการโอนสำหรับคำสั่งซื้อ {order} นะคะ",
    "slip_before_order": "สลิปนี้เป็นการโอนก่อนที่จะสั่งซื้อรายการนี้ค่ะ "
                         "รบกวนส่งสลิปของการโอนสำหรับคำสั่งซื้อ {order} นะคะ",
    "slip_not_found": "ทางร้านตรวจสอบกับธนาคารแล้วไม่พบรายการโอนนี้ค่ะ รบกวนตรวจสอบว่าโอนสำเร็จและยอดตรงกับ "
                      "{amount} แล้วส่งสลิปจากแอปธนาคารมาอีกครั้งนะคะ",
    "invalid_slip_qr": "QR บนสลิปนี้ไม่ถูกต้องค่ะ รบกวนส่งสลิปจากแอปธนาคารโดยตรง (ภาพหน้าจอหรือรูปที่บันทึกจากแอป) "
                       "อีกครั้งนะคะ",
    "promptpay_qr": "รูปนี้เป็น QR สำหรับชำระเงินค่ะ ยังไม่ใช่สลิปการโอน รบกวนสแกน QR เพื่อโอนเงิน "
                    "แล้วส่งสลิปที่ได้จากแอปธนาคารมานะคะ",
    "not_a_slip": "QR ในรูปนี้ไม่ใช่ QR ของสลิปโอนเงินค่ะ รบกวนส่งสลิปที่ได้จากแอปธนาคารหลังโอนเสร็จนะคะ",
    "unreadable_image": "ทางร้านเปิดไฟล์นี้ไม่ได้ค่ะ รบกวนส่งสลิปเป็นรูปภาพ (ภาพหน้าจอหรือรูปถ่าย) อีกครั้งนะคะ",
    "no_qr": "ทางร้านได้รับรูปแล้วค่ะ แต่ยังไม่พบ QR ของสลิปโอนเงินในรูปนี้ รบกวนส่งสลิปจากแอปธนาคาร "
             "(ภาพหน้าจอหรือรูปที่บันทึกจากแอป ให้เห็น QR บนสลิปชัด ๆ) มาอีกครั้งนะคะ "
             "ถ้าโอนแล้วแต่หาสลิปไม่เจอ พิมพ์แจ้งทางร้านได้เลย พนักงานจะช่วยตรวจสอบให้ค่ะ",
    "no_open_order": "ทางร้านได้รับสลิปแล้วค่ะ แต่ไม่พบคำสั่งซื้อที่รอชำระเงิน พนักงานจะตรวจสอบและติดต่อกลับนะคะ",
    "order_already_paid": "คำสั่งซื้อ {order} ชำระเงินเรียบร้อยแล้วค่ะ พนักงานจะตรวจสอบสลิปนี้และติดต่อกลับนะคะ",
    "order_closed": "คำสั่งซื้อ {order} ถูกยกเลิกหรือหมดเวลาชำระแล้วค่ะ พนักงานจะตรวจสอบสลิปนี้และติดต่อกลับนะคะ",
    "review": "ทางร้านได้รับสลิปแล้วค่ะ พนักงานจะตรวจสอบให้และแจ้งผลโดยเร็วค่ะ",
}


@dataclass
class SlipResult:
    outcome: SlipOutcome
    reason: str                  # machine code ("" when paid)
    message_th: str              # what to tell the customer
    slip_check_id: int | None
    order_id: int | None
    amount_satang: int | None    # the amount on the slip, when known
    customer_id: int | None = None
    order_number: str = ""


@dataclass(frozen=True)
class _OrderView:
    id: int
    number: str
    status: str
    total_satang: int
    created_at: datetime


def _utc(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def _message(reason: str, order: _OrderView | None, slip_amount: int | None = None) -> str:
    template = MESSAGES_TH.get(reason) or MESSAGES_TH["review"]
    return template.format(order=order.number if order else "",
                           amount=format_baht(order.total_satang) if order else "",
                           slip_amount=format_baht(slip_amount) if slip_amount is not None else "-")


def _outcome_for(reason: str) -> SlipOutcome:
    if reason == "":
        return SlipOutcome.PAID
    if reason == "provider_unavailable":
        return SlipOutcome.PENDING
    return SlipOutcome.NEEDS_REVIEW if reason in NEEDS_REVIEW_REASONS else SlipOutcome.REJECTED


# --- entry points ---------------------------------------------------------------------------------

def check_slip(db, settings, *, customer_id: int, order_id: int | None, image: bytes | None = None,
               payload: str | None = None, now: datetime | None = None, media_id: int | None = None,
               provider: SlipProvider | None = None) -> SlipResult:
    """Check one slip a customer sent (a photo, or a payload already decoded) and record the outcome."""
    if image is None and payload is None:
        raise ValueError("check_slip needs the image bytes or the decoded payload")
    now = _utc(now)
    if media_id is not None:
        earlier = _earlier_result(db, media_id)
        if earlier is not None:  # the same photo (one LINE message) checked before: a retried turn
            return earlier
    order = _find_order(db, customer_id, order_id)
    reading = read_slip_text(payload) if payload is not None else read_slip_image(image)
    base = dict(customer_id=customer_id, media_id=media_id, qr_payload=reading.payload[:2000],
                sending_bank=reading.sending_bank, trans_ref=reading.trans_ref,
                note=(reading.detail or "")[:500])

    reason = _reading_problem(reading)
    if reason is None and _slip_already_paid(db, reading) is not None:
        reason = "slip_used"  # first: a re-sent slip is "already used", whether or not an order is open
    if reason is None and order is None:
        reason = "no_open_order"
    if reason is None and order.status not in PAYABLE:
        reason = _closed_order_reason(db, order, reading)
    if reason is not None:
        return _record_final(db, base, order, reason, now, provider_name="")

    owned = provider is None
    provider = provider or get_provider(settings)
    try:
        with db.session() as session:  # stored before the provider is asked: a crash mid-call is retried
            check = SlipCheck(**base, order_id=order.id, provider=provider.name, outcome=SlipOutcome.PENDING.value,
                              reason="checking", attempts=0, next_attempt_at=now + CLAIM_LEASE, created_at=now)
            session.add(check)
            session.flush()
            check_id = check.id
        return _verify_and_decide(db, settings, provider, check_id, order, reading, customer_id, now)
    finally:
        if owned:
            provider.close()


def retry_pending_slips(db, settings, now: datetime | None = None, *, provider: SlipProvider | None = None,
                        limit: int = 20) -> list[SlipResult]:
    """Retry slips whose provider was unreachable (due now). Returns final results so the caller can tell
    the customers; slips still pending come back too (outcome pending) and are retried later."""
    now = _utc(now)
    with db.session() as session:
        due = session.execute(
            select(SlipCheck.id, SlipCheck.next_attempt_at)
            .where(SlipCheck.outcome == SlipOutcome.PENDING.value, SlipCheck.next_attempt_at <= now)
            .order_by(SlipCheck.next_attempt_at).limit(limit)).all()
    if not due:
        return []
    owned = provider is None
    provider = provider or get_provider(settings)
    results = []
    try:
        for check_id, _ in due:
            with db.session() as session:  # claim: only one worker retries a given slip at a time
                claimed = session.execute(
                    update(SlipCheck)
                    .where(SlipCheck.id == check_id, SlipCheck.outcome == SlipOutcome.PENDING.value,
                           SlipCheck.next_attempt_at <= now)
                    .values(next_attempt_at=now + CLAIM_LEASE)).rowcount
            if claimed:
                results.append(_retry_one(db, settings, provider, check_id, now))
    finally:
        if owned:
            provider.close()
    return results


def _retry_one(db, settings, provider: SlipProvider, check_id: int, now: datetime) -> SlipResult:
    with db.session() as session:
        check = session.get(SlipCheck, check_id)
        order = _order_view(session.get(Order, check.order_id)) if check.order_id else None
        customer_id, attempts = check.customer_id, check.attempts
    reading = read_slip_text(check.qr_payload)
    reason = None
    if order is None:
        reason = "no_open_order"
    elif order.status not in PAYABLE:
        reason = _closed_order_reason(db, order, reading)
    elif _slip_already_paid(db, reading) is not None:
        reason = "slip_used"
    elif attempts >= MAX_PENDING_ATTEMPTS:
        reason = "provider_unavailable_long"
    if reason is not None:
        return _finish(db, check_id, order, reason, now, customer_id)
    return _verify_and_decide(db, settings, provider, check_id, order, reading, customer_id, now)


# --- decisions ------------------------------------------------------------------------------------

def _reading_problem(reading: SlipReading) -> str | None:
    if reading.kind == "slip" and reading.valid:
        return None
    return {"none": "no_qr", "invalid_image": "unreadable_image", "promptpay": "promptpay_qr",
            "other": "not_a_slip"}.get(reading.kind, "invalid_slip_qr")


def _verify_and_decide(db, settings, provider: SlipProvider, check_id: int, order: _OrderView,
                       reading: SlipReading, customer_id: int | None, now: datetime) -> SlipResult:
    try:
        verification = provider.verify(reading.payload, None, amount_satang=order.total_satang)
    except ProviderUnavailable as error:
        return _mark_pending(db, check_id, order, error, now, customer_id)
    except Exception:  # a bug or an unexpected answer must not lose the slip: it stays pending for retry
        log.exception("slip provider %s failed unexpectedly on slip check %s", provider.name, check_id)
        return _mark_pending(db, check_id, order, ProviderUnavailable("unexpected provider error"), now,
                             customer_id)
    reason = _evaluate(settings, verification, order, reading, now)
    if reason:
        return _finish(db, check_id, order, reason, now, customer_id, verification)
    return _mark_paid(db, check_id, order, reading, verification, now, customer_id)


def _evaluate(settings, v: Verification, order: _OrderView, reading: SlipReading, now: datetime) -> str:
    """The shop's checks on a provider answer; '' means every check passed."""
    if not v.found:
        if v.reason == NOT_FOUND:
            return "slip_not_found"
        if v.reason == INVALID_QR:
            return "invalid_slip_qr"
        if v.reason == DUPLICATE:
            return "provider_duplicate"
        if v.reason == "no_provider":
            return "no_provider"
        return "provider_problem"  # account, quota, AML or an answer we cannot read: staff decide
    if v.amount_satang is None or v.transferred_at is None:
        return "slip_data_incomplete"
    if (v.trans_ref and v.trans_ref != reading.trans_ref) or (v.sending_bank and v.sending_bank != reading.sending_bank):
        return "slip_data_incomplete"
    if v.amount_satang != order.total_satang:
        return "wrong_amount"
    receiver = check_receiver(settings, receiving_bank=v.receiving_bank, account=v.receiver_account,
                              proxy=v.receiver_proxy, names=[v.receiver_name, v.receiver_name_en])
    if receiver.verdict == "not_shop":
        return "wrong_receiver"
    if receiver.verdict == "unsure" or FLAG_RECEIVER_MISMATCH in v.flags:
        return "receiver_unverified"
    skew = timedelta(minutes=settings.slip_clock_skew_minutes)
    transferred = v.transferred_at.astimezone(UTC)
    if transferred < order.created_at - skew:
        return "slip_before_order"
    if now - transferred > timedelta(minutes=settings.slip_max_age_minutes):
        return "slip_too_old"
    if transferred > now + skew:
        return "slip_in_future"
    if FLAG_DUPLICATE in v.flags:  # the provider saw it before, we have no payment for it: staff decide
        return "provider_duplicate"
    return ""


# --- writing outcomes -----------------------------------------------------------------------------

def _verification_fields(v: Verification | None) -> dict:
    if v is None:
        return {}
    return {"provider_raw": v.raw or {"reason": v.reason, "message": v.message},
            "amount_satang": v.amount_satang,
            "transferred_at": v.transferred_at.astimezone(UTC) if v.transferred_at else None}


def _result(check_id: int | None, order: _OrderView | None, reason: str, customer_id: int | None,
            amount: int | None, message_reason: str | None = None) -> SlipResult:
    return SlipResult(outcome=_outcome_for(reason), reason=reason,
                      message_th=_message(message_reason or reason or "paid", order, amount),
                      slip_check_id=check_id, order_id=order.id if order else None, amount_satang=amount,
                      customer_id=customer_id, order_number=order.number if order else "")


def _record_final(db, base: dict, order: _OrderView | None, reason: str, now: datetime,
                  provider_name: str) -> SlipResult:
    """A decision made before any provider call: one new SlipCheck, and the order flagged for staff."""
    outcome = _outcome_for(reason)
    with db.session() as session:
        check = SlipCheck(**base, order_id=order.id if order else None, provider=provider_name,
                          outcome=outcome.value, reason=reason, created_at=now, decided_at=now)
        session.add(check)
        if outcome == SlipOutcome.NEEDS_REVIEW and order is not None and reason not in ORDER_STAYS_OPEN:
            _set_order_status(session, order.id, OrderStatus.NEEDS_REVIEW)
        session.flush()
        check_id = check.id
    return _result(check_id, order, reason, base["customer_id"], None, _message_reason(db, reason, order, base))


def _message_reason(db, reason: str, order: _OrderView | None, base: dict) -> str:
    if reason == "slip_used" and order is not None:
        with db.session() as session:
            same = session.scalar(select(Payment.id).where(
                Payment.order_id == order.id, Payment.sending_bank == base["sending_bank"],
                Payment.trans_ref == base["trans_ref"]))
        if same is not None:
            return "slip_used_same_order"
    return reason


def _finish(db, check_id: int, order: _OrderView | None, reason: str, now: datetime, customer_id: int | None,
            verification: Verification | None = None) -> SlipResult:
    """Close an existing (pending) SlipCheck with a rejection or a referral to staff."""
    outcome = _outcome_for(reason)
    with db.session() as session:
        check = session.get(SlipCheck, check_id)
        check.outcome, check.reason, check.decided_at, check.next_attempt_at = outcome.value, reason, now, None
        for name, value in _verification_fields(verification).items():
            setattr(check, name, value)
        if order is not None:
            if outcome == SlipOutcome.NEEDS_REVIEW:
                _set_order_status(session, order.id, OrderStatus.NEEDS_REVIEW)
            else:
                _set_order_status(session, order.id, OrderStatus.AWAITING_PAYMENT,
                                  only_from=OrderStatus.PAYMENT_PENDING)
        base = {"sending_bank": check.sending_bank, "trans_ref": check.trans_ref}
    amount = verification.amount_satang if verification else None
    return _result(check_id, order, reason, customer_id, amount, _message_reason(db, reason, order, base))


def _mark_pending(db, check_id: int, order: _OrderView, error: ProviderUnavailable, now: datetime,
                  customer_id: int | None) -> SlipResult:
    with db.session() as session:
        check = session.get(SlipCheck, check_id)
        check.attempts += 1
        wait = min(timedelta(minutes=1) * 2 ** (check.attempts - 1), MAX_BACKOFF)
        if error.retry_after:
            wait = max(wait, min(timedelta(seconds=error.retry_after), timedelta(hours=1)))
        check.outcome, check.reason, check.next_attempt_at = SlipOutcome.PENDING.value, "provider_unavailable", now + wait
        check.provider_raw = error.raw or {"error": str(error)}
        check.note = str(error)[:500]
        _set_order_status(session, order.id, OrderStatus.PAYMENT_PENDING, only_from=OrderStatus.AWAITING_PAYMENT)
    return _result(check_id, order, "provider_unavailable", customer_id, None)


def _mark_paid(db, check_id: int, order: _OrderView, reading: SlipReading, v: Verification, now: datetime,
               customer_id: int | None) -> SlipResult:
    """Payment row + order paid + check paid, in one transaction with the order row locked."""
    try:
        with db.session() as session:
            locked = session.get(Order, order.id, with_for_update=True, populate_existing=True)
            if locked.status not in PAYABLE:
                raise _OrderChanged(locked.status)
            check = session.get(SlipCheck, check_id)
            check.outcome, check.reason, check.decided_at, check.next_attempt_at = SlipOutcome.PAID.value, "", now, None
            for name, value in _verification_fields(v).items():
                setattr(check, name, value)
            session.add(Payment(order_id=order.id, slip_check_id=check_id, amount_satang=v.amount_satang,
                                sending_bank=reading.sending_bank, trans_ref=reading.trans_ref, paid_at=now))
            locked.status, locked.paid_at = OrderStatus.PAID.value, now
            session.flush()  # the unique keys fire here, inside the transaction
    except IntegrityError:
        log.info("slip %s/%s lost a race: already used", reading.sending_bank, reading.trans_ref)
        return _finish(db, check_id, order, "slip_used", now, customer_id, v)
    except _OrderChanged as changed:
        fresh = _OrderView(order.id, order.number, changed.status, order.total_satang, order.created_at)
        return _finish(db, check_id, fresh, _closed_order_reason(db, fresh, reading), now, customer_id, v)
    return _result(check_id, order, "", customer_id, v.amount_satang)


class _OrderChanged(Exception):
    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


# --- lookups --------------------------------------------------------------------------------------

def _order_view(order: Order | None) -> _OrderView | None:
    if order is None:
        return None
    return _OrderView(order.id, order.number, order.status, order.total_satang, order.created_at)


def _find_order(db, customer_id: int, order_id: int | None) -> _OrderView | None:
    with db.session() as session:
        if order_id is not None:
            order = session.get(Order, order_id)
            return _order_view(order) if order is not None and order.customer_id == customer_id else None
        return _order_view(session.scalar(
            select(Order).where(Order.customer_id == customer_id, Order.status.in_(PAYABLE))
            .order_by(Order.created_at.desc(), Order.id.desc()).limit(1)))


def _earlier_result(db, media_id: int) -> SlipResult | None:
    """What the check of this photo decided (or is still deciding: then "being checked"), or None."""
    with db.session() as session:
        check = session.scalar(select(SlipCheck).where(SlipCheck.media_id == media_id)
                               .order_by(SlipCheck.id.desc()).limit(1))
        if check is None:
            return None
        order = _order_view(session.get(Order, check.order_id)) if check.order_id else None
    reason = "provider_unavailable" if check.outcome == SlipOutcome.PENDING.value else check.reason
    base = {"sending_bank": check.sending_bank, "trans_ref": check.trans_ref}
    return _result(check.id, order, reason, check.customer_id, check.amount_satang,
                   _message_reason(db, reason, order, base))


def _slip_already_paid(db, reading: SlipReading) -> int | None:
    with db.session() as session:
        return session.scalar(select(Payment.order_id).where(Payment.sending_bank == reading.sending_bank,
                                                              Payment.trans_ref == reading.trans_ref))


def _closed_order_reason(db, order: _OrderView, reading: SlipReading) -> str:
    if order.status == OrderStatus.PAID.value:
        return "slip_used" if _slip_already_paid(db, reading) == order.id else "order_already_paid"
    return "order_closed"


def _set_order_status(session, order_id: int, status: OrderStatus, *, only_from: OrderStatus | None = None) -> None:
    order = session.get(Order, order_id)
    if order is None or order.status not in PAYABLE:
        return  # never touch a paid, cancelled or expired order from here
    if only_from is not None and order.status != only_from.value:
        return
    order.status = status.value


__all__ = ["check_slip", "retry_pending_slips", "SlipResult", "MESSAGES_TH"]
