"""Signing in and out."""
from __future__ import annotations

from flask import g, redirect, render_template, request, session, url_for

from admin.web import bp, client_address, database, safe_next
from shop import staff as staff_accounts

REFUSED_TH = {
    "invalid": "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง",
    "disabled": "บัญชีนี้ถูกปิดใช้งานแล้ว กรุณาติดต่อเจ้าของร้าน",
}


@bp.route("/login", methods=["GET", "POST"])
def sign_in():
    if request.method == "GET":
        if g.staff is not None:
            return redirect(safe_next(request.args.get("next")))
        return render_template("admin/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "")
    try:
        staff = staff_accounts.sign_in(database(), username, request.form.get("password", ""),
                                       address=client_address())
    except staff_accounts.SignInRefused as refused:
        message = REFUSED_TH.get(refused.reason) or (
            f"ลงชื่อเข้าใช้ผิดหลายครั้งเกินไป กรุณารอ {refused.retry_after} วินาทีแล้วลองใหม่")
        return render_template("admin/login.html", error=message, username=username[:64],
                               next=request.form.get("next", "")), 429 if refused.reason == "slowed" else 401
    session.clear()  # a fresh session (and CSRF token) for the signed-in staff member
    session.permanent = True
    session["staff_id"], session["staff_version"] = staff.id, staff.session_version
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def sign_out():
    staff_accounts.sign_out(database(), g.staff.id)
    session.clear()
    return redirect(url_for("admin.sign_in"))
