"""PromptPay "Thai QR Payment" targets and payloads (EMVCo MPM, tag 29)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from payments import emv
from shop.promptpay_id import Target, TargetKind, parse_target  # noqa: F401  (re-exported)

# --- payloads -------------------------------------------------------------------------------------

PROMPTPAY_AID = "A000000677010111"          # PromptPay credit transfer
PROMPTPAY_OTA_AID = "A000000677010114"      # PromptPay with one-time authorisation
_TARGET_SUBTAG = {"mobile": "01", "national_id": "02", "ewallet": "03"}
_SUBTAG_KIND: dict[str, TargetKind] = {tag: kind for kind, tag in _TARGET_SUBTAG.items()}
MAX_AMOUNT_SATANG = 10**12  # 10,000,000,000.00 baht: 13 characters, the EMV maximum for tag 54


@dataclass(frozen=True)
class ParsedPayload:
    """A PromptPay payload read back: what a banking app would show before the customer pays."""

    payload: str
    fields: dict[str, str]           # root tags -> raw values, CRC included
    dynamic: bool                    # tag 01 = 12 (one-time, usually with an amount)
    target: Target | None            # None for a bank-account or unknown sub-tag
    proxy: str                       # the value inside tag 29 as encoded (0066… for mobiles)
    amount_satang: int | None
    currency: str
    country: str


def _target_value(target: Target) -> str:
    if target.kind == "mobile":
        return ("66" + target.digits[1:]).rjust(13, "0")  # 0812345678 -> 0066812345678
    return target.digits


def format_amount(amount_satang: int | Decimal) -> str:
    """Tag 54 text: integer satang (or an exact Decimal in baht) -> '1260.00'. Floats are refused."""
    if isinstance(amount_satang, bool) or isinstance(amount_satang, float):
        raise TypeError("amount must be integer satang or Decimal baht, never float or bool")
    if isinstance(amount_satang, Decimal):
        satang = amount_satang * 100
        if satang != satang.to_integral_value():
            raise ValueError(f"amount {amount_satang} has fractions of a satang")
        amount_satang = int(satang)
    if not isinstance(amount_satang, int):
        raise TypeError(f"amount must be integer satang or Decimal, got {type(amount_satang).__name__}")
    if amount_satang <= 0:
        raise ValueError("amount must be more than zero")
    if amount_satang >= MAX_AMOUNT_SATANG:
        raise ValueError("amount is too large for a PromptPay QR")
    baht, satang = divmod(amount_satang, 100)
    return f"{baht}.{satang:02d}"


def build_payload(target: str, amount_satang: int | Decimal | None = None) -> str:
    """PromptPay payload for a mobile number, national/tax ID or e-wallet ID, static or with an amount.

    Tags in promptpay.io's order: 00, 01, 29, 58, 53, [54], 63.
    """
    parsed = parse_target(target)
    account = emv.encode([("00", PROMPTPAY_AID), (_TARGET_SUBTAG[parsed.kind], _target_value(parsed))])
    fields = [("00", "01"), ("01", "11" if amount_satang is None else "12"), ("29", account),
              ("58", "TH"), ("53", "764")]
    if amount_satang is not None:
        fields.append(("54", format_amount(amount_satang)))
    return emv.with_crc(emv.encode(fields), "63")


def _target_from_proxy(subtag: str, value: str) -> Target | None:
    kind = _SUBTAG_KIND.get(subtag)
    if kind == "mobile":
        if len(value) != 13 or not value.isdigit() or not value.startswith("0066"):
            raise emv.EmvError(f"mobile proxy must be 0066 + 9 digits, got {value!r}")
        return Target("mobile", "0" + value[4:])
    if kind == "national_id":
        if len(value) != 13 or not value.isdigit():
            raise emv.EmvError(f"national ID proxy must be 13 digits, got {value!r}")
        return Target("national_id", value)
    if kind == "ewallet":
        if len(value) != 15 or not value.isdigit():
            raise emv.EmvError(f"e-wallet proxy must be 15 digits, got {value!r}")
        return Target("ewallet", value)
    return None


def parse_payload(payload: str) -> ParsedPayload:
    """Read a PromptPay payload back, checking structure and CRC. Raises EmvError with the reason."""
    if not isinstance(payload, str) or not payload.strip():
        raise emv.EmvError("empty payload")
    payload = emv.verify_crc(payload, "63")
    fields = emv.decode_map(payload)
    if fields.get("00") != "01":
        raise emv.EmvError("not an EMV merchant QR: tag 00 must be 01")
    if fields.get("01") not in ("11", "12"):
        raise emv.EmvError("tag 01 (point of initiation) must be 11 or 12")
    if "29" not in fields:
        raise emv.EmvError("no PromptPay credit-transfer template (tag 29)")
    account = emv.decode_map(fields["29"])
    if account.get("00") not in (PROMPTPAY_AID, PROMPTPAY_OTA_AID):
        raise emv.EmvError(f"tag 29 is not PromptPay (AID {account.get('00')!r})")
    proxies = [(tag, value) for tag, value in account.items() if tag != "00"]
    if len(proxies) != 1:
        raise emv.EmvError("tag 29 must hold exactly one PromptPay target")
    subtag, proxy = proxies[0]
    target = _target_from_proxy(subtag, proxy)
    amount_satang = None
    if "54" in fields:
        if not re.fullmatch(r"\d{1,10}(\.\d{1,2})?", fields["54"]):
            raise emv.EmvError(f"amount {fields['54']!r} is not a decimal number")
        amount_satang = int(Decimal(fields["54"]) * 100)
    return ParsedPayload(payload=payload, fields=fields, dynamic=fields["01"] == "12", target=target,
                         proxy=proxy, amount_satang=amount_satang, currency=fields.get("53", ""),
                         country=fields.get("58", ""))


def looks_like_promptpay(text: str) -> bool:
    """Cheap test used to classify a decoded QR before parsing it."""
    return text.startswith("000201") and "0016A00000067701011" in text
