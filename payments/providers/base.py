"""The one interface every slip-verification provider implements, and the HTTP retry loop they share.

A provider answers one of three ways:
- a `Verification` with ``found=True``: the bank knows the transfer (amount, receiver, time …);
- a `Verification` with ``found=False`` and a ``reason``: a definite answer (no such slip, bad QR, or a
  problem with the shop's provider account) — never retried;
- `ProviderUnavailable`: transient trouble (bank down, 5xx, timeouts) that outlived a few quick retries.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

log = logging.getLogger(__name__)

BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")  # Thailand has no daylight saving time

# Definite rejection reasons a provider may give (Verification.reason when found is False).
NOT_FOUND = "not_found"              # the bank has no such transfer (or, OpenSlipVerify: wrong amount)
INVALID_QR = "invalid_qr"            # the provider says the payload is not a slip QR
DUPLICATE = "duplicate"              # provider-side duplicate without slip data
# Problems with the shop's own provider account or our request: staff must act, the customer is not at fault.
ACCOUNT_PROBLEM = "account_problem"  # bad key, branch, expired package, IP not allowed …
QUOTA_EXCEEDED = "quota_exceeded"
PROVIDER_ERROR = "provider_error"    # an answer we cannot interpret
AML_FLAGGED = "aml_flagged"
STAFF_REASONS = frozenset({ACCOUNT_PROBLEM, QUOTA_EXCEEDED, PROVIDER_ERROR, AML_FLAGGED})

# Flags a provider may attach to a found slip (its own checks; ours run regardless).
FLAG_DUPLICATE = "duplicate"
FLAG_AMOUNT_MISMATCH = "amount_mismatch"
FLAG_RECEIVER_MISMATCH = "receiver_mismatch"


class ProviderUnavailable(Exception):
    """Transient failure after bounded retries. ``retry_after`` (seconds) is the provider's hint, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, raw: dict | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.raw = raw


class Transient(Exception):
    """Raised by an adapter's `interpret` for an answer worth retrying."""

    def __init__(self, message: str, *, retry_after: float | None = None, raw: dict | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.raw = raw


@dataclass
class Verification:
    provider: str
    found: bool
    reason: str = ""                       # when not found: one of the codes above
    message: str = ""                      # the provider's own words, for staff
    amount_satang: int | None = None
    trans_ref: str = ""
    transferred_at: datetime | None = None # aware, Asia/Bangkok
    sending_bank: str = ""
    receiving_bank: str = ""
    receiver_name: str = ""
    receiver_name_en: str = ""
    receiver_account: str = ""             # masked as the bank gives it, e.g. xxx-x-x8695-x
    receiver_proxy: str = ""               # masked PromptPay proxy, e.g. xxx-xxx-5678
    sender_name: str = ""
    flags: frozenset[str] = frozenset()
    raw: dict = field(default_factory=dict)

    @property
    def staff_problem(self) -> bool:
        return not self.found and self.reason in STAFF_REASONS


class SlipProvider:
    """Interface: `verify(payload, image, amount_satang=None) -> Verification`."""

    name = "base"

    def verify(self, payload: str, image: bytes | None = None, *, amount_satang: int | None = None) -> Verification:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections (providers made by `get_provider` for one call are closed after it)."""


class NoProvider(SlipProvider):
    """SLIP_PROVIDER=none: nothing asks the bank, so every readable slip goes to staff."""

    name = "none"

    def verify(self, payload: str, image: bytes | None = None, *, amount_satang: int | None = None) -> Verification:
        return Verification(self.name, found=False, reason="no_provider",
                            message="no slip-verification provider is configured")


class HttpProvider(SlipProvider):
    """Shared HTTP plumbing: one client with timeouts, retries with bounded backoff for transient errors."""

    attempts = 3
    backoff_seconds = 0.5        # 0.5 s, 1 s between attempts: at most 1.5 s of waiting per slip
    max_inline_wait = 5.0        # a provider hint longer than this ends the call: the slip goes pending

    def __init__(self, settings, *, client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        timeout = httpx.Timeout(settings.slip_provider_timeout_seconds, connect=5.0)
        self._owns_client = client is None
        self.client = client or httpx.Client(timeout=timeout)
        self.sleep = sleep

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def api_key(self) -> str:
        return self.settings.slip_provider_api_key.get_secret_value()

    def request(self, payload: str, amount_satang: int | None) -> httpx.Request:
        raise NotImplementedError

    def interpret(self, response: httpx.Response, body: dict) -> Verification:
        raise NotImplementedError

    def verify(self, payload: str, image: bytes | None = None, *, amount_satang: int | None = None) -> Verification:
        last: Exception | None = None
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            try:
                response = self.client.send(self.request(payload, amount_satang))
                body = _json_body(response)
                if response.status_code >= 500 and not body:
                    raise Transient(f"HTTP {response.status_code}", raw={"status": response.status_code})
                return self.interpret(response, body)
            except Transient as error:
                last = error
                log.warning("%s: transient answer (attempt %d): %s", self.name, attempt + 1, error)
                if error.retry_after and error.retry_after > self.max_inline_wait:
                    break
            except httpx.TransportError as error:  # timeouts, refused connections, resets
                last = error
                log.warning("%s: %s (attempt %d)", self.name, type(error).__name__, attempt + 1)
        raise ProviderUnavailable(f"{self.name} unavailable: {last}",
                                  retry_after=getattr(last, "retry_after", None), raw=getattr(last, "raw", None))


def _json_body(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# --- helpers the adapters share ----------------------------------------------------------------

def amount_to_satang(value: Any) -> int | None:
    """Provider amounts come as JSON numbers or strings in baht; convert exactly through str()."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        satang = Decimal(str(value).replace(",", "")) * 100
    except InvalidOperation:
        return None
    if satang != satang.to_integral_value():
        return None
    return int(satang)


def bangkok_datetime(date: str | None = None, time_text: str | None = None, *, iso: str | None = None) -> datetime | None:
    """'20250326' + '15:17[:07]' in Bangkok local time, or an ISO 8601 string; result in Asia/Bangkok."""
    try:
        if iso:
            parsed = datetime.fromisoformat(iso.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=BANGKOK)
            return parsed.astimezone(BANGKOK)
        if date and time_text:
            pattern = "%Y%m%d %H:%M:%S" if time_text.count(":") == 2 else "%Y%m%d %H:%M"
            return datetime.strptime(f"{date} {time_text}", pattern).replace(tzinfo=BANGKOK)
    except (ValueError, TypeError):
        return None
    return None


def dig(data: Any, *path: str) -> Any:
    """data['a']['b'] … or None when any step is missing."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def bank_api_slip_fields(data: dict) -> dict[str, Any]:
    """`Verification` fields from the slip data block that SlipOK and OpenSlipVerify both return
    (the banks' slip-verify shape: transRef, sendingBank, receiver.account.value, ...)."""
    receiver = data.get("receiver") or {}
    return dict(
        amount_satang=amount_to_satang(data.get("amount")),
        trans_ref=text(data.get("transRef")),
        sending_bank=text(data.get("sendingBank")), receiving_bank=text(data.get("receivingBank")),
        receiver_name=text(receiver.get("displayName")) or text(receiver.get("name")),
        receiver_name_en=text(receiver.get("name")),
        receiver_account=text(dig(receiver, "account", "value")),
        receiver_proxy=text(dig(receiver, "proxy", "value")),
        sender_name=text(dig(data, "sender", "displayName")) or text(dig(data, "sender", "name")),
    )
