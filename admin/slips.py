"""Slips to review: the list, one slip (image, parsed QR, provider answer, the shop's checks), its
image, approve and reject."""
from __future__ import annotations

from flask import Response, abort, render_template, request, url_for

from admin.web import actor, bp, database, settings, staff_change
from payments import review
from shop.models import Customer, Order, SlipCheck

REASONS_TH = {  # the checks' machine codes, as staff read them
    "no_qr": "อ่าน QR บนสลิปไม่ได้", "no_open_order": "ไม่มีคำสั่งซื้อที่รอชำระ",
    "order_already_paid": "คำสั่งซื้อชำระแล้ว", "order_closed": "คำสั่งซื้อถูกยกเลิกหรือหมดเวลา",
    "provider_duplicate": "ผู้ให้บริการตรวจสลิปเคยเห็นสลิปนี้แล้ว", "receiver_unverified": "ยืนยันบัญชีผู้รับไม่ได้",
    "slip_data_incomplete": "ข้อมูลสลิปไม่ครบหรือไม่ตรงกัน", "slip_in_future": "เวลาในสลิปเป็นอนาคต",
    "provider_problem": "ผู้ให้บริการตรวจสลิปตอบผิดปกติ", "no_provider": "ไม่ได้ตั้งค่าผู้ให้บริการตรวจสลิป",
    "provider_unavailable_long": "ตรวจกับธนาคารไม่ได้เป็นเวลานาน", "provider_unavailable": "กำลังรอระบบธนาคาร",
    "staff_rejected": "พนักงานปฏิเสธ", "wrong_amount": "ยอดเงินไม่ตรง", "wrong_receiver": "โอนเข้าบัญชีอื่น",
    "slip_used": "สลิปเคยใช้แล้ว", "slip_not_found": "ธนาคารไม่พบรายการ", "slip_too_old": "สลิปเก่าเกินไป",
    "slip_before_order": "โอนก่อนสั่งซื้อ", "invalid_slip_qr": "QR สลิปไม่ถูกต้อง",
}


OUTCOMES_TH = {"paid": "ชำระแล้ว", "rejected": "ปฏิเสธ", "pending": "รอระบบธนาคาร", "needs_review": "รอพนักงานตรวจ"}


@bp.app_template_filter("slip_outcome")
def _slip_outcome(code: str) -> str:
    return OUTCOMES_TH.get(code, code)


@bp.app_template_filter("customer_name")
def _customer_name(customer: dict | None) -> str:
    if not customer:
        return "-"
    return customer.get("display_name") or customer.get("line_user_id", "")[:9] + "…"


@bp.app_template_filter("slip_reason")
def _slip_reason(code: str) -> str:
    return REASONS_TH.get(code, code or "-")


@bp.get("/slips")
def slip_list():
    with database().session() as session:
        slips = review.slips_to_review(session)
    return render_template("admin/slips.html", slips=slips)


@bp.get("/slips/<int:slip_id>")
def slip_page(slip_id: int):
    with database().session() as session:
        check = session.get(SlipCheck, slip_id)
        if check is None:
            abort(404)
        slip = review.slip_json(check, session.get(Order, check.order_id) if check.order_id else None,
                                session.get(Customer, check.customer_id) if check.customer_id else None)
    return render_template("admin/slip.html", slip=slip)


@bp.get("/slips/<int:slip_id>/image")
def slip_image(slip_id: int):
    with database().session() as session:
        media = review.slip_image(session, slip_id)
        if media is None:
            abort(404)
        data, content_type = media.data, media.content_type
    if content_type not in ("image/jpeg", "image/png", "image/webp", "image/gif"):
        abort(404)
    return Response(data, mimetype=content_type, headers={"Cache-Control": "private, no-store"})


@bp.post("/slips/<int:slip_id>/approve")
def slip_approve(slip_id: int):
    return staff_change(
        lambda messages: review.approve(database(), actor(), messages, slip_check_id=slip_id),
        failed_url=url_for("admin.slip_page", slip_id=slip_id),
        done=lambda order: (f"อนุมัติสลิปแล้ว คำสั่งซื้อ {order['number']} ชำระเงินแล้ว ลูกค้าจะได้รับใบเสร็จ",
                            url_for("admin.slip_list")))


@bp.post("/slips/<int:slip_id>/reject")
def slip_reject(slip_id: int):
    return staff_change(
        lambda messages: review.reject(database(), actor(), messages, request.form.get("reason", ""),
                                       slip_check_id=slip_id, pay_within_minutes=settings().order_expiry_minutes),
        failed_url=url_for("admin.slip_page", slip_id=slip_id),
        done=lambda _: ("ปฏิเสธสลิปแล้ว ลูกค้าจะได้รับข้อความพร้อมเหตุผล", url_for("admin.slip_list")))
