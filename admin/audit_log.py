"""The audit log page: every change staff made, newest first."""
from __future__ import annotations

from flask import render_template, request

from admin.web import bp, database, page_number, shop_time
from shop import audit

PER_PAGE = 50
ACTIONS_TH = {"order.pack": "แพ็กสินค้า", "order.ship": "จัดส่ง", "order.deliver": "ส่งถึงแล้ว",
              "order.pick_up": "รับที่ร้านแล้ว", "order.cancel": "ยกเลิกคำสั่งซื้อ", "slip.approve": "อนุมัติสลิป",
              "slip.reject": "ปฏิเสธสลิป", "staff.add": "เพิ่มพนักงาน", "staff.disable": "ปิดบัญชีพนักงาน",
              "staff.enable": "เปิดบัญชีพนักงาน", "staff.password": "เปลี่ยนรหัสผ่าน", "staff.sign_in": "ลงชื่อเข้าใช้",
              "staff.sign_out": "ออกจากระบบ", "handoff.reply": "ตอบแชตลูกค้า", "handoff.close": "ให้บอทดูแลแชตต่อ",
              "product.edit": "แก้ไขสินค้า", "catalog.import": "นำเข้าสินค้าจาก CSV",
              "customer.forget": "ลบข้อมูลส่วนบุคคลของลูกค้า"}


@bp.app_template_filter("audit_action")
def _action(action: str) -> str:
    return ACTIONS_TH.get(action, action)


@bp.app_template_filter("audit_changes")
def _changes(row) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field an entry changed, values as short readable text."""
    before, after = row.before or {}, row.after or {}

    def shown(value) -> str:
        if value in (None, ""):
            return "-"
        if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
            return shop_time(value)
        return str(value)

    return [(name, shown(before.get(name)), shown(after.get(name))) for name in sorted(set(before) | set(after))]


@bp.get("/audit")
def audit_page():
    page = page_number()
    subject = (request.args.get("subject") or "").strip()[:64] or None
    with database().session() as session:
        rows, total = audit.entries(session, subject_key=subject, page=page, per_page=PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    return render_template("admin/audit.html", rows=rows, page=page, pages=pages, subject=subject or "")
