"""Log lines carry the event and chat they belong to; /metrics answers in Prometheus format, never to strangers."""
from __future__ import annotations

import json
import logging

from fake_line_api import SECRET, sign, text_event, webhook_body

from bot.logs import configure_logging
from shop.settings import load_settings
from webhooks.app import create_app
from webhooks.log_context import event_context


def _app(db, **overrides):
    settings = load_settings(app_env="test", database_url="sqlite://", line_channel_secret=SECRET, **overrides)
    return create_app(settings, database=db, turn=lambda *args: [])


def _log_line(capsys, settings, emit) -> str:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(settings)
        emit()
    finally:
        root.handlers, root.level = saved
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_log_lines_name_the_event_and_chat(capsys):
    settings = load_settings(app_env="test")

    def emit():
        with event_context("01HEVENT", "Uchat"):
            logging.getLogger("salesbot.test").info("turn done")

    line = _log_line(capsys, settings, emit)
    assert "event 01HEVENT chat Uchat" in line and line.endswith("turn done")


def test_json_logs_are_one_object_a_line(capsys):
    settings = load_settings(app_env="test", log_format="json")

    def emit():
        with event_context("01HEVENT", "Uchat"):
            logging.getLogger("salesbot.test").warning("ยังไม่ได้รับสลิป")

    record = json.loads(_log_line(capsys, settings, emit))
    assert (record["level"], record["logger"], record["message"]) == ("WARNING", "salesbot.test", "ยังไม่ได้รับสลิป")
    assert (record["event_id"], record["chat_id"]) == ("01HEVENT", "Uchat")


def test_metrics_answer_loopback_only_without_a_token(db):
    client = _app(db).test_client()
    body = webhook_body(text_event("สวัสดีค่ะ"))
    assert client.post("/callback", data=body, headers={"X-Line-Signature": sign(body)}).status_code == 200
    local = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert local.status_code == 200 and local.mimetype == "text/plain"
    text = local.get_data(as_text=True)
    assert "salesbot_webhook_ack_seconds_count" in text
    assert 'salesbot_inbox_events{status="queued"} 1.0' in text
    assert "salesbot_inbox_oldest_queued_seconds" in text
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 404


def test_metrics_need_the_token_when_one_is_set(db):
    client = _app(db, metrics_token="s3cret-metrics-token").test_client()
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 404
    assert client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer wrong"}).status_code == 404
    ok = client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert ok.status_code == 200 and "s3cret" not in ok.get_data(as_text=True)
