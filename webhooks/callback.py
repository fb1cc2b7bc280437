"""POST /callback: LINE's webhook. Verify, store, acknowledge; the workers do the rest.

The signature is checked over the raw body with line-bot-sdk's `WebhookParser` (not `WebhookHandler`,
which would run the handlers inside the request). Each event is stored in the inbox before the 200
goes back; a duplicate or redelivered event is acknowledged and not stored again.
"""
from __future__ import annotations

import json
import logging

from flask import Blueprint, current_app, jsonify, request
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.webhook import UnknownEvent
from sqlalchemy.exc import SQLAlchemyError

from shop.metrics import ACK_SECONDS
from webhooks import inbox
from webhooks.deadline import DatabaseTooSlow
from webhooks.errors import error_response

log = logging.getLogger(__name__)

bp = Blueprint("callback", __name__)

NOT_A_WEBHOOK = "not a LINE webhook body: expected {\"events\": [ {event}, ... ]}"


@bp.post("/callback")
@ACK_SECONDS.time()
def callback():
    settings = current_app.extensions["salesbot.settings"]
    raw = request.get_data(cache=False)  # 413 above MAX_CONTENT_LENGTH, raised by werkzeug
    signature = request.headers.get("X-Line-Signature", "")
    if not signature:
        return error_response(400, "missing_signature", "X-Line-Signature header is missing")
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return error_response(400, "invalid_signature", "body is not UTF-8, so it cannot carry a valid signature")

    parser = WebhookParser(settings.line_channel_secret.get_secret_value())
    try:
        payload = parser.parse(body, signature, as_payload=True)
    except InvalidSignatureError:
        log.warning("callback: invalid signature (%d bytes); nothing stored", len(raw))
        return error_response(400, "invalid_signature", "X-Line-Signature does not match the body")
    except RecursionError:
        return error_response(400, "malformed_json", "JSON nested too deeply")
    except json.JSONDecodeError as error:
        return error_response(400, "malformed_json", f"body is not valid JSON: {error.msg} at position {error.pos}")
    except Exception as error:  # signature fine, shape wrong: KeyError, TypeError, AttributeError...
        log.warning("callback: signed body is not a webhook payload (%s)", type(error).__name__)
        return error_response(400, "not_a_webhook", NOT_A_WEBHOOK)

    raw_events = json.loads(body).get("events")  # each event's own JSON, every field kept
    if not isinstance(raw_events, list) or not all(isinstance(event, dict) for event in raw_events):
        return error_response(400, "not_a_webhook", NOT_A_WEBHOOK)
    rows = [inbox.inbox_row(raw, known=not isinstance(parsed, UnknownEvent))
            for raw, parsed in zip(raw_events, payload.events, strict=True)]
    db = current_app.extensions["salesbot.db"]
    try:  # LINE waits 2 s for the 200: a database that hangs or refuses gets a fast 500 (LINE redelivers)
        stored = current_app.extensions["salesbot.ack_deadline"].run(lambda: inbox.store_events(db, rows),
                                                                     settings.ack_deadline_seconds)
    except (DatabaseTooSlow, SQLAlchemyError) as error:
        log.error("callback: %d event(s) not stored now: %s", len(rows), type(error).__name__)
        return error_response(500, "database_unavailable", "the events could not be stored now; send them again")

    queued = [event.chat_id for event in stored if event.status == inbox.QUEUED]
    if queued:
        current_app.extensions["salesbot.queue"].notify(queued)
    return jsonify(status="ok", events=len(rows), new=len(stored), duplicates=len(rows) - len(stored))
