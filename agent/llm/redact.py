"""Personal data out of conversation text and tool data, for fine-tuning files that leave the shop.

Replaced by placeholders: the customer's name, phone numbers, addresses and LINE ids (the values the
shop knows, wherever they appear, and anything that looks like one), e-mail addresses, and slip
details (account numbers, transfer references, sender and receiver names). Product names, prices and
order numbers stay: they are what the model must learn to use.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from shop.phones import find_phones
from shop.text import thai_digits_to_arabic

NAME = "<ชื่อ>"
PHONE = "<เบอร์โทร>"
ADDRESS = "<ที่อยู่>"
EMAIL = "<อีเมล>"
ACCOUNT = "<เลขบัญชี>"
LINE_ID = "<ไลน์ไอดี>"
SLIP = "<ข้อมูลสลิป>"

# Keys whose value is personal wherever they appear in tool arguments or results.
_PERSONAL_KEYS = {
    "ship_name": NAME, "recipient": NAME, "display_name": NAME, "sender_name": NAME, "receiver_name": NAME,
    "customer_name": NAME, "ship_phone": PHONE, "phone": PHONE, "ship_address": ADDRESS, "address": ADDRESS,
    "email": EMAIL, "line_user_id": LINE_ID, "account": ACCOUNT, "account_number": ACCOUNT,
    "sender_account": ACCOUNT, "receiver_account": ACCOUNT, "proxy": ACCOUNT, "promptpay_id": ACCOUNT,
    "trans_ref": SLIP, "transaction_ref": SLIP, "reference": SLIP, "ref": SLIP, "slip": SLIP, "sender": SLIP,
    "receiver": SLIP, "qr_payload": SLIP,
}
# A person's name only in these tools' arguments ("name" elsewhere is a product).
_NAME_ARGUMENT_TOOLS = {"set_shipping_details"}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_LINE_USER_ID = re.compile(r"\bU[0-9a-f]{32}\b")
_LONG_DIGITS = re.compile(r"(?<![A-Za-z\d])\d(?:[ \-.]?[\dxX]){8,}(?![\d])")
_POSTCODE_ADDRESS = re.compile(
    r"(?:\d+/\d+|เลขที่|หมู่|ม\.|ซอย|ซ\.|ถนน|ถ\.|แขวง|ตำบล|ต\.|เขต|อำเภอ|อ\.|จังหวัด|จ\.)"
    r"[^\n]{0,160}?\b\d{5}\b")


def _known(values: Iterable[str | None]) -> list[str]:
    return sorted({value.strip() for value in values if value and len(value.strip()) >= 3}, key=len, reverse=True)


class Redactor:
    """Redacts one customer's conversation: `known` are the exact values the shop holds for them
    (saved and ordered names, phones, addresses); patterns catch the rest."""

    def __init__(self, *, names: Iterable[str | None] = (), phones: Iterable[str | None] = (),
                 addresses: Iterable[str | None] = ()) -> None:
        self.replacements: list[tuple[str, str]] = (
            [(value, ADDRESS) for value in _known(addresses)] + [(value, NAME) for value in _known(names)]
            + [(value, PHONE) for value in _known(phones)])

    def learn(self, key: str, value: Any) -> None:
        """Remember a personal value met in tool data, so it is also replaced in free text."""
        placeholder = _PERSONAL_KEYS.get(key)
        if isinstance(value, str) and placeholder and len(value.strip()) >= 3:
            self.replacements.append((value.strip(), placeholder))
            self.replacements.sort(key=lambda pair: len(pair[0]), reverse=True)

    def text(self, text: str) -> str:
        if not text:
            return text
        for value, placeholder in self.replacements:
            text = text.replace(value, placeholder)
        text = _EMAIL.sub(EMAIL, text)
        text = _LINE_USER_ID.sub(LINE_ID, text)
        text = _POSTCODE_ADDRESS.sub(ADDRESS, text)
        text = thai_digits_to_arabic(text)
        for _, (start, end) in reversed(find_phones(text)):   # shop.phones: the shop's one phone rule set
            text = text[:start] + PHONE + text[end:]
        return _LONG_DIGITS.sub(ACCOUNT, text)   # any other run of 9+ digits: accounts, ids, unlisted phones

    def data(self, value: Any, *, tool: str = "", key: str = "") -> Any:
        """Tool arguments or results with personal fields replaced and every string redacted."""
        if isinstance(value, dict):
            return {child_key: self._field(tool, str(child_key), child) for child_key, child in value.items()}
        if isinstance(value, list):
            return [self.data(item, tool=tool, key=key) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def _field(self, tool: str, key: str, value: Any) -> Any:
        placeholder = _PERSONAL_KEYS.get(key.lower())
        if placeholder is None and key == "name" and tool in _NAME_ARGUMENT_TOOLS:
            placeholder = NAME
        if placeholder is not None and isinstance(value, (str, int)) and not isinstance(value, bool):
            return placeholder if str(value).strip() else value
        if placeholder is not None and isinstance(value, dict):
            return SLIP
        return self.data(value, tool=tool, key=key)

    def prime(self, value: Any, *, tool: str = "") -> None:
        """Learn the personal values inside tool data before redacting the conversation's text."""
        if isinstance(value, dict):
            for key, child in value.items():
                if key == "name" and tool in _NAME_ARGUMENT_TOOLS and isinstance(child, str):
                    self.replacements.append((child.strip(), NAME))
                self.learn(str(key).lower(), child)
                self.prime(child, tool=tool)
        elif isinstance(value, list):
            for item in value:
                self.prime(item, tool=tool)
        self.replacements = [pair for pair in self.replacements if len(pair[0]) >= 3]
        self.replacements.sort(key=lambda pair: len(pair[0]), reverse=True)


__all__ = ["Redactor", "NAME", "PHONE", "ADDRESS", "EMAIL", "ACCOUNT", "LINE_ID", "SLIP"]
