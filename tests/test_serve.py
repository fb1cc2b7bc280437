"""`salesbot serve` stops on a configuration error before gunicorn starts (issue 11, item 4): one line
naming the setting, exit code 2, and no port left open with a worker respawning behind it."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD = {"APP_ENV": "production", "PUBLIC_BASE_URL": "https://shop.example", "SECRET_KEY": "k" * 32,
        "LINE_CHANNEL_SECRET": "0123456789abcdef0123456789abcdef", "LINE_CHANNEL_ACCESS_TOKEN": "token",
        "SLIP_PROVIDER": "slipok", "SLIP_PROVIDER_API_KEY": "key", "SLIPOK_BRANCH_ID": "1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("bad, variable", [
    ({"LINE_CHANNEL_SECRET": "x"}, "LINE_CHANNEL_SECRET"),
    ({"LINE_API_BASE_URL": "https://tokens.example"}, "LINE_API_BASE_URL"),
    ({"SLIP_PROVIDER_BASE_URL": "http://slips.example"}, "SLIP_PROVIDER_BASE_URL"),
])
def test_serve_exits_with_one_line_naming_the_setting(tmp_path, bad, variable):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in GOOD and not key.startswith("LINE_")}
    env.update(GOOD, **bad, DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "bot.cli", "serve", "--bind", f"127.0.0.1:{port}"], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and time.monotonic() - started < 30
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and re.match(rf"salesbot: configuration error: {variable}\b", lines[0]), result.stderr
    with socket.socket() as probe:  # gunicorn never started: nothing holds the port
        assert probe.connect_ex(("127.0.0.1", port)) != 0
