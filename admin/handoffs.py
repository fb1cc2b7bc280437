"""Chats a person has taken over: each open handoff with the conversation so far, a reply (pushed to the
customer at once) and "give back to the bot"."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from admin.web import actor, bp, database, services
from shop import handoff

ROLES_TH = {"user": "ลูกค้า", "assistant": "ผู้ช่วยร้าน (บอท)", "staff": "พนักงาน"}
CONVERSATION_LINES = 30


@bp.app_template_filter("chat_role")
def _chat_role(role: str) -> str:
    return ROLES_TH.get(role, role)


@bp.get("/handoffs")
def handoff_list():
    with database().session() as session:
        rows = [(row, handoff.conversation(session, row.customer_id, CONVERSATION_LINES))
                for row in handoff.open_handoffs(session)]
    return render_template("admin/handoffs.html", rows=rows, max_chars=handoff.MAX_REPLY_CHARS)


def _done(message: str):
    services().push_soon()  # the customer is waiting for a person: send now, not at the next round
    flash(message, "ok")
    return redirect(url_for("admin.handoff_list"))


@bp.post("/handoffs/reply")
def handoff_reply():
    text = request.form.get("text", "")
    try:
        handoff.staff_reply(database(), request.form.get("line_user_id", ""), text, staff=actor().name,
                            actor=actor())
    except LookupError:
        flash("ไม่พบลูกค้ารายนี้", "error")
    except ValueError:
        flash(f"กรุณาพิมพ์ข้อความตอบลูกค้า (ไม่เกิน {handoff.MAX_REPLY_CHARS:,} ตัวอักษร)", "error")
    else:
        return _done("ส่งข้อความถึงลูกค้าแล้ว")
    return redirect(url_for("admin.handoff_list"))


@bp.post("/handoffs/close")
def handoff_close():
    try:
        closed = handoff.close_handoff(database(), request.form.get("line_user_id", ""), actor=actor())
    except LookupError:
        flash("ไม่พบลูกค้ารายนี้", "error")
        return redirect(url_for("admin.handoff_list"))
    if not closed:
        flash("แชตนี้กลับไปให้บอทดูแลแล้ว", "ok")
        return redirect(url_for("admin.handoff_list"))
    return _done("ให้บอทกลับมาดูแลแชตนี้แล้ว ลูกค้าจะได้รับข้อความแจ้ง")
