"""Is the slip's receiver the shop? Banks mask accounts and truncate names, so this compares what is visible.

Strong evidence: the visible digits of the masked receiving account (vs SHOP_ACCOUNT_LAST_DIGITS) or of
the masked PromptPay proxy (vs PROMPTPAY_ID). Weak evidence: the receiving bank and a partial name match.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from payments.promptpay import parse_target

ReceiverVerdict = Literal["shop", "not_shop", "unsure"]
_TITLES = {"นาย", "นาง", "นางสาว", "น.ส.", "mr", "mrs", "ms", "miss", "บจก", "บริษัท", "หจก", "co", "ltd",
           "จำกัด", "company", "limited"}


@dataclass(frozen=True)
class ReceiverCheck:
    verdict: ReceiverVerdict
    detail: str


def digits_match(masked: str, known: str) -> bool | None:
    """Compare a masked number (xxx-x-x8695-x) with digits we know. None when nothing is visible.

    ``known`` may be the full number (compared position by position from the right, masked places
    skipped) or just the part the bank leaves visible.
    """
    pattern = re.sub(r"[^0-9xX*#•]", "", masked or "")
    visible = re.sub(r"\D", "", pattern)
    known = re.sub(r"\D", "", known or "")
    if len(visible) < 3 or not known:
        return None
    if len(known) >= len(pattern):
        tail = known[-len(pattern):]
        return all(not p.isdigit() or p == k for p, k in zip(pattern, tail, strict=True))
    return known in visible or visible in known


def _name_tokens(name: str) -> list[str]:
    tokens = re.split(r"[\s.,()]+", name.casefold())
    return [token for token in tokens if token and token not in _TITLES]


def names_match(slip_name: str, shop_name: str) -> bool | None:
    """Partial match: names on slips may be cut short ("SOMCHAI J") or use the other language."""
    slip, shop = _name_tokens(slip_name), _name_tokens(shop_name)
    if not slip or not shop:
        return None
    hits = sum(any(word.startswith(token) or token.startswith(word) for word in shop) for token in slip)
    return hits >= min(2, len(slip))


def check_receiver(settings, *, receiving_bank: str, account: str, proxy: str, names: list[str]) -> ReceiverCheck:
    try:
        promptpay_digits = parse_target(settings.promptpay_id).digits
    except ValueError:
        promptpay_digits = ""
    proxy_ok = digits_match(proxy, promptpay_digits)
    account_ok = digits_match(account, settings.shop_account_last_digits) if settings.shop_account_last_digits else None
    bank_ok = (receiving_bank == settings.shop_account_bank) if receiving_bank and settings.shop_account_bank else None
    shop_names = [name for name in (settings.shop_account_name, settings.shop_name) if name]
    name_results = [names_match(slip_name, shop_name) for slip_name in names if slip_name for shop_name in shop_names]
    name_ok = True if True in name_results else (False if False in name_results else None)

    strong = [result for result in (proxy_ok, account_ok) if result is not None]
    summary = f"proxy={proxy_ok} account={account_ok} bank={bank_ok} name={name_ok}"
    if strong and all(strong) and bank_ok is not False:
        return ReceiverCheck("shop", summary)
    if strong and not any(strong):
        return ReceiverCheck("not_shop", summary)
    if not strong and bank_ok is False:
        return ReceiverCheck("not_shop", summary)
    if not strong and bank_ok is True and name_ok is True:
        return ReceiverCheck("shop", summary)
    return ReceiverCheck("unsure", summary)
