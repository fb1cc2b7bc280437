"""Production's layout: turns run in a separate `salesbot worker` (issue 11, item 7). /readyz says
"no worker" when events wait and no worker process is alive, and the worker loads the turn's models
before it takes its first event."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import fake_line_api
from click.testing import CliRunner
from fake_line_api import SECRET, TOKEN, text_event
from test_workers import store, wait_for

from shop.settings import load_settings
from webhooks.app import create_app

TESTS = Path(__file__).parent
fake_line = fake_line_api.fake_line  # the fixture


def test_readyz_says_no_worker_when_events_wait_and_none_is_alive(any_db, fake_line):
    settings = load_settings(app_env="test", database_url=any_db.url, line_channel_secret=SECRET,
                             line_channel_access_token=TOKEN, line_api_base_url=fake_line.url,
                             worker_in_web=False, worker_heartbeat_seconds=0.5)
    client = create_app(settings, database=any_db, turn=lambda *args: []).test_client()

    def readyz() -> tuple[str, str]:
        body = client.get("/readyz").get_json()
        return body["status"], body["checks"]["worker"]

    assert readyz() == ("ok", "ok (no worker seen; nothing waiting)")
    store(any_db, text_event("มีใครอยู่ไหมคะ", user="U1"), text_event("สวัสดีค่ะ", user="U2"))
    status, worker = wait_for(lambda: readyz() if readyz()[1].startswith("no worker") else None, timeout=10)
    assert status == "degraded" and "2 chat(s)" in worker

    env = {**os.environ, "DATABASE_URL": any_db.url, "LINE_API_BASE_URL": fake_line.url, "APP_ENV": "test",
           "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "WORKER_HEARTBEAT_SECONDS": "0.5",
           "PYTHONPATH": str(TESTS)}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker", "--turn", "worker_turns:echo_turn"],
                               env=env, cwd=TESTS.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: len(fake_line.delivered()) == 2, timeout=30)
        wait_for(lambda: readyz() == ("ok", "ok"), timeout=10)  # its heartbeat, however busy the machine
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    store(any_db, text_event("ยังอยู่ไหมคะ", user="U3"))
    status, worker = wait_for(lambda: readyz() if readyz()[1].startswith("no worker") else None, timeout=10)
    assert status == "degraded" and "1 chat(s)" in worker


def test_the_worker_loads_the_turns_models_before_taking_events(monkeypatch, tmp_path):
    from bot import turn
    from bot.cli import main
    from shop.settings import get_settings
    from webhooks.worker import Worker

    order = []
    monkeypatch.setattr(turn, "warm_up", lambda db: order.append("warm up") or 0.0)
    monkeypatch.setattr(Worker, "drain", lambda self, *args, **kwargs: order.append("take events") or 0)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["worker", "--burst"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert order == ["warm up", "take events"]


def test_warm_up_makes_the_first_search_fast(db):
    """What the worker loads: afterwards the first turn does not wait for the encoder or the index."""
    from shop_data import seed_shop

    from bot.turn import warm_up
    from shop.search import search

    seed_shop(db)
    assert warm_up(db) > 0
    started = time.perf_counter()
    with db.session() as session:
        assert search(session, "เกมต่อรถไฟ")
    assert time.perf_counter() - started < 1.0
