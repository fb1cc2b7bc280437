"""The service app with the back office, a staff account and a signed-in Flask test client (for the
back-office tests and bench/backoffice.py)."""
from __future__ import annotations

import re

from shop import audit
from shop.staff import add_staff

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def staff_app(db, settings, pushes: list | None = None):
    """bot.app.create_app on `db`, with the notifications push replaced by a counter."""
    import admin
    from bot.app import create_app
    from bot.replies.fulfilment import customer_messages

    app = create_app(settings, database=db)
    app.config["TESTING"] = True
    services = app.extensions["salesbot.admin"]
    if pushes is not None:
        app.extensions["salesbot.admin"] = admin.AdminServices(services.customer_messages,
                                                               lambda: pushes.append(1))
    assert services.customer_messages is customer_messages
    return app


def add_account(db, username: str = "somchai", password: str = PASSWORD, name: str = "สมชาย"):
    return add_staff(db, username, password, display_name=name, actor=audit.Actor(None, "test"))


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def sign_in(client, username: str = "somchai", password: str = PASSWORD, **environ):
    page = client.get("/admin/login")
    return client.post("/admin/login", data={"username": username, "password": password,
                                             "csrf_token": csrf_of(page.get_data(as_text=True))},
                       environ_base=environ)


def post(client, path: str, data: dict | None = None, page: str = "/admin/"):
    """POST a back-office form with the CSRF token read from `page`, as the browser would."""
    token = csrf_of(client.get(page).get_data(as_text=True))
    return client.post(path, data={**(data or {}), "csrf_token": token})
