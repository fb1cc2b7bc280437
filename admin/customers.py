"""Customers: search by LINE display name, one customer's orders and recent chat, and erasing their
personal data on request (Thailand's PDPA; order totals stay for the shop's accounts)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select

from admin.web import actor, bp, database, page_number
from shop import audit, handoff
from shop.backoffice import _contains
from shop.models import Customer, Order
from shop.orders import STATUS_TH
from shop.privacy import forget_customer

PER_PAGE = 30
CHAT_LINES = 30
FORGOTTEN = "forgotten-"  # shop.privacy's tombstone prefix for an erased customer's LINE user id


@bp.get("/customers")
def customer_list():
    text = " ".join((request.args.get("q") or "").split())[:100]
    condition = or_(_contains(Customer.display_name, text), Customer.line_user_id == text) if text else True
    with database().session() as session:
        total = session.scalar(select(func.count()).select_from(Customer).where(condition)) or 0
        pages = max(1, -(-total // PER_PAGE))
        page = min(page_number(), pages)
        orders = (select(func.count()).where(Order.customer_id == Customer.id).correlate(Customer)
                  .scalar_subquery())
        rows = session.execute(select(Customer, orders).where(condition)
                               .order_by(Customer.last_seen_at.desc(), Customer.id.desc())
                               .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
        return render_template("admin/customers.html", rows=rows, q=text, total=total, page=page, pages=pages,
                               forgotten=FORGOTTEN)


@bp.get("/customers/<int:customer_id>")
def customer_page(customer_id: int):
    with database().session() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            abort(404)
        orders = session.scalars(select(Order).where(Order.customer_id == customer_id)
                                 .order_by(Order.created_at.desc(), Order.id.desc()).limit(100)).all()
        chat = handoff.conversation(session, customer_id, CHAT_LINES)
        return render_template("admin/customer.html", customer=customer, orders=orders, chat=chat,
                               statuses=STATUS_TH, forgotten=customer.line_user_id.startswith(FORGOTTEN))


@bp.post("/customers/<int:customer_id>/forget")
def customer_forget(customer_id: int):
    page = url_for("admin.customer_page", customer_id=customer_id)
    if request.form.get("confirm") != "yes":
        flash("กรุณาเลือกช่องยืนยันก่อนลบข้อมูลส่วนบุคคลของลูกค้า", "error")
        return redirect(page)
    with database().session() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            abort(404)
        if customer.line_user_id.startswith(FORGOTTEN):
            flash("ข้อมูลส่วนบุคคลของลูกค้ารายนี้ถูกลบไปแล้ว", "ok")
            return redirect(page)
        erased = forget_customer(session, customer.line_user_id)
        # the entry names the customer by number only: the log must not keep what was erased
        audit.record(session, actor(), "customer.forget", "customer", str(customer_id), None,
                     {"orders": erased.orders, "images": erased.images, "chat_lines": erased.chat_lines})
    flash(f"ลบข้อมูลส่วนบุคคลแล้ว (ที่อยู่ในคำสั่งซื้อ {erased.orders} รายการ รูป {erased.images} รูป "
          f"ข้อความแชต {erased.chat_lines} ข้อความ) ยอดคำสั่งซื้อยังเก็บไว้สำหรับบัญชีของร้าน", "ok")
    return redirect(page)
