"""The OpenAI-compatible client against the fake vLLM server (a test double): retries, deadlines,
the circuit breaker, garbage, health, and the API key kept out of logs."""
from __future__ import annotations

import logging
import socket
import time

import pytest
from fake_vllm_server import Disconnect, FakeVLLMServer, Garbage, Say, Slow, Status

from inference.client import ChatClient, LLMBadResponse, LLMRequestRejected, LLMTimeout, LLMUnavailable

MESSAGES = [{"role": "user", "content": "สวัสดีค่ะ"}]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server():
    with FakeVLLMServer() as fake:
        yield fake


def _client(server: FakeVLLMServer, **options) -> ChatClient:
    options.setdefault("retry_backoff_s", 0.01)
    return ChatClient(server.base_url, server.model, **options)


def test_chat_returns_content_and_usage(server):
    server.script(Say("สวัสดีค่ะ ทางร้านยินดีให้บริการค่ะ"))
    result = _client(server).chat(MESSAGES)
    assert result.content == "สวัสดีค่ะ ทางร้านยินดีให้บริการค่ะ"
    assert result.tool_calls == [] and result.finish_reason == "stop"
    assert result.prompt_tokens > 0 and result.completion_tokens > 0
    body = server.requests[0]
    assert body["model"] == server.model and body["temperature"] == 0.2 and body["stream"] is False
    assert "tools" not in body


def test_root_url_without_v1_is_accepted(server):
    server.script(Say("ค่ะ"))
    client = ChatClient(server.root_url, server.model)
    assert client.api_root == server.base_url
    assert client.chat(MESSAGES).content == "ค่ะ"


def test_native_tool_calls_come_back_as_vllm_returns_them(server):
    server.script(Say('ขอค้นหาก่อนนะคะ<tool_call>\n{"name": "search_products", "arguments": {"query": "สเปลนเดอร์"}}\n</tool_call>'))
    tools = [{"type": "function", "function": {"name": "search_products", "parameters": {"type": "object"}}}]
    result = _client(server).chat(MESSAGES, tools=tools)
    assert result.finish_reason == "tool_calls"
    assert result.content == "ขอค้นหาก่อนนะคะ"
    (call,) = result.tool_calls
    assert call["id"].startswith("chatcmpl-tool-")
    assert call["function"]["arguments"] == '{"query": "สเปลนเดอร์"}'  # a JSON string, Thai unescaped
    assert server.requests[0]["tool_choice"] == "auto"


def test_500_then_success_is_retried(server):
    server.script(Status(500), Status(503), Say("ได้ค่ะ"))
    client = _client(server, max_retries=2)
    result = client.chat(MESSAGES)
    assert result.content == "ได้ค่ะ" and result.attempts == 3
    assert len(server.requests) == 3
    assert client.available()


def test_dropped_connection_is_retried(server):
    server.script(Disconnect(), Say("ได้ค่ะ"))
    assert _client(server).chat(MESSAGES).attempts == 2


def test_persistent_500_opens_the_breaker_until_the_cooldown_passes(server):
    clock = FakeClock()
    client = _client(server, max_retries=1, cooldown_s=30, clock=clock)
    server.script(Status(500), Status(500))
    with pytest.raises(LLMUnavailable):
        client.chat(MESSAGES)
    assert len(server.requests) == 2
    assert not client.available()
    assert client.status()["state"] == "degraded"
    with pytest.raises(LLMUnavailable, match="circuit open"):
        client.chat(MESSAGES)
    assert len(server.requests) == 2          # no request while the breaker is open
    clock.now += 31
    assert client.available()
    server.script(Say("กลับมาแล้วค่ะ"))
    assert client.chat(MESSAGES).content == "กลับมาแล้วค่ะ"
    assert client.status() == {"state": "ok"}


def test_unreachable_server_is_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ChatClient(f"http://127.0.0.1:{port}/v1", "m", max_retries=1, retry_backoff_s=0.01)
    with pytest.raises(LLMUnavailable, match="cannot reach"):
        client.chat(MESSAGES)
    assert not client.available()


def test_hang_past_the_timeout_is_not_retried(server):
    server.script(Slow(5, Say("ช้าไปค่ะ")), Say("ไม่ควรถูกเรียก"))
    client = _client(server, timeout_s=0.3)
    started = time.monotonic()
    with pytest.raises(LLMTimeout):
        client.chat(MESSAGES)
    assert time.monotonic() - started < 3
    assert len(server.requests) == 1
    assert not client.available()


def test_turn_deadline_bounds_the_request(server):
    server.script(Slow(5, Say("ช้าไปค่ะ")))
    client = _client(server, timeout_s=30)
    with pytest.raises(LLMTimeout):
        client.chat(MESSAGES, deadline=time.monotonic() + 0.3)


def test_deadline_already_passed_sends_nothing(server):
    with pytest.raises(LLMTimeout, match="deadline"):
        _client(server).chat(MESSAGES, deadline=time.monotonic() - 1)
    assert server.requests == []


def test_slow_answer_within_the_timeout_is_fine(server):
    server.script(Slow(0.2, Say("มาแล้วค่ะ")))
    assert _client(server, timeout_s=5).chat(MESSAGES).content == "มาแล้วค่ะ"


@pytest.mark.parametrize("garbage", [Garbage(), Garbage(b'{"choices": []}', "application/json"),
                                     Garbage(b'{"choices": [{"message": {"content": 5}}]}', "application/json")])
def test_garbage_body_is_a_bad_response(server, garbage):
    server.script(garbage)
    client = _client(server)
    with pytest.raises(LLMBadResponse):
        client.chat(MESSAGES)
    assert not client.available()


def test_4xx_is_rejected_without_retry_and_without_opening_the_breaker(server):
    client = ChatClient(server.base_url, "another/model", retry_backoff_s=0.01)
    with pytest.raises(LLMRequestRejected, match="404"):
        client.chat(MESSAGES)
    assert len(server.requests) == 1
    assert client.available()


def test_health_checks_models_endpoint(server):
    assert _client(server).health()
    assert not ChatClient(server.base_url, "another/model").health()
    server.models_status = 503
    client = _client(server)
    assert not client.health() and not client.available()


def test_api_key_is_sent_but_never_logged(caplog):
    caplog.set_level(logging.DEBUG)
    with FakeVLLMServer(api_key="sk-very-secret") as server:
        server.script(Status(500), Say("ค่ะ"))
        client = ChatClient(server.base_url, server.model, api_key="sk-very-secret", retry_backoff_s=0.01)
        client.chat(MESSAGES)
        assert server.headers[-1]["authorization"] == "Bearer sk-very-secret"
        wrong = ChatClient(server.base_url, server.model, api_key="sk-wrong")
        with pytest.raises(LLMRequestRejected, match="401"):
            wrong.chat(MESSAGES)
    assert "sk-very-secret" not in caplog.text and "sk-very-secret" not in repr(client)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="http"):
        ChatClient("localhost:8000", "m")
    with pytest.raises(ValueError, match="positive"):
        ChatClient("http://localhost:8000", "m", timeout_s=0)
