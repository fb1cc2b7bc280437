"""Test double for the LINE platform, for the webhook tests: a real HTTP server on 127.0.0.1 (random
port) speaking the few Messaging API calls the bot makes, recording every call; plus signed webhook
bodies. (The SDK uses urllib3, so an in-process transport mock would not see its calls.)

Behaves like LINE where it matters: reply tokens are single use (400 "Invalid reply token" after),
push retry keys are remembered (409 for a repeat), loading answers 202, content can expire (404/410).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SECRET = "test-secret"
TOKEN = "test-token"
USER = "U" + "1" * 32


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def webhook_body(*events: dict) -> bytes:
    return json.dumps({"destination": "U" + "0" * 32, "events": list(events)}, ensure_ascii=False).encode()


def text_event(text: str = "สวัสดีค่ะ 🙏", *, user: str = USER, timestamp: int | None = None,
               event_id: str | None = None, reply_token: str | None = None, **extra) -> dict:
    event = {"type": "message", "mode": "active",
             "timestamp": timestamp if timestamp is not None else int(time.time() * 1000),
             "webhookEventId": event_id or uuid.uuid4().hex.upper()[:26],
             "deliveryContext": {"isRedelivery": False},
             "source": {"type": "user", "userId": user},
             "replyToken": reply_token if reply_token is not None else uuid.uuid4().hex,
             "message": {"type": "text", "id": str(uuid.uuid4().int)[:18], "quoteToken": "q-" + uuid.uuid4().hex,
                         "text": text}}
    event.update(extra)
    return event


def image_event(message_id: str, *, user: str = USER, image_set: dict | None = None, **extra) -> dict:
    event = text_event(user=user, **extra)
    event["message"] = {"type": "image", "id": message_id, "quoteToken": "q-" + uuid.uuid4().hex,
                        "contentProvider": {"type": "line"}}
    if image_set:
        event["message"]["imageSet"] = image_set
    return event


class FakeLine:
    def __init__(self):
        self.calls: list[dict] = []
        self.lock = threading.Lock()
        self.used_tokens: set[str] = set()
        self.expired_tokens: set[str] = set()
        self.retry_keys: set[str] = set()
        self.content: dict[str, tuple[int, bytes, str]] = {}
        self.fail_next: list[int] = []  # statuses for the next reply/push calls (e.g. 500, 429)
        self.before_send = None  # callable(kind) run before a reply/push is answered (e.g. to block)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> FakeLine:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def of(self, kind: str) -> list[dict]:
        with self.lock:
            return [call for call in self.calls if call["kind"] == kind]

    def delivered(self) -> list[dict]:
        """Messages LINE accepted (reply or push, not 4xx/409), in order."""
        with self.lock:
            return [message for call in self.calls if call["kind"] in ("reply", "push") and call["status"] == 200
                    for message in call["body"]["messages"]]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _answer(self, status: int, payload: dict | bytes, content_type: str = "application/json"):
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _record(self, kind: str, body, status: int) -> None:
                with fake.lock:
                    fake.calls.append({"kind": kind, "path": self.path, "body": body, "status": status,
                                       "auth": self.headers.get("Authorization"),
                                       "retry_key": self.headers.get("X-Line-Retry-Key")})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.path == "/v2/bot/chat/loading/start":
                    self._record("loading", body, 202)
                    return self._answer(202, {})
                if self.path == "/v2/bot/chat/markAsRead":
                    self._record("read", body, 200)
                    return self._answer(200, {})
                kind = {"/v2/bot/message/reply": "reply", "/v2/bot/message/push": "push"}.get(self.path)
                if kind is None:
                    return self._answer(404, {"message": "Not found"})
                if fake.before_send:
                    fake.before_send(kind)
                with fake.lock:
                    forced = fake.fail_next.pop(0) if fake.fail_next else None
                if forced:
                    self._record(kind, body, forced)
                    return self._answer(forced, {"message": "forced failure"})
                if kind == "reply":
                    token = body.get("replyToken")
                    with fake.lock:
                        invalid = token in fake.used_tokens or token in fake.expired_tokens
                        fake.used_tokens.add(token)
                    if invalid:
                        self._record(kind, body, 400)
                        return self._answer(400, {"message": "Invalid reply token"})
                else:
                    key = self.headers.get("X-Line-Retry-Key")
                    with fake.lock:
                        repeat = key is not None and key in fake.retry_keys
                        fake.retry_keys.add(key)
                    if repeat:
                        self._record(kind, body, 409)
                        return self._answer(409, {"message": "The retry key is already accepted"})
                self._record(kind, body, 200)
                self._answer(200, {"sentMessages": [{"id": str(n), "quoteToken": "q"} for n in range(len(body["messages"]))]})

            def do_GET(self):
                if self.path == "/_delivered":  # for benchmarks running this server in another process
                    return self._answer(200, [message.get("text", "") for message in fake.delivered()])
                parts = self.path.strip("/").split("/")
                if len(parts) == 5 and parts[:3] == ["v2", "bot", "message"] and parts[4] == "content":
                    status, data, content_type = fake.content.get(parts[3], (404, b'{"message":"Not found"}',
                                                                             "application/json"))
                    self._record("content", {"id": parts[3]}, status)
                    return self._answer(status, data, content_type)
                self._answer(404, {"message": "Not found"})

        return Handler


@pytest.fixture
def fake_line():
    server = FakeLine().start()
    yield server
    server.stop()
