"""The local simulator's bank (development and tests only).

Contract shared with simulator/: ``POST {base}/verify`` with ``{"qr_payload": "<mini-QR payload>"}``;
200 ``{"success": true, "data": {transRef, sendingBank, receivingBank, amount "1260.00", transDate ISO,
sender{name}, receiver{name, account, promptpayId}}}``; 404 ``code=not_found`` (definite);
503 ``code=bank_down`` (transient); 400 ``code=invalid_payload`` (definite: not a slip QR).
"""
from __future__ import annotations

import httpx

from payments.providers.base import (
    INVALID_QR,
    NOT_FOUND,
    PROVIDER_ERROR,
    HttpProvider,
    Transient,
    Verification,
    amount_to_satang,
    bangkok_datetime,
    dig,
    text,
)


class SimulatorProvider(HttpProvider):
    name = "simulator"

    def base_url(self) -> str:
        return self.settings.slip_provider_base_url or f"{self.settings.public_base_url}/sim/bank/api"

    def request(self, payload: str, amount_satang: int | None) -> httpx.Request:
        return self.client.build_request("POST", f"{self.base_url()}/verify", json={"qr_payload": payload})

    def interpret(self, response: httpx.Response, body: dict) -> Verification:
        if response.status_code == 200 and body.get("success") is True:
            data = body.get("data") or {}
            return Verification(
                self.name, found=True, amount_satang=amount_to_satang(data.get("amount")),
                trans_ref=text(data.get("transRef")), transferred_at=bangkok_datetime(iso=data.get("transDate")),
                sending_bank=text(data.get("sendingBank")), receiving_bank=text(data.get("receivingBank")),
                receiver_name=text(dig(data, "receiver", "name")),
                receiver_account=text(dig(data, "receiver", "account")),
                receiver_proxy=text(dig(data, "receiver", "promptpayId")),
                sender_name=text(dig(data, "sender", "name")), raw=body)
        code = body.get("code")
        if response.status_code == 503 or code == "bank_down" or response.status_code >= 500:
            raise Transient(body.get("message") or f"HTTP {response.status_code}", raw=body)
        if response.status_code == 404 or code == "not_found":
            return Verification(self.name, found=False, reason=NOT_FOUND, message=text(body.get("message")), raw=body)
        if code == "invalid_payload":
            return Verification(self.name, found=False, reason=INVALID_QR, message=text(body.get("message")), raw=body)
        return Verification(self.name, found=False, reason=PROVIDER_ERROR,
                            message=f"HTTP {response.status_code}: {body.get('message', '')}", raw=body)
