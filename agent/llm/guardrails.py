"""Checks on the model's final reply before a customer reads it.

Prices: every baht figure in the reply, in digits or in Thai words ("หนึ่งพันสองร้อยหกสิบบาท"), must be
one a tool returned in this turn (the model never invents, rounds or adds up prices). Account numbers:
every long run of digits (a bank account, PromptPay id, phone) must come from a tool result or from the
customer's own message, so the model can never send money to a number it made up. Leaks: a reply
that repeats a long stretch of the system prompt is refused. Garbage: empty, runaway, template debris, or not Thai at all.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from typing import Any

from agent.offline.numbers import NUMBER_WORDS_RE, parse_thai_number
from shop.text import thai_digits_to_arabic

_BAHT_WORDS = re.compile(rf"({NUMBER_WORDS_RE.pattern})\s*บาท(?:\s*({NUMBER_WORDS_RE.pattern})\s*สตางค์)?")
_DIGITS_THEN_UNIT_WORD = re.compile(r"(\d+(?:\.\d+)?)\s*(พัน|หมื่น|แสน|ล้าน)\s*บาท")
_UNIT_WORD_VALUE = {"พัน": 1000, "หมื่น": 10_000, "แสน": 100_000, "ล้าน": 1_000_000}
# 9 or more digits, possibly grouped by dashes, dots or spaces: "123-4-56789-0", "081 234 5678".
_LONG_NUMBER = re.compile(r"(?<![A-Za-z\d.,\-])\d(?:[ \-.]?\d){8,}(?![\d,])")
_NUMBER = r"(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)"
_UNIT_AFTER = re.compile(_NUMBER + r"\s*(?:บาท|บ\.|thb|baht|฿)", re.IGNORECASE)
_UNIT_BEFORE = re.compile(r"(?:฿|thb)\s*" + _NUMBER, re.IGNORECASE)
_PRICE_WORD_BEFORE = re.compile(r"(?:ราคา|ยอดรวม|ยอดชำระ|ยอดโอน|ยอด|รวม|ค่าส่ง|total|price)\s*(?:ทั้งหมด|สุทธิ)?\s*[:=]?\s*"
                                + _NUMBER, re.IGNORECASE)
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?")
_NEAR_BAHT = 40   # characters: "1,260 และ 2,520 บาท" counts the first figure too

_MONEY_KEY = re.compile(r"(price|total|amount|fee|cost|subtotal|discount|baht|thb|satang)", re.IGNORECASE)
_NOT_MONEY_KEY = re.compile(r"(quantity|qty|count|items|players|minutes|age|stock|id$|number|rank|page)",
                            re.IGNORECASE)
_DEBRIS = re.compile(r"<\|im_(?:start|end)\|>|<\|vision_|<tool_call>|</tool_call>|<tool_response>|<tools>|\ufffd")
_THAI_CHAR = re.compile(r"[\u0e00-\u0e7f]")


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None


def money_in_text(text: str) -> list[Decimal]:
    """Baht figures a customer would read as prices: "1,260 บาท", "฿890", "ราคา 1260", "1,260" near บาท,
    "หนึ่งพันสองร้อยหกสิบบาท", "1.2 พันบาท"."""
    text = thai_digits_to_arabic(text)
    spans: dict[int, Decimal] = {}
    scaled_ends: set[int] = set()
    for match in _DIGITS_THEN_UNIT_WORD.finditer(text):
        value = _decimal(match.group(1))
        if value is not None:
            spans[match.start(1)] = value * _UNIT_WORD_VALUE[match.group(2)]
            scaled_ends.add(match.end())
    for match in _BAHT_WORDS.finditer(text):
        baht = parse_thai_number(match.group(1))
        satang = parse_thai_number(match.group(2)) if match.group(2) else 0
        if baht is not None and satang is not None and match.end() not in scaled_ends:
            spans[match.start(1)] = Decimal(baht) + Decimal(satang) / 100
    for pattern in (_UNIT_AFTER, _UNIT_BEFORE, _PRICE_WORD_BEFORE):
        for match in pattern.finditer(text):
            value = _decimal(match.group(1))
            if value is not None:
                spans[match.start(1)] = value
    for match in _GROUPED.finditer(text):
        window = text[max(0, match.start() - _NEAR_BAHT): match.end() + _NEAR_BAHT]
        if "บาท" in window or "฿" in window:
            value = _decimal(match.group(0))
            if value is not None:
                spans[match.start()] = value
    return [spans[start] for start in sorted(spans)]


def money_in_results(results: Iterable[Any]) -> set[Decimal]:
    """Every money figure in tool results: *_satang fields as baht, price/total/fee fields, and
    baht figures inside any string (a tool may return "1,260 บาท" ready to show)."""
    found: set[Decimal] = set()

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for child_key, child in value.items():
                walk(child, str(child_key))
        elif isinstance(value, (list, tuple)):
            for child in value:
                walk(child, key)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, (int, float, Decimal)):
            if not _MONEY_KEY.search(key) or _NOT_MONEY_KEY.search(key.replace("satang", "")):
                return
            amount = Decimal(str(value))
            found.add(amount / 100 if key.lower().endswith("satang") else amount)
        elif isinstance(value, str):
            found.update(money_in_text(value))
            if _MONEY_KEY.search(key) and not _NOT_MONEY_KEY.search(key):
                number = _decimal(value.strip())
                if number is not None:
                    found.add(number / 100 if key.lower().endswith("satang") else number)

    for result in results:
        walk(result)
    return found


def unsupported_prices(reply: str, tool_results: Iterable[Any]) -> list[Decimal]:
    """Figures in the reply that no tool returned this turn (empty list: the reply may be sent)."""
    allowed = money_in_results(tool_results)
    unsupported: list[Decimal] = []
    for figure in money_in_text(reply):
        if figure not in allowed and figure not in unsupported:
            unsupported.append(figure)
    return unsupported


def long_numbers(text: str) -> list[str]:
    """Runs of 9 or more digits (separators removed): bank accounts, PromptPay ids, phone numbers."""
    text = thai_digits_to_arabic(text or "")
    return [re.sub(r"\D", "", match.group(0)) for match in _LONG_NUMBER.finditer(text)]


def _digits_in(value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        for child in value.values():
            _digits_in(child, found)
    elif isinstance(value, (list, tuple)):
        for child in value:
            _digits_in(child, found)
    elif isinstance(value, (int, str)) and not isinstance(value, bool):
        text = thai_digits_to_arabic(str(value))
        found.add(re.sub(r"\D", "", text))
        found.update(long_numbers(text))


def unsupported_numbers(reply: str, tool_results: Iterable[Any], customer_text: str | None = None) -> list[str]:
    """Long digit runs in the reply that neither a tool result nor the customer's message contains."""
    known: set[str] = set()
    for result in tool_results:
        _digits_in(result, known)
    _digits_in(customer_text or "", known)
    known.discard("")
    return [number for number in long_numbers(reply)
            if not any(number in digits for digits in known)]


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def leaks_prompt(reply: str, secret_text: str, *, min_chars: int = 60) -> bool:
    """True when the reply repeats `min_chars` or more consecutive characters of the secret text."""
    reply_n, secret_n = _normalised(reply), _normalised(secret_text)
    if len(reply_n) < min_chars or len(secret_n) < min_chars:
        return False
    matcher = SequenceMatcher(None, reply_n, secret_n, autojunk=False)
    match = matcher.find_longest_match(0, len(reply_n), 0, len(secret_n))
    return match.size >= min_chars


def garbage_reason(reply: str, *, max_chars: int = 2000) -> str | None:
    """Why a final reply is unusable, or None. A Thai shop reply always has some Thai in it."""
    text = reply.strip()
    if not text:
        return "empty reply"
    if len(text) > max_chars:
        return f"reply too long ({len(text)} characters)"
    if _DEBRIS.search(text):
        return "template or tool markup in the reply"
    if not _THAI_CHAR.search(text):
        return "no Thai in the reply"
    if re.search(r"(.{4,}?)\1{8,}", text, re.DOTALL):
        return "the reply repeats itself"
    return None


__all__ = ["money_in_text", "money_in_results", "unsupported_prices", "unsupported_numbers", "long_numbers",
           "leaks_prompt", "garbage_reason"]
