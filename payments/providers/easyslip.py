"""EasySlip API v2 (easyslip-document.cl1.easythunder.com/en/v2/verify/bank): ``POST /verify/bank`` with
the payload and ``checkDuplicate``. Duplicates and mismatches come back as flags in a 200 answer; the
slip itself is ``data.rawSlip`` in the v1 slip shape (payload, transRef, date, amount{amount}, sender,
receiver{bank{id}, account{name{th,en}, bank{account}, proxy{account}}}).
"""
from __future__ import annotations

import httpx

from payments.providers.base import (
    ACCOUNT_PROBLEM,
    FLAG_AMOUNT_MISMATCH,
    FLAG_DUPLICATE,
    INVALID_QR,
    NOT_FOUND,
    PROVIDER_ERROR,
    QUOTA_EXCEEDED,
    HttpProvider,
    Transient,
    Verification,
    amount_to_satang,
    bangkok_datetime,
    dig,
    text,
)

DEFAULT_BASE_URL = "https://api.easyslip.com/v2"

ERRORS = {
    "MISSING_API_KEY": ACCOUNT_PROBLEM, "INVALID_API_KEY": ACCOUNT_PROBLEM, "BRANCH_INACTIVE": ACCOUNT_PROBLEM,
    "SERVICE_BANNED": ACCOUNT_PROBLEM, "SERVICE_DELETED": ACCOUNT_PROBLEM, "IP_NOT_ALLOWED": ACCOUNT_PROBLEM,
    "QUOTA_EXCEEDED": QUOTA_EXCEEDED, "VALIDATION_ERROR": INVALID_QR, "SLIP_NOT_FOUND": NOT_FOUND,
}
TRANSIENT = {"API_SERVER_ERROR", "INTERNAL_SERVER_ERROR"}


class EasySlipProvider(HttpProvider):
    name = "easyslip"

    def request(self, payload: str, amount_satang: int | None) -> httpx.Request:
        base = self.settings.slip_provider_base_url or DEFAULT_BASE_URL
        return self.client.build_request("POST", f"{base}/verify/bank",
                                         headers={"Authorization": f"Bearer {self.api_key()}"},
                                         json={"payload": payload, "checkDuplicate": True})

    def interpret(self, response: httpx.Response, body: dict) -> Verification:
        if body.get("success") is True and isinstance(body.get("data"), dict):
            return self._found(body)
        code = text(dig(body, "error", "code"))
        message = text(dig(body, "error", "message"))
        if code in TRANSIENT or response.status_code >= 500:
            raise Transient(f"{code} {message}".strip() or f"HTTP {response.status_code}", raw=body)
        reason = ERRORS.get(code) or (INVALID_QR if code.startswith(("IMAGE_", "URL_")) else PROVIDER_ERROR)
        return Verification(self.name, found=False, reason=reason,
                            message=f"{code or response.status_code} {message}".strip(), raw=body)

    def _found(self, body: dict) -> Verification:
        data = body["data"]
        slip = data.get("rawSlip") or {}
        flags = set()
        if data.get("isDuplicate") is True:
            flags.add(FLAG_DUPLICATE)
        if data.get("isAmountMatched") is False:
            flags.add(FLAG_AMOUNT_MISMATCH)
        receiver = dig(slip, "receiver", "account") or {}
        return Verification(
            self.name, found=True, flags=frozenset(flags),
            amount_satang=amount_to_satang(dig(slip, "amount", "amount") if dig(slip, "amount", "amount") is not None
                                           else data.get("amountInSlip")),
            trans_ref=text(slip.get("transRef")), transferred_at=bangkok_datetime(iso=slip.get("date")),
            sending_bank=text(dig(slip, "sender", "bank", "id")),
            receiving_bank=text(dig(slip, "receiver", "bank", "id")),
            receiver_name=text(dig(receiver, "name", "th")) or text(dig(receiver, "name", "en")),
            receiver_name_en=text(dig(receiver, "name", "en")),
            receiver_account=text(dig(receiver, "bank", "account")),
            receiver_proxy=text(dig(receiver, "proxy", "account")),
            sender_name=text(dig(slip, "sender", "account", "name", "th"))
            or text(dig(slip, "sender", "account", "name", "en")),
            message=text(body.get("message")), raw=body)
