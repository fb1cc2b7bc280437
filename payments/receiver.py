"""Is the slip's receiver the shop? Every field the slip carries must agree with the shop's account.

Banks mask account numbers and shorten names, so this compares what is visible:
- digits: the masked PromptPay proxy against PROMPTPAY_ID, the masked account against
  SHOP_ACCOUNT_LAST_DIGITS; at least MIN_VISIBLE_DIGITS of them must be compared and all must agree;
- bank: the receiving bank against SHOP_ACCOUNT_BANK, when the shop configured it;
- name: each name on the slip against the shop's names written in the same script (SHOP_ACCOUNT_NAME,
  SHOP_ACCOUNT_NAME_EN, SHOP_NAME): titles and company forms dropped, the word the bank cut short
  ("SOMCHAI J", "สมชาย ใ.") accepted as a truncation. A Thai name is never compared with an English one.

"shop" needs matching digits *and* a matching name with nothing disagreeing; digits that disagree
(or, without digits, the bank) make "not_shop"; anything else is "unsure" and goes to staff.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from payments.promptpay import parse_target
from shop.settings import RECEIVER_MIN_DIGITS as MIN_VISIBLE_DIGITS

ReceiverVerdict = Literal["shop", "not_shop", "unsure"]

# Titles and company forms as banks print them; removed before names are compared.
_PREFIXES = ("นางสาว", "นาง", "นาย", "น.ส.", "ด.ช.", "ด.ญ.", "บจก.", "บมจ.", "หจก.", "บริษัท",
             "ห้างหุ้นส่วนจำกัด", "ห้างหุ้นส่วน", "mr.", "mrs.", "ms.", "miss", "mr", "mrs", "ms")
_SUFFIXES = ("(มหาชน)", "มหาชน", "จำกัด", "จก.", "co.,ltd.", "co., ltd.", "co.,ltd", "co., ltd", "co.ltd",
             "company limited", "limited", "ltd.", "ltd", "co.", "co", "plc.", "plc", "inc.", "inc")
_WORDS = {"นาย", "นาง", "นางสาว", "บจก", "บมจ", "หจก", "บริษัท", "จำกัด", "มหาชน", "mr", "mrs", "ms", "miss",
          "co", "ltd", "company", "limited", "plc", "inc"}
_PREFIXES, _SUFFIXES = (tuple(unicodedata.normalize("NFKC", w) for w in words) for words in (_PREFIXES, _SUFFIXES))
_WORDS = {unicodedata.normalize("NFKC", word) for word in _WORDS}  # NFKC splits sara am: จำกัด -> จํากัด
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_LATIN = re.compile(r"[a-z]")
_LEADING_VOWELS = "เแโใไ"   # written before the consonant: an initial "ใ." stands for "ใจดี" as well as "จ."


@dataclass(frozen=True)
class ReceiverCheck:
    verdict: ReceiverVerdict
    detail: str


def digits_match(masked: str, known: str) -> bool | None:
    """Compare a masked number (xxx-x-x8695-x) with digits we know. None when too little is visible.

    ``known`` may be the full number (compared position by position from the right, masked places
    skipped) or just the part the bank leaves visible (it must then appear among the visible digits).
    """
    pattern = re.sub(r"[^0-9xX*#•]", "", masked or "")
    known = re.sub(r"\D", "", known or "")
    if not pattern or not known:
        return None
    if len(known) >= len(pattern):
        compared = [(shown, digit) for shown, digit in zip(pattern, known[-len(pattern):], strict=True) if shown.isdigit()]
        if len(compared) < MIN_VISIBLE_DIGITS:
            return None
        return all(shown == digit for shown, digit in compared)
    visible = re.sub(r"\D", "", pattern)
    if min(len(visible), len(known)) < MIN_VISIBLE_DIGITS:
        return None
    return known in visible or visible in known


def script_of(name: str) -> str | None:
    """"th" for a name with Thai letters, "en" for one in Latin letters, None for neither."""
    if _THAI.search(name or ""):
        return "th"
    return "en" if _LATIN.search((name or "").casefold()) else None


def name_tokens(name: str) -> list[str]:
    """The words of a name that identify it: case folded, titles and company forms removed."""
    text = " ".join(unicodedata.normalize("NFKC", name or "").casefold().split())
    changed = True
    while changed and text:
        changed = False
        for prefix in _PREFIXES:
            if text.startswith(prefix) and len(text) > len(prefix) + 1:
                text, changed = text[len(prefix):].lstrip(" ."), True
        for suffix in _SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix) + 1 and (
                    not suffix[0].isascii() or not text[-len(suffix) - 1].isalnum()):
                text, changed = text[:-len(suffix)].rstrip(" .,"), True
    return [word for word in re.split(r"[\s.,()&/\-]+", text) if word and word not in _WORDS]


def _initial(word: str) -> str:
    return word.lstrip(_LEADING_VOWELS) or word


def _same_word(shown: str, known: str, *, cut_short: bool, first: bool) -> bool:
    if shown == known:
        return True
    if not cut_short:
        return False
    if first:  # the only or main word shortened: long enough to mean something
        return len(shown) >= max(4, len(known) // 2) and known.startswith(shown)
    return _initial(known).startswith(_initial(shown)) or known.startswith(shown)


def names_match(slip_name: str, shop_name: str) -> bool | None:
    """Does the name on the slip stand for the shop's name? None when they cannot be compared
    (one is empty, or they are written in different scripts)."""
    script = script_of(slip_name)
    if script is None or script != script_of(shop_name):
        return None
    slip, shop = name_tokens(slip_name), name_tokens(shop_name)
    if not slip or not shop:
        return None
    if min(2, len(shop)) <= len(slip) <= len(shop) and all(
            _same_word(shown, known, cut_short=index == len(slip) - 1, first=index == 0)
            for index, (shown, known) in enumerate(zip(slip, shop, strict=False))):
        return True
    # spacing differs ("บอร์ดเกม ตัวอย่าง" / "บอร์ดเกมตัวอย่าง"), or a long name cut in the middle
    shown, known = "".join(slip), "".join(shop)
    return shown == known or (len(shown) >= max(6, len(known) * 2 // 3) and known.startswith(shown))


def _names_verdict(slip_names: list[str], shop_names: list[str]) -> bool | None:
    """True when a name on the slip matches a shop name of its script and no name disagrees."""
    verdicts = []
    for slip_name in filter(None, slip_names):
        results = [names_match(slip_name, shop_name) for shop_name in shop_names]
        if True in results:
            verdicts.append(True)
        elif False in results:
            verdicts.append(False)
    if False in verdicts:
        return False
    return True if verdicts else None


def check_receiver(settings, *, receiving_bank: str, account: str, proxy: str, names: list[str]) -> ReceiverCheck:
    try:
        promptpay_digits = parse_target(settings.promptpay_id).digits
    except ValueError:
        promptpay_digits = ""
    proxy_ok = digits_match(proxy, promptpay_digits)
    account_ok = digits_match(account, settings.shop_account_last_digits) if settings.shop_account_last_digits else None
    bank_ok = (receiving_bank == settings.shop_account_bank) if receiving_bank and settings.shop_account_bank else None
    shop_names = [name for name in (settings.shop_account_name, settings.shop_account_name_en,
                                    settings.shop_name) if name]
    name_ok = _names_verdict(names, shop_names)
    summary = f"proxy={proxy_ok} account={account_ok} bank={bank_ok} name={name_ok}"

    digits = [result for result in (proxy_ok, account_ok) if result is not None]
    if digits and not any(digits):
        return ReceiverCheck("not_shop", summary)
    if not digits:
        return ReceiverCheck("not_shop" if bank_ok is False else "unsure", summary)
    if all(digits) and bank_ok is not False and name_ok is True:
        return ReceiverCheck("shop", summary)
    return ReceiverCheck("unsure", summary)
