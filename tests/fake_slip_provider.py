"""Test double for a slip-verification provider: answers for the slip it is asked about with a transfer
to the shop (fields overridable), or raises the exception it was given; counts calls."""
from __future__ import annotations

import threading
from datetime import datetime

from payments.providers import BANGKOK, SlipProvider, Verification
from payments.slip_qr import parse_slip_payload

TRANSFERRED = datetime(2026, 11, 26, 14, 3, tzinfo=BANGKOK)


class FakeProvider(SlipProvider):
    """Answers with a Verification for the slip it is asked about (or raises); counts calls."""

    name = "fake"

    def __init__(self, answer=None, **fields):
        self.answer = answer
        self.fields = fields
        self.calls = 0
        self.barrier: threading.Barrier | None = None

    def verify(self, payload, image=None, *, amount_satang=None):
        self.calls += 1
        if self.barrier is not None:
            self.barrier.wait(timeout=10)
        if isinstance(self.answer, Exception):
            raise self.answer
        if isinstance(self.answer, Verification):
            return self.answer
        slip = parse_slip_payload(payload)
        values = dict(amount_satang=126000, trans_ref=slip.trans_ref, sending_bank=slip.sending_bank,
                      receiving_bank="014", transferred_at=TRANSFERRED, receiver_name="ร้านบอร์ดเกมตัวอย่าง",
                      receiver_proxy="xxx-xxx-5678", sender_name="นาย ทดสอบ ใจดี", raw={"from": "fake"})
        values.update(self.fields)
        return Verification(self.name, found=True, **values)
