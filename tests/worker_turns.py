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
