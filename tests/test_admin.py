"""The back office through Flask's test client: nothing without a session (every route, found by walking
the URL map), CSRF on every POST, sign-in rules, escaping of customer-written text, no secret in a page,
and the order and slip actions end to end (audit log, customer notification, the push kicked)."""
from __future__ import annotations

import json
import re

import pytest
from admin_client import PASSWORD, add_account, csrf_of, post, sign_in, staff_app
from backoffice_data import make_order, slip_for_review, status
from shop_data import seed_shop
from sqlalchemy import select

from shop import audit
from shop.models import AuditEntry, Customer, Notification, StaffAccount
from shop.settings import load_settings
from shop.staff import set_active

SECRETS = {"line_channel_secret": "line-secret-a1b2c3" + "x" * 14, "line_channel_access_token": "line-token-d4e5f6",
           "slip_provider_api_key": "slip-key-g7h8i9", "llm_api_key": "llm-key-j0k1l2",
           "secret_key": "session-key-" + "m3n4o5" * 6}


@pytest.fixture
def settings(tmp_path):
    return load_settings(_env_file=None, app_env="test", database_url=f"sqlite:///{tmp_path / 'app.db'}",
                         slip_provider="openslipverify", **SECRETS)


@pytest.fixture
def world(db, settings):
    """The test shop with a paid delivery order, a slip to review, and a staff account."""
    shop = seed_shop(db)
    paid = make_order(db, shop.alice, status="paid")
    unpaid = make_order(db, shop.bob, sku="TTR")
    slip_id = slip_for_review(db, settings, shop.bob, unpaid)
    add_account(db)
    return {"shop": shop, "paid": paid, "unpaid": unpaid, "slip_id": slip_id}


@pytest.fixture
def pushes() -> list:
    return []


@pytest.fixture
def app(db, settings, world, pushes):
    return staff_app(db, settings, pushes)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def signed_in(client):
    assert sign_in(client).status_code == 302
    return client


def admin_routes(app, world) -> list[tuple[str, str]]:
    """(method, URL) for every back-office route, its parameters filled with real rows."""
    values = {"number": world["paid"], "slip_id": world["slip_id"], "action": "pack",
              "product_id": world["shop"].product_ids["TTR"], "customer_id": world["shop"].alice}
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin.") or rule.endpoint == "admin.static":
            continue
        url = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, url, rule.endpoint))
    return routes


# ---------------------------------------------------------------- nothing without a session

def test_every_admin_route_refuses_without_a_session(app, client, world, db):
    routes = admin_routes(app, world)
    assert len(routes) >= 12  # the walk found the pages (a new one is covered without editing this test)
    token = csrf_of(client.get("/admin/login").get_data(as_text=True))  # a valid token, but no staff session
    for method, url, endpoint in routes:
        if endpoint == "admin.sign_in":
            continue
        response = client.open(url, method=method, data={"csrf_token": token, "reason": "x", "carrier": "x",
                                                         "tracking_number": "x"})
        assert response.status_code == 302, (method, url)
        assert response.location.startswith("/admin/login"), (method, url)
    assert status(db, world["paid"]) == "paid" and status(db, world["unpaid"]) == "awaiting_payment"
    with db.session() as session:
        assert session.scalars(select(AuditEntry.action)).all() == ["staff.add"]


def test_the_sign_in_page_and_static_files_are_public(client):
    assert client.get("/admin/login").status_code == 200
    assert client.get("/admin/static/admin.css").status_code == 200
    assert client.get("/admin/static/admin.js").status_code == 200


def test_a_post_without_the_csrf_token_is_refused(signed_in, db, world):
    for data in ({}, {"csrf_token": "forged"}):
        response = signed_in.post(f"/admin/orders/{world['paid']}/pack", data=data)
        assert response.status_code == 400 and "แบบฟอร์มหมดอายุ" in response.get_data(as_text=True)
    assert status(db, world["paid"]) == "paid"
    assert signed_in.post("/admin/login", data={"username": "somchai", "password": PASSWORD}).status_code == 400


def test_sign_in_form_posts_without_a_token_are_refused(client):
    response = client.post("/admin/login", data={"username": "somchai", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302  # not signed in


# ---------------------------------------------------------------- signing in and out

def test_sign_in_then_out_and_the_old_cookie_is_dead(client, db, world):
    assert sign_in(client, password="wrong password!").status_code == 401
    response = sign_in(client)
    assert response.status_code == 302 and response.location == "/admin/"
    cookie = client.get_cookie("salesbot_staff")
    assert client.get("/admin/").status_code == 200
    assert post(client, "/admin/logout").status_code == 302
    assert client.get("/admin/").status_code == 302
    client.set_cookie("salesbot_staff", cookie.value)  # a copy of the cookie taken before signing out
    assert client.get("/admin/").status_code == 302
    with db.session() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["staff.add", "staff.sign_in", "staff.sign_out"]


def test_a_disabled_account_cannot_sign_in_and_its_session_ends(signed_in, client, db):
    set_active(db, "somchai", False, actor=audit.Actor(None, "owner"))
    assert signed_in.get("/admin/").status_code == 302  # the open session ended at once
    response = sign_in(client)
    assert response.status_code == 401 and "ถูกปิดใช้งาน" in response.get_data(as_text=True)
    set_active(db, "somchai", True, actor=audit.Actor(None, "owner"))
    assert sign_in(client).status_code == 302


def test_repeated_failures_slow_sign_in_down_even_with_the_right_password(client):
    for _ in range(5):
        assert sign_in(client, password="guess guess guess").status_code == 401
    slowed = sign_in(client)
    assert slowed.status_code == 429 and "กรุณารอ" in slowed.get_data(as_text=True)
    other_address = sign_in(client, username="nobody", password="x" * 12, REMOTE_ADDR="10.0.0.9")
    assert other_address.status_code == 401  # another address and username are not blocked


def test_behind_a_proxy_each_client_address_is_counted_apart(db, settings, world):
    client = staff_app(db, settings.model_copy(update={"trusted_proxies": 1})).test_client()
    for _ in range(5):
        sign_in(client, password="guess guess guess", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7")
    assert sign_in(client, username="other", password="x" * 12,
                   HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429  # same client: slowed
    assert sign_in(client, username="other", password="x" * 12,
                   HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 401  # another client: not


def test_next_only_leads_inside_the_back_office(app):
    for target, expected in (("/admin/orders?status=paid", "/admin/orders?status=paid"),
                             ("//evil.example/admin/", "/admin/"), ("https://evil.example/", "/admin/")):
        client = app.test_client()
        page = client.get("/admin/login")
        response = client.post("/admin/login", data={"username": "somchai", "password": PASSWORD, "next": target,
                                                     "csrf_token": csrf_of(page.get_data(as_text=True))})
        assert response.location == expected


def test_session_cookie_flags_and_security_headers(client):
    response = sign_in(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # not production
    page = client.get("/admin/")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"


def test_the_session_cookie_is_secure_in_production(db, tmp_path):
    settings = load_settings(_env_file=None, app_env="production", database_url=f"sqlite:///{tmp_path / 'p.db'}",
                             public_base_url="https://shop.example", slip_provider="none", **SECRETS)
    seed_shop(db)
    add_account(db)
    client = staff_app(db, settings).test_client()
    response = sign_in(client)
    assert response.status_code == 302 and "Secure" in response.headers["Set-Cookie"]


def test_production_refuses_to_start_without_a_secret_key():
    from shop.settings import ConfigError

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(_env_file=None, app_env="production", public_base_url="https://shop.example",
                      line_channel_secret="s", line_channel_access_token="t", slip_provider="none")


# ---------------------------------------------------------------- what pages show

def test_customer_written_text_is_escaped(signed_in, db, world):
    script = '<script>alert("x")</script>'
    with db.session() as session:
        for customer in session.scalars(select(Customer)):
            customer.display_name = script
            customer.ship_address = script
    pages = ["/admin/orders", f"/admin/orders/{world['paid']}", "/admin/slips", f"/admin/slips/{world['slip_id']}",
             f"/admin/orders?q={script}", "/admin/customers", f"/admin/customers/{world['shop'].alice}",
             f"/admin/customers?q={script}", f"/admin/products?q={script}"]
    for url in pages:
        html = signed_in.get(url).get_data(as_text=True)
        assert "<script>alert" not in html, url
        assert "&lt;script&gt;alert(" in html, url


def test_no_secret_appears_in_any_page(app, signed_in, db, world):
    with db.session() as session:
        password_hash = session.scalar(select(StaffAccount.password_hash))
    leaked = [*SECRETS.values(), password_hash, PASSWORD]
    for method, url, endpoint in admin_routes(app, world):
        if method != "GET" or endpoint == "admin.slip_image":
            continue
        html = signed_in.get(url).get_data(as_text=True)
        for secret in leaked:
            assert secret not in html, (url, secret[:8])


def test_today_figures(signed_in):
    html = signed_in.get("/admin/").get_data(as_text=True)
    assert "ยอดขายวันนี้" in html and "1,310 บาท" in html  # the paid order: 1,260 + 50 delivery
    tiles = dict(re.findall(r"<small>([^<]+)</small><b[^>]*>(\d+)</b>", html))
    assert tiles["สลิปรอตรวจ"] == "1" and tiles["ชำระแล้ว รอแพ็ก"] == "1"
    assert "AZUL" in html  # one copy left: low stock


def test_orders_list_filters_and_pages(signed_in, db, world):
    for _ in range(35):
        make_order(db, world["shop"].alice, sku="TTR", quantity=0 + 1)
    listed = signed_in.get("/admin/orders").get_data(as_text=True)
    assert "พบ 37 คำสั่งซื้อ · หน้า 1 จาก 2" in listed and 'rel="next"' in listed
    second = signed_in.get("/admin/orders?page=2").get_data(as_text=True)
    assert second.count('data-label="เลขที่"') == 7 and 'rel="prev"' in second
    paid = signed_in.get("/admin/orders?status=paid").get_data(as_text=True)
    assert "พบ 1 คำสั่งซื้อ" in paid and world["paid"] in paid
    by_name = signed_in.get("/admin/orders?q=bob").get_data(as_text=True)
    assert "พบ 1 คำสั่งซื้อ" in by_name and world["unpaid"] in by_name
    by_number = signed_in.get(f"/admin/orders?q={world['paid'].lower()}").get_data(as_text=True)
    assert "พบ 1 คำสั่งซื้อ" in by_number
    bad_date = signed_in.get("/admin/orders?date_from=yesterday").get_data(as_text=True)
    assert "ไม่ถูกต้อง" in bad_date and "พบ 37" in bad_date
    none = signed_in.get("/admin/orders?date_to=2001-01-01").get_data(as_text=True)
    assert "พบ 0 คำสั่งซื้อ" in none
    assert "พบ 0 คำสั่งซื้อ" in signed_in.get("/admin/orders?q=%25").get_data(as_text=True)  # "%" is literal
    beyond = signed_in.get("/admin/orders?page=99").get_data(as_text=True)
    assert "หน้า 2 จาก 2" in beyond and beyond.count('data-label="เลขที่"') == 7


# ---------------------------------------------------------------- actions

def test_ship_from_the_order_page(signed_in, db, world, pushes):
    url = f"/admin/orders/{world['paid']}"
    page = signed_in.get(url).get_data(as_text=True)
    assert f'action="/admin/orders/{world["paid"]}/ship"' in page
    response = post(signed_in, f"{url}/ship", {"carrier": "Flash Express", "tracking_number": "TH0123456789"}, url)
    assert response.status_code == 302 and status(db, world["paid"]) == "shipped" and pushes == [1]
    page = signed_in.get(url).get_data(as_text=True)
    assert "TH0123456789" in page and "order.ship" in page and "somchai" in page
    refused = post(signed_in, f"{url}/ship", {"carrier": "x", "tracking_number": "y"}, url)
    assert refused.status_code == 302 and "ทำขั้นตอน" in signed_in.get(url).get_data(as_text=True)
    assert pushes == [1]
    assert post(signed_in, f"{url}/teleport", {}, url).status_code == 404


def test_approve_a_slip_from_its_page(signed_in, db, world, pushes):
    url = f"/admin/slips/{world['slip_id']}"
    page = signed_in.get(url).get_data(as_text=True)
    assert "อ่าน QR บนสลิปไม่ได้" in page and f'src="{url}/image"' in page
    image = signed_in.get(f"{url}/image")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data[:4] == b"\x89PNG"
    response = post(signed_in, f"{url}/approve", {}, url)
    assert response.status_code == 302 and status(db, world["unpaid"]) == "paid" and pushes == [1]
    with db.session() as session:
        note = session.scalar(select(Notification))
    assert note.customer_id == world["shop"].bob and "ใบเสร็จ" in json.dumps(json.loads(note.messages), ensure_ascii=False)
    assert "ไม่มีสลิปรอตรวจ" in signed_in.get("/admin/slips").get_data(as_text=True)
    log = signed_in.get("/admin/audit").get_data(as_text=True)
    assert "slip.approve" in log and world["unpaid"] in log


def test_reject_a_slip_needs_a_reason(signed_in, db, world, pushes):
    url = f"/admin/slips/{world['slip_id']}"
    post(signed_in, f"{url}/reject", {"reason": ""}, url)
    assert "กรุณากรอกเหตุผล" in signed_in.get(url).get_data(as_text=True) and pushes == []
    post(signed_in, f"{url}/reject", {"reason": "ยอดโอนไม่ครบค่ะ"}, url)
    assert status(db, world["unpaid"]) == "awaiting_payment" and pushes == [1]
    page = signed_in.get(url).get_data(as_text=True)
    assert "ตัดสินสลิป" not in page  # decided: no more buttons


def test_unknown_order_and_slip_are_404(signed_in):
    assert signed_in.get("/admin/orders/SB000000-0000").status_code == 404
    assert signed_in.get("/admin/slips/999999").status_code == 404
    assert signed_in.get("/admin/slips/999999/image").status_code == 404
