"""The staff back office at /admin: sign-in, today's figures, orders, slips to review, the audit log.

An edge package: it reads the app's settings and database from `app.extensions` and is handed, by
the application layer that mounts it (bot.app.create_app), the builder of the messages customers get
(`customer_messages`) and a `push_soon` callable that sends the notifications outbox without waiting
for the next housekeeping round. It imports only the domain below it (shop, payments).
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask

from shop.fulfilment import CustomerMessages

log = logging.getLogger(__name__)
SESSION_HOURS = 12


@dataclass(frozen=True)
class AdminServices:
    customer_messages: CustomerMessages
    push_soon: Callable[[], None]


def init_app(app: Flask, *, customer_messages: CustomerMessages, push_soon: Callable[[], None] = lambda: None,
             url_prefix: str = "/admin") -> None:
    """Mount the back office. Sets the app's session cookie rules (the back office is its only user)."""
    from admin.web import bp

    settings = app.extensions["salesbot.settings"]
    secret = settings.secret_key.get_secret_value()
    if not secret:  # development and tests only: settings refuse production without SECRET_KEY
        secret = secrets.token_hex(32)
        log.info("SECRET_KEY is not set: back-office sessions last until this process stops")
    app.secret_key = secret
    app.config.update(SESSION_COOKIE_NAME="salesbot_staff", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=settings.production,
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
                      WTF_CSRF_TIME_LIMIT=SESSION_HOURS * 3600,
                      MAX_FORM_MEMORY_SIZE=3_000_000)  # a catalogue CSV's preview carries the file back
    app.extensions["salesbot.admin"] = AdminServices(customer_messages, push_soon)
    app.register_blueprint(bp, url_prefix=url_prefix)
