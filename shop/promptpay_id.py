"""The shop's PromptPay target (mobile number, tax ID or e-wallet ID), validated strictly.

It lives in the domain because the settings validate PROMPTPAY_ID at start-up; `payments.promptpay`
builds payloads for it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

TargetKind = Literal["mobile", "national_id", "ewallet"]


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    digits: str  # as the customer would type it: 0812345678, 13-digit ID, 15-digit e-wallet


def parse_target(value: str) -> Target:
    """Validate a PromptPay target strictly. Raises ValueError with a readable reason."""
    digits = re.sub(r"[\s-]", "", value or "")
    if re.fullmatch(r"\+66\d{9}", digits):  # international mobile form: +66 8X XXX XXXX
        digits = "0" + digits[3:]
    if not digits.isdigit() or not digits.isascii():
        raise ValueError("PromptPay ID must be digits: a 10-digit mobile number, 13-digit ID or 15-digit e-wallet ID")
    if len(digits) == 10:
        if not digits.startswith("0"):
            raise ValueError("a 10-digit PromptPay mobile number must start with 0")
        return Target("mobile", digits)
    if len(digits) == 9:
        raise ValueError("mobile number looks like it lost its leading 0; write it as 0XXXXXXXXX")
    if len(digits) == 13:
        return Target("national_id", digits)
    if len(digits) == 15:
        return Target("ewallet", digits)
    raise ValueError(f"PromptPay ID has {len(digits)} digits; expected 10 (mobile), 13 (ID) or 15 (e-wallet)")
