"""Thai phone numbers, one rule set for checkout and for reading chat messages (`phonenumbers`).

Mobiles are 10 digits starting 06, 08 or 09; landlines 9 digits starting 02–07; +66 / 66 prefixes and
Thai digits are accepted. `phonenumbers` knows which ranges are really allocated.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import phonenumbers

from shop.text import thai_digits_to_arabic

PhoneKind = Literal["mobile", "landline"]
_MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
                 phonenumbers.PhoneNumberType.VOIP}


@dataclass(frozen=True)
class Phone:
    digits: str  # normalised: 10 digits for mobiles (0812345678), 9 for landlines (021234567)
    kind: PhoneKind

    @property
    def display(self) -> str:
        d = self.digits
        return f"{d[:3]}-{d[3:6]}-{d[6:]}" if self.kind == "mobile" else f"{d[:2]}-{d[2:5]}-{d[5:]}"


def _phone(number: phonenumbers.PhoneNumber) -> Phone | None:
    if number.country_code != 66 or not phonenumbers.is_valid_number(number):
        return None
    digits = "0" + phonenumbers.national_significant_number(number)
    mobile = phonenumbers.number_type(number) in _MOBILE_TYPES and len(digits) == 10
    return Phone(digits, "mobile" if mobile else "landline")


def parse_phone(text: str) -> Phone | None:
    """The whole of `text` as one Thai phone number, or None."""
    raw = thai_digits_to_arabic(text or "").strip()
    if not raw or not any(ch.isdigit() for ch in raw):
        return None
    if raw.startswith("66"):
        raw = "+" + raw
    try:
        number = phonenumbers.parse(raw, "TH")
    except phonenumbers.NumberParseException:
        return None
    if number.extension or not phonenumbers.is_possible_number(number):
        return None
    found = list(phonenumbers.PhoneNumberMatcher(raw, "TH", leniency=phonenumbers.Leniency.VALID))
    if len(found) != 1 or found[0].raw_string.strip() != raw.strip():  # nothing else in the text
        return None
    return _phone(number)


def find_phones(text: str) -> list[tuple[Phone, tuple[int, int]]]:
    """Every Thai phone number inside a message, in order, with its span in `text`."""
    text = thai_digits_to_arabic(text or "")
    found = []
    for match in phonenumbers.PhoneNumberMatcher(text, "TH", leniency=phonenumbers.Leniency.VALID):
        phone = _phone(match.number)
        if phone is not None:
            found.append((phone, (match.start, match.end)))
    return found
