"""Money is integer satang. These helpers turn it into what customers read and back."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def baht_to_satang(baht: int | str | Decimal) -> int:
    """Exact conversion; rejects floats (they cannot hold satang exactly) and sub-satang amounts."""
    if isinstance(baht, float):
        raise TypeError("money must be int, str or Decimal, never float")
    try:
        value = Decimal(str(baht).replace(",", "").strip())
    except InvalidOperation:
        raise ValueError(f"not an amount: {baht!r}") from None
    satang = value * 100
    if satang != satang.to_integral_value():
        raise ValueError(f"amount has fractions of a satang: {baht!r}")
    return int(satang)


def satang_to_decimal(satang: int) -> Decimal:
    return (Decimal(satang) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_baht(satang: int) -> str:
    """1,260 บาท; 1,260.50 บาท when there are satang."""
    sign = "-" if satang < 0 else ""
    baht, rest = divmod(abs(int(satang)), 100)
    text = f"{baht:,}" if rest == 0 else f"{baht:,}.{rest:02d}"
    return f"{sign}{text} บาท"


def baht_words(satang: int) -> str:
    """The amount in Thai words as on a cheque or receipt: หนึ่งพันสองร้อยหกสิบบาทถ้วน."""
    from pythainlp.util import bahttext, num_to_thaiword

    if satang < 0:
        raise ValueError("amount must not be negative")
    baht, rest = divmod(int(satang), 100)
    if not rest:
        return bahttext(baht) if baht else "ศูนย์บาทถ้วน"
    words = bahttext(baht).removesuffix("ถ้วน") if baht else ""
    return words + num_to_thaiword(rest) + "สตางค์"
