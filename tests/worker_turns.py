"""Turn functions for worker tests that run `salesbot worker --turn worker_turns:NAME` in a subprocess."""
from __future__ import annotations

import os
import time
from pathlib import Path


def blocking_turn(db, settings, event):
    """Signal that the turn started, then hang (the test kills the process meanwhile)."""
    Path(os.environ["SALESBOT_TEST_MARKER"]).write_text(event["webhookEventId"])
    time.sleep(120)
    return [{"type": "text", "text": "never sent"}]


def real_turn_killed_after(db, settings, event):
    """The real turn, stopped (the test kills the process) at SALESBOT_TEST_STOP_AT: "tool" right after
    the first changing tool call committed, "answer" right after the turn's answer was stored."""
    from bot import turn_steps
    from bot.turn import run_turn

    stop_at = os.environ["SALESBOT_TEST_STOP_AT"]

    def hang() -> None:
        Path(os.environ["SALESBOT_TEST_MARKER"]).write_text(stop_at)
        time.sleep(120)

    if stop_at == "tool":
        call = turn_steps.RecordedTools.call_tool

        def call_then_hang(self, name, arguments=None):
            result = call(self, name, arguments)
            if turn_steps.recorded_tool(name):
                hang()
            return result

        turn_steps.RecordedTools.call_tool = call_then_hang
    messages = run_turn(db, settings, event)
    if stop_at == "answer":
        hang()
    return messages


def echo_turn(db, settings, event):
    return [{"type": "text", "text": "ได้รับแล้วค่ะ"}]
