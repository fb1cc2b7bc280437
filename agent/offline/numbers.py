"""Numbers in Thai chat: Thai number words (incl. colloquial "พันห้า") and Thai mobile numbers.

pythainlp's `thaiword_to_num` is strict ("พันห้า" is rejected, `text_to_num` reads it as 1005), while
customers write budgets the spoken way: "พันห้า" = 1,500, "สองพันห้า" = 2,500, "หมื่นสอง" = 12,000.
This module reads both the formal and the spoken forms.
"""
from __future__ import annotations

import re

from shop.phones import find_phones, parse_phone
from shop.text import thai_digits_to_arabic

DIGIT_WORDS = {
    "ศูนย์": 0, "หนึ่ง": 1, "เอ็ด": 1, "สอง": 2, "ยี่": 2, "สาม": 3, "สี่": 4,
    "ห้า": 5, "หก": 6, "เจ็ด": 7, "แปด": 8, "เก้า": 9,
}
UNIT_WORDS = {"สิบ": 10, "ร้อย": 100, "พัน": 1000, "หมื่น": 10_000, "แสน": 100_000, "ล้าน": 1_000_000}

NUMBER_WORD = "|".join(sorted([*DIGIT_WORDS, *UNIT_WORDS], key=len, reverse=True))  # regex alternation
NUMBER_WORDS_RE = re.compile(rf"(?:{NUMBER_WORD})+")
_PIECE_RE = re.compile(NUMBER_WORD)


def parse_thai_number(words: str) -> int | None:
    """Read a run of Thai number words; None when it is not one.

    Formal: "หนึ่งพันห้าร้อย" = 1500, "ยี่สิบเอ็ด" = 21, "สิบเอ็ด" = 11.
    Spoken: a bare digit right after a unit of a hundred or more counts in the next lower unit,
    so "พันห้า" = 1500, "สองพันห้า" = 2500, "หมื่นสอง" = 12000, "ร้อยห้า" = 150.
    """
    words = words.strip()
    if not words or NUMBER_WORDS_RE.fullmatch(words) is None:
        return None
    pieces = _PIECE_RE.findall(words)
    total = 0          # completed part above a million
    current = 0        # part below a million
    digit: int | None = None
    last_unit: int | None = None
    for piece in pieces:
        if piece in DIGIT_WORDS:
            if digit is not None:  # "สองสาม" is not a number
                return None
            digit = DIGIT_WORDS[piece]
            if piece == "ยี่":
                digit = 2
            continue
        unit = UNIT_WORDS[piece]
        if unit == 1_000_000:
            current += digit if digit is not None else 0
            total = (total + (current or 1)) * 1_000_000
            current, digit, last_unit = 0, None, None
            continue
        if last_unit is not None and unit >= last_unit:  # "ร้อยพัน" is not a number
            return None
        current += (digit if digit is not None else 1) * unit
        digit, last_unit = None, unit
    if digit is not None:
        if last_unit is not None and last_unit >= 100 and pieces[-1] in DIGIT_WORDS and len(pieces) >= 2 \
                and pieces[-2] in UNIT_WORDS:
            current += digit * (last_unit // 10)  # spoken form: พันห้า
        else:
            current += digit
    return total + current


def words_to_number(text: str) -> int | None:
    """A number written in digits ('1,500', '๒') or Thai words ('สองพัน'); None otherwise."""
    text = thai_digits_to_arabic(text.strip()).replace(",", "")
    if text.isdigit():
        return int(text)
    return parse_thai_number(text)


def find_phone(text: str) -> tuple[str, tuple[int, int]] | None:
    """The first Thai mobile number in `text`, normalised to 10 digits, with its span. Landlines are not
    taken from chat text: a 9-digit run is more often something else (checkout accepts them typed alone)."""
    for phone, span in find_phones(text):
        if phone.kind == "mobile":
            return phone.digits, span
    return None


def normalise_phone(raw: str) -> str | None:
    """'081-234-5678', '+66 81 234 5678', '๐๘๑๒๓๔๕๖๗๘' -> '0812345678'; None if not a Thai mobile."""
    phone = parse_phone(raw)
    return phone.digits if phone is not None and phone.kind == "mobile" else None
