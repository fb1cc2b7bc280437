"""The back office's blueprint and what every page shares: no page without a signed-in staff member
(except the sign-in page and the static files), a CSRF token on every POST, security headers,
Thai formatting of money and times."""
from __future__ import annotations

import json
from datetime import datetime

from flask import Blueprint, current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms.validators import ValidationError

from shop import staff as staff_accounts
from shop.errors import ShopError
from shop.money import format_baht
from shop.orders import SHOP_TZ

bp = Blueprint("admin", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")

PUBLIC_ENDPOINTS = {"admin.sign_in", "admin.static"}  # everything else needs a session
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def database():
    return current_app.extensions["salesbot.db"]


def settings():
    return current_app.extensions["salesbot.settings"]


def services():
    return current_app.extensions["salesbot.admin"]


def actor():
    from shop.audit import Actor

    return Actor(g.staff.id, g.staff.username)


def client_address() -> str:
    """The client's address: the connection's, or with TRUSTED_PROXIES=n the one the n-th proxy from
    the end of X-Forwarded-For saw (entries before it may be forged by the client)."""
    hops = settings().trusted_proxies
    if hops:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops][:64]
    return request.remote_addr or ""


@bp.before_request
def _require_staff():
    if request.endpoint == "admin.static":
        return None
    g.staff = staff_accounts.session_staff(database(), session.get("staff_id"), session.get("staff_version"))
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError as error:
            raise CSRFError(str(error)) from None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if g.staff is None:
        session.pop("staff_id", None)
        if request.method == "GET":
            return redirect(url_for("admin.sign_in", next=request.full_path.rstrip("?")))
        return redirect(url_for("admin.sign_in"))
    return None


@bp.after_request
def _headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "admin.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(CSRFError)
def _csrf_error(error):
    from flask import render_template

    return render_template("admin/error.html", title="แบบฟอร์มหมดอายุ",
                           message="แบบฟอร์มนี้หมดอายุหรือไม่ได้ส่งจากหน้าของระบบ กรุณากลับไปโหลดหน้าใหม่แล้วลองอีกครั้ง"), 400


@bp.context_processor
def _shop() -> dict:
    return {"shop_name": settings().shop_name}


@bp.app_template_global("csrf_token")
def _csrf_token() -> str:
    return generate_csrf()


@bp.app_template_filter("baht")
def _baht(satang) -> str:
    return "-" if satang is None else format_baht(int(satang))


@bp.app_template_filter("shop_time")
def shop_time(value: datetime | str | None) -> str:
    if value in (None, ""):
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{value.astimezone(SHOP_TZ):%d/%m/%Y %H:%M}"


@bp.app_template_filter("pretty_json")
def _pretty_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


def staff_change(change, *, failed_url: str, done):
    """Run a change staff asked for: on ShopError show its Thai message back on `failed_url`; on success
    send the customer's message now (push_soon) and `done(result)` → (message, url to go to)."""
    from flask import flash

    try:
        result = change(services().customer_messages)
    except ShopError as error:
        flash(error.message_th, "error")
        return redirect(failed_url)
    services().push_soon()
    message, url = done(result)
    flash(message, "ok")
    return redirect(url)


def page_number() -> int:
    """The list page asked for in ?page= (1 when missing or not a number)."""
    try:
        return max(1, min(int(request.args.get("page", 1)), 100_000))
    except ValueError:
        return 1


def safe_next(target: str | None) -> str:
    """Only a path inside the back office (no scheme, no host: not an open redirect)."""
    prefix = url_for("admin.today")
    if target and target.startswith(prefix) and not target.startswith("//") and "\\" not in target:
        return target
    return prefix


from admin import audit_log, customers, handoffs, orders, products, sign_in, slips  # noqa: E402,F401  (register the pages)
