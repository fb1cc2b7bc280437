"""POST /callback: signature, storage before the 200, dedupe, bad input. SQLite and PostgreSQL."""
from __future__ import annotations

import json
import threading

import pytest
from fake_line_api import SECRET, TOKEN, USER, sign, text_event, webhook_body
from sqlalchemy import func, select

from bot.app import create_app
from shop.models.inbox import InboxEvent
from shop.settings import load_settings


def make_app(db, **overrides):
    settings = load_settings(app_env="test", database_url=db.url, line_channel_secret=SECRET,
                             line_channel_access_token=TOKEN, **overrides)
    return create_app(settings, database=db, start_workers=False)


def post(client, body: bytes, signature: str | None = "sign"):
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-Line-Signature"] = sign(body)
    elif signature is not None:
        headers["X-Line-Signature"] = signature
    return client.post("/callback", data=body, headers=headers)


def rows(db) -> list[InboxEvent]:
    with db.session() as session:
        return list(session.scalars(select(InboxEvent).order_by(InboxEvent.id)))


def test_valid_event_is_stored_before_the_ack(any_db):
    event = text_event("ขอดู Catan หน่อยค่ะ 🎲")
    response = post(make_app(any_db).test_client(), webhook_body(event))
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "events": 1, "new": 1, "duplicates": 0}
    [row] = rows(any_db)
    assert row.webhook_event_id == event["webhookEventId"]
    assert row.status == "queued" and row.chat_id == USER and row.event_type == "message"
    assert row.timestamp_ms == event["timestamp"] and row.reply_token == event["replyToken"]
    assert json.loads(row.body) == event
    assert "ขอดู Catan หน่อยค่ะ 🎲" in row.body  # Thai and emoji kept readable


@pytest.mark.parametrize("signature", [None, "", "not-base64!", sign(b"other body"),
                                       sign(webhook_body(text_event()), secret="wrong-secret"), "ลายเซ็น🙂"])
def test_missing_or_forged_signature_is_refused_and_nothing_stored(db, signature):
    body = webhook_body(text_event())
    response = post(make_app(db).test_client(), body, signature=signature)
    assert response.status_code == 400
    assert response.get_json()["error"] in {"missing_signature", "invalid_signature"}
    assert rows(db) == []


def test_verify_call_with_no_events_is_acknowledged(any_db):
    body = json.dumps({"destination": "U" + "0" * 32, "events": []}).encode()
    response = post(make_app(any_db).test_client(), body)
    assert response.status_code == 200 and response.get_json()["events"] == 0
    assert rows(any_db) == []


@pytest.mark.parametrize("body", [b'{"events": [', b"not json at all", b'{"events": [{"type": "message",}]}'])
def test_valid_signature_with_malformed_json_is_a_clear_400(db, body):
    response = post(make_app(db).test_client(), body)
    assert response.status_code == 400
    payload = response.get_json()
    assert payload["error"] == "malformed_json" and "not valid JSON" in payload["message"]
    assert rows(db) == []


@pytest.mark.parametrize("body", [b"{}", b"[]", b'"events"', b'{"events": {}}', b'{"events": "x"}',
                                  b'{"events": [1, 2]}', b'{"events": [null]}', b'{"events": [["a"]]}'])
def test_signed_json_that_is_not_a_webhook_is_a_clear_400(db, body):
    response = post(make_app(db).test_client(), body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "not_a_webhook"
    assert rows(db) == []


def test_body_over_one_megabyte_is_413(db):
    event = text_event("ก" * (1024 * 1024))
    body = webhook_body(event)
    response = post(make_app(db).test_client(), body)
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"
    assert rows(db) == []


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000,
                                  b'{"events": [' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"]}"])
def test_deeply_nested_body_is_refused_without_a_trace(db, body):
    response = post(make_app(db).test_client(), body)
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
    assert rows(db) == []


def test_unknown_and_malformed_event_types_are_stored_and_skipped(any_db):
    unknown = {"type": "เหตุการณ์ใหม่🆕", "webhookEventId": "01UNKNOWN", "timestamp": 1,
               "source": {"type": "user", "userId": USER}, "mode": "active",
               "deliveryContext": {"isRedelivery": False}}
    no_quote_token = text_event()
    del no_quote_token["message"]["quoteToken"]  # the SDK cannot parse it: treated as unknown
    response = post(make_app(any_db).test_client(), webhook_body(unknown, no_quote_token))
    assert response.status_code == 200
    stored = rows(any_db)
    assert [row.status for row in stored] == ["skipped", "skipped"]
    assert all("unknown" in row.last_error for row in stored)
    assert json.loads(stored[0].body) == unknown


def test_standby_events_are_stored_but_not_processed(db):
    event = text_event(mode="standby")
    del event["replyToken"]
    post(make_app(db).test_client(), webhook_body(event))
    [row] = rows(db)
    assert row.status == "skipped" and "standby" in row.last_error


def test_duplicate_and_redelivered_events_are_acknowledged_once(any_db):
    client = make_app(any_db).test_client()
    event = text_event()
    assert post(client, webhook_body(event)).get_json()["new"] == 1
    again = post(client, webhook_body(event))
    assert again.status_code == 200 and again.get_json() == {"status": "ok", "events": 1, "new": 0, "duplicates": 1}
    redelivered = {**event, "deliveryContext": {"isRedelivery": True}}
    assert post(client, webhook_body(redelivered, event)).get_json()["duplicates"] == 2
    assert len(rows(any_db)) == 1


def test_hundred_concurrent_copies_store_one_row(any_db):
    # 100 requests at once in one process queue for the database far longer than a real burst (gunicorn
    # runs 8 per process): this test is about storing once, so the ack deadline is out of its way
    app = make_app(any_db, ack_deadline_seconds=60)
    body = webhook_body(text_event("ซ้ำ 100 ครั้ง 🔁"))
    statuses, start = [], threading.Barrier(100)

    def send():
        client = app.test_client()
        start.wait()
        statuses.append(post(client, body).status_code)

    threads = [threading.Thread(target=send) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 100
    with any_db.session() as session:
        assert session.scalar(select(func.count()).select_from(InboxEvent)) == 1


def test_thai_and_emoji_in_every_field(any_db):
    event = text_event("สั่ง 2 กล่องค่ะ 👍🏽👨‍👩‍👧", user="ผู้ใช้🙂" * 20, event_id="รหัส🎫",
                       reply_token="โทเคน🔑" * 40)
    event["message"]["id"] = "ข้อความ💬"
    event["message"]["quoteToken"] = "อ้างอิง📎"
    event["destination"] = "ปลายทาง🏁"
    event["extra"] = {"ช่อง": ["ค่า", "😀", "\ud83d"]}  # a lone surrogate as JSON may carry
    body = json.dumps({"destination": "ร้าน🏪", "events": [event]}, ensure_ascii=True).encode()
    response = post(make_app(any_db).test_client(), body)
    assert response.status_code == 200
    [row] = rows(any_db)
    assert json.loads(row.body) == event
    assert row.webhook_event_id == "รหัส🎫" and row.chat_id == ("ผู้ใช้🙂" * 20)[:64]


def test_signature_covers_the_exact_bytes_escaped_or_not(db):
    event = text_event("ราคาเท่าไหร่คะ")
    client = make_app(db).test_client()
    escaped = json.dumps({"events": [event]}, ensure_ascii=True).encode()
    assert post(client, escaped).status_code == 200
    # same JSON, re-encoded as UTF-8 but signed over the escaped bytes: refused
    raw = json.dumps({"events": [event]}, ensure_ascii=False).encode()
    assert post(client, raw, signature=sign(escaped)).status_code == 400


def test_unexpected_error_is_json_without_a_trace(db, monkeypatch):
    from webhooks import inbox

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail in /path/to/file.py")

    monkeypatch.setattr(inbox, "store_events", broken)
    app = make_app(db)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = post(app.test_client(), webhook_body(text_event()))
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert response.get_json()["error"] == "internal_error"
    assert "Traceback" not in text and "secret detail" not in text


def test_wrong_method_and_unknown_path_are_json(db):
    client = make_app(db).test_client()
    assert client.get("/callback").status_code == 405
    assert client.get("/callback").get_json()["error"] == "method_not_allowed"
    assert client.get("/nope").get_json()["error"] == "not_found"


def test_redis_down_still_stores_and_acknowledges(db):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    client = make_app(db, redis_url=f"redis://127.0.0.1:{closed}/0").test_client()
    for text in ("หนึ่ง", "สอง"):
        assert post(client, webhook_body(text_event(text))).status_code == 200
    assert [row.status for row in rows(db)] == ["queued", "queued"]  # the worker's sweep enqueues them
