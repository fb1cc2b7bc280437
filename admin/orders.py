"""Today's figures, the orders list and one order's page with its actions."""
from __future__ import annotations

from flask import abort, render_template, request, url_for

from admin.web import actor, bp, database, staff_change
from shop import audit, backoffice, fulfilment, handoff
from shop.orders import STATUS_TH

CARRIERS = ["ไปรษณีย์ไทย (EMS)", "ไปรษณีย์ไทย (ลงทะเบียน)", "Kerry Express", "Flash Express", "J&T Express",
            "SCG Express", "Ninja Van", "Best Express", "Lalamove"]


@bp.get("/")
def today():
    with database().session() as session:
        figures = backoffice.today(session)
        figures["handoffs"] = len(handoff.open_handoffs(session))
    return render_template("admin/today.html", figures=figures)


@bp.get("/orders")
def order_list():
    flt = backoffice.OrderFilter.from_args(request.args)
    with database().session() as session:
        page = backoffice.orders_page(session, flt)
    return render_template("admin/orders.html", flt=flt, page=page, statuses=STATUS_TH)


@bp.get("/orders/<number>")
def order_page(number: str):
    with database().session() as session:
        order = backoffice.order_detail(session, number)
        if order is None:
            abort(404)
        steps = fulfilment.next_steps(order["order"])
        history, _ = audit.entries(session, subject_key=order["number"], per_page=100)
    return render_template("admin/order.html", order=order, steps=steps, history=history, carriers=CARRIERS)


@bp.post("/orders/<number>/<action>")
def order_action(number: str, action: str):
    if action not in fulfilment.STEPS:
        abort(404)
    return staff_change(
        lambda messages: fulfilment.advance(database(), actor(), number, action, messages,
                                            carrier=request.form.get("carrier", ""),
                                            tracking_number=request.form.get("tracking_number", ""),
                                            reason=request.form.get("reason", "")),
        failed_url=url_for("admin.order_page", number=number),
        done=lambda order: (f"บันทึกแล้ว: คำสั่งซื้อ {order['number']} {order['status_th']}",
                            url_for("admin.order_page", number=order["number"])))
