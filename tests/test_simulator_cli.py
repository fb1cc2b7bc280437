"""`salesbot dev` defaults, and the simulator mounted in the real service against the real /callback."""
from __future__ import annotations

import stat

import httpx
import pytest
from click.testing import CliRunner
from simulator_bot import running_service

from bot.commands.dev import dev_environment, dev_secrets
from simulator.cli import simulator


def test_dev_secrets_are_generated_once_and_reused(tmp_path):
    path = tmp_path / "var" / "dev-secrets.env"
    first = dev_secrets(path)
    assert len(first["LINE_CHANNEL_SECRET"]) == 32 and len(first["LINE_CHANNEL_ACCESS_TOKEN"]) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert dev_secrets(path) == first


def test_dev_defaults_never_override_explicit_settings(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("PUBLIC_BASE_URL=http://example.test\n")
    environ = {"SLIP_PROVIDER": "none"}
    applied = dev_environment("127.0.0.1:8123", environ, dotenv, tmp_path / "secrets.env")
    assert environ["LINE_API_BASE_URL"] == "http://127.0.0.1:8123/sim/line"
    assert environ["SLIP_PROVIDER"] == "none"
    assert "PUBLIC_BASE_URL" not in environ and "PUBLIC_BASE_URL" not in applied
    assert environ["LINE_CHANNEL_SECRET"] == dev_secrets(tmp_path / "secrets.env")["LINE_CHANNEL_SECRET"]


def test_simulator_command_checks_its_bot_url():
    result = CliRunner().invoke(simulator, ["--bot-url", "127.0.0.1:8000/callback", "--channel-secret", "s"])
    assert result.exit_code != 0 and "--bot-url" in result.output


def echo_turn(db, settings, event):
    if event.get("type") == "postback":
        return [{"type": "text", "text": f"postback {event['postback']['data']}"}]
    if event.get("type") == "message" and event["message"]["type"] == "text":
        return [{"type": "text", "text": event["message"]["text"], "quickReply": {"items": [
            {"type": "action", "action": {"type": "postback", "label": "ตะกร้า", "data": "cart"}}]}}]
    return []


@pytest.fixture
def service(db):
    with running_service(db, turn=echo_turn) as url:
        yield url


def test_the_simulator_mounted_in_the_service_drives_the_real_edge(service):
    with httpx.Client(base_url=service + "/sim", timeout=30, params={"settle": "0.1"}) as client:
        assert client.get("/").status_code == 200
        answer = client.post("/api/chats/somchai/messages", json={"text": "มีเกม Catan ไหมคะ"})
        assert answer.status_code == 200, answer.text
        assert [m["text"] for m in answer.json()["messages"]] == ["มีเกม Catan ไหมคะ"]
        postback = client.post("/api/chats/somchai/messages", json={"postback": {"data": "cart",
                                                                                  "displayText": "ตะกร้า"}})
        assert [m["text"] for m in postback.json()["messages"]] == ["postback cart"]
        [event_id] = answer.json()["event_ids"]
        again = client.post(f"/api/events/{event_id}/redeliver", params={"listen": "1"}).json()
        assert again["webhook"]["status"] == 200 and '"duplicates":1' in again["webhook"]["body"].replace(" ", "")
        assert again["messages"] == []  # the edge de-duplicates: no second answer
        log = client.get("/api/log").json()["entries"]
        assert any(e["summary"].startswith("loading animation") for e in log)
        assert not any(e["kind"] == "violation" for e in log)


def test_the_service_never_mounts_the_simulator_by_itself(db, settings):
    """Whatever APP_ENV says, only `salesbot dev` mounts /sim: no forged event can be signed by the service."""
    from bot.app import create_app

    for app_env in ("development", "test"):
        client = create_app(settings.model_copy(update={"app_env": app_env}), database=db).test_client()
        assert client.get("/sim/").status_code == 404
        assert client.post("/sim/api/chats/somchai/messages", json={"postback": {"data": "a=cancel&n=1"}}).status_code == 404


def test_dev_always_signs_with_its_own_secret(tmp_path):
    environ = {"LINE_CHANNEL_SECRET": "the-real-channel-secret", "LINE_API_BASE_URL": "https://api.line.me"}
    dev_environment("127.0.0.1:8123", environ, tmp_path / ".env", tmp_path / "secrets.env")
    assert environ["LINE_CHANNEL_SECRET"] == dev_secrets(tmp_path / "secrets.env")["LINE_CHANNEL_SECRET"]
    assert environ["LINE_API_BASE_URL"] == "http://127.0.0.1:8123/sim/line"


@pytest.mark.parametrize("command", [["serve"], ["worker", "--burst"]])
def test_services_refuse_the_simulators_settings(command, monkeypatch):
    from bot.cli import main
    from shop.settings import get_settings

    monkeypatch.setenv("LINE_API_BASE_URL", "http://127.0.0.1:8000/sim/line")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, command)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "LINE_API_BASE_URL" in result.output and "simulator" in result.output
