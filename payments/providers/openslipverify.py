"""OpenSlipVerify (openslipverify.com). There are no official API docs: request and answer shapes follow
the integration in gxjakkap/ubillize (apps/ub/src/lib/slipverify.ts). Failures carry Thai strings only,
no codes, and "slip not found" also covers "wrong amount".
"""
from __future__ import annotations

import httpx

from payments.promptpay import format_amount
from payments.providers.base import (
    AML_FLAGGED,
    INVALID_QR,
    NOT_FOUND,
    PROVIDER_ERROR,
    QUOTA_EXCEEDED,
    HttpProvider,
    Transient,
    Verification,
    bangkok_datetime,
    bank_api_slip_fields,
    text,
)

DEFAULT_BASE_URL = "https://api.openslipverify.com"

# Known failure strings (prefixes) -> what they mean.
MESSAGES = (
    ("ไม่พบสลิปในระบบ", NOT_FOUND),            # "slip not found, or the amount is wrong"
    ("รูปแบบรหัสของสลิปไม่ถูกต้อง", INVALID_QR),  # "the slip code format is wrong"
    ("ถึงขีดจำกัดการตรวจสอบสลิป", QUOTA_EXCEEDED),  # "verification limit reached"
    ("ตรวจพบการกระทำที่ขัดต่อนโยบาย Anti-Money Laundering", AML_FLAGGED),
)
BANK_DOWN = "ธนาคารล่มหรือระบบมีปัญหา"              # "bank down or system problem, try again"


class OpenSlipVerifyProvider(HttpProvider):
    name = "openslipverify"

    def request(self, payload: str, amount_satang: int | None) -> httpx.Request:
        body: dict = {"refNbr": payload, "token": self.api_key()}
        if amount_satang is not None:
            body["amount"] = format_amount(amount_satang)  # a string: exact, never a float
        base = self.settings.slip_provider_base_url or DEFAULT_BASE_URL
        return self.client.build_request("POST", f"{base}/", json=body)

    def interpret(self, response: httpx.Response, body: dict) -> Verification:
        if body.get("success") is True and isinstance(body.get("data"), dict):
            data = body["data"]
            return Verification(
                self.name, found=True,
                transferred_at=bangkok_datetime(text(data.get("transDate")), text(data.get("transTime"))),
                raw=_without_token(body), **bank_api_slip_fields(data))
        message = text(body.get("msg")) or text(body.get("message"))
        if message.startswith(BANK_DOWN) or response.status_code >= 500:
            raise Transient(message or f"HTTP {response.status_code}", raw=_without_token(body))
        for prefix, reason in MESSAGES:
            if message.startswith(prefix):
                return Verification(self.name, found=False, reason=reason, message=message, raw=body)
        return Verification(self.name, found=False, reason=PROVIDER_ERROR,
                            message=message or f"HTTP {response.status_code}", raw=body)


def _without_token(body: dict) -> dict:
    return {key: value for key, value in body.items() if key != "token"}
