"""/healthz and /readyz: database, queue, LLM (degraded, not down), failed-event counts for staff."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fake_line_api import text_event
from sqlalchemy import update

from shop.models.inbox import InboxEvent
from shop.settings import load_settings
from webhooks import inbox
from webhooks.app import create_app


@pytest.fixture
def models_server():
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            ok = self.path == "/v1/models"
            data = json.dumps({"data": [{"id": "Qwen/Qwen2.5-VL-7B-Instruct"}]} if ok else {}).encode()
            self.send_response(200 if ok else 404)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def app_for(db, fake_line, start_workers=True, **overrides):
    settings = load_settings(app_env="test", database_url=db.url, line_api_base_url=fake_line.url, **overrides)
    return create_app(settings, database=db, start_workers=start_workers, turn=lambda *args: [])


def test_healthz_is_always_up(db, fake_line):
    app = app_for(db, fake_line, start_workers=False)
    assert app.test_client().get("/healthz").get_json() == {"status": "ok"}


def test_readyz_ok_with_failed_counts(db, fake_line, models_server):
    [event_id] = [s.id for s in inbox.store_events(db, [inbox.inbox_row(text_event(), known=True)])]
    with db.session() as session:
        session.execute(update(InboxEvent).where(InboxEvent.id == event_id).values(status="failed"))
    app = app_for(db, fake_line, llm_base_url=models_server, worker_threads=2)
    try:
        response = app.test_client().get("/readyz")
        body = response.get_json()
        assert response.status_code == 200 and body["status"] == "ok"
        assert body["checks"]["database"] == "ok" and body["checks"]["llm"] == "ok"
        assert body["checks"]["queue"].startswith("embedded: 2 worker thread(s) alive")
        assert body["inbox"]["failed"] == 1
    finally:
        app.extensions["salesbot.queue"].stop()


def test_readyz_degraded_when_only_the_llm_is_down(db, fake_line):
    app = app_for(db, fake_line, llm_base_url=f"http://127.0.0.1:{closed_port()}/v1")
    try:
        response = app.test_client().get("/readyz")
        assert response.status_code == 200
        assert response.get_json()["status"] == "degraded"
        assert response.get_json()["checks"]["llm"].startswith("down")
    finally:
        app.extensions["salesbot.queue"].stop()


def test_readyz_unavailable_without_workers_or_database(db, fake_line):
    no_workers = app_for(db, fake_line, start_workers=False).test_client().get("/readyz")
    assert no_workers.status_code == 503 and "not started" in no_workers.get_json()["checks"]["queue"]

    settings = load_settings(app_env="test", database_url="postgresql://nobody@127.0.0.1:1/none",
                             line_api_base_url=fake_line.url)
    app = create_app(settings, start_workers=False, turn=lambda *args: [])
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["database"] == "down" and "nobody" not in json.dumps(body)


def test_readyz_pings_redis_when_configured(db, fake_line, redis_url):
    app = app_for(db, fake_line, redis_url=redis_url, rq_queue_name="salesbot-health-test")
    response = app.test_client().get("/readyz")
    assert response.status_code == 200 and response.get_json()["checks"]["queue"].startswith("redis")
    down = app_for(db, fake_line, redis_url=f"redis://127.0.0.1:{closed_port()}/0").test_client().get("/readyz")
    assert down.status_code == 503 and "redis unreachable" in down.get_json()["checks"]["queue"]
