"""SlipOK (slipok.com/api-documentation, v1.7). Numeric error codes; 1012-1014 carry the slip data too,
so "duplicate", "amount mismatch" and "wrong receiver" arrive as flags on a found slip, never as success.
"""
from __future__ import annotations

import httpx

from payments.providers.base import (
    ACCOUNT_PROBLEM,
    DUPLICATE,
    FLAG_AMOUNT_MISMATCH,
    FLAG_DUPLICATE,
    FLAG_RECEIVER_MISMATCH,
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

DEFAULT_BASE_URL = "https://api.slipok.com/api/line/apikey"

DEFINITE = {
    1000: PROVIDER_ERROR,    # missing data/files/url: our request is wrong
    1001: ACCOUNT_PROBLEM,   # branch not found
    1002: ACCOUNT_PROBLEM,   # bad authorisation header
    1003: ACCOUNT_PROBLEM,   # package expired
    1004: QUOTA_EXCEEDED,
    1005: PROVIDER_ERROR,    # not an image type (we send the payload, so this is unexpected)
    1006: PROVIDER_ERROR,    # invalid image
    1007: INVALID_QR,        # no QR in the image
    1008: INVALID_QR,        # not a payment-verification QR
    1011: NOT_FOUND,         # QR expired or no such transaction
    1015: ACCOUNT_PROBLEM,   # package information not found
}
FLAGS = {1012: FLAG_DUPLICATE, 1013: FLAG_AMOUNT_MISMATCH, 1014: FLAG_RECEIVER_MISMATCH}
BANK_DOWN = 1009             # bank data temporarily unavailable, retry in about 15 minutes (no quota charged)
BANK_DELAY = 1010            # BBL/SCB slips must wait `delay` minutes after the transfer


class SlipOKProvider(HttpProvider):
    name = "slipok"

    def request(self, payload: str, amount_satang: int | None) -> httpx.Request:
        base = self.settings.slip_provider_base_url or DEFAULT_BASE_URL
        # log=true: SlipOK stores the slip and checks duplicates and the registered receiver account.
        return self.client.build_request("POST", f"{base}/{self.settings.slipok_branch_id}",
                                         headers={"x-authorization": self.api_key()},
                                         json={"data": payload, "log": True})

    def interpret(self, response: httpx.Response, body: dict) -> Verification:
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        if body.get("success") is True and data:
            return self._found(data, body, frozenset())
        code = body.get("code")
        message = text(body.get("message"))
        if code == BANK_DOWN:
            raise Transient(message or "bank data temporarily unavailable", retry_after=15 * 60, raw=body)
        if code == BANK_DELAY:
            delay = data.get("delay")
            minutes = delay if isinstance(delay, (int, float)) and not isinstance(delay, bool) and delay > 0 else 5
            raise Transient(message or "bank asks to wait before verifying", retry_after=minutes * 60, raw=body)
        if code in FLAGS:
            if data.get("transRef") or data.get("amount") is not None:
                return self._found(data, body, frozenset({FLAGS[code]}))
            if code == 1012:
                return Verification(self.name, found=False, reason=DUPLICATE, message=message, raw=body)
        if code in DEFINITE:
            return Verification(self.name, found=False, reason=DEFINITE[code], message=f"{code} {message}", raw=body)
        if response.status_code >= 500:
            raise Transient(message or f"HTTP {response.status_code}", raw=body)
        return Verification(self.name, found=False, reason=PROVIDER_ERROR,
                            message=f"HTTP {response.status_code} code={code} {message}", raw=body)

    def _found(self, data: dict, body: dict, flags: frozenset[str]) -> Verification:
        transferred_at = bangkok_datetime(iso=data.get("transTimestamp")) or bangkok_datetime(
            text(data.get("transDate")), text(data.get("transTime")))
        return Verification(
            self.name, found=True, flags=flags, transferred_at=transferred_at,
            message=text(body.get("message")) or text(data.get("message")), raw=body,
            **bank_api_slip_fields(data))
