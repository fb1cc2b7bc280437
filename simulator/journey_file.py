"""Journey files: whole customer conversations with what a shop owner expects of each step.

The format is documented in the README ("Testing your shop with journeys"). Loading checks every key,
so a typo in an expectation is an error naming the file, the journey and the step, never a check
that silently does nothing.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = "salesbot-journeys/1"
ACTIONS = ("say", "tap", "pay", "auto", "follow")
PAY_MODES = ("normal", "wrong_amount", "unknown_ref", "provider_down", "reuse")
AUTO_MODES = ("checkout", "answer")
FULFILMENTS = ("delivery", "pickup")
ORDER_STATUSES = ("awaiting_payment", "payment_pending", "needs_review", "paid", "cancelled", "expired")

PROFILE_KEYS = {"name": str, "phone": str, "address": str, "fulfilment": str, "yes": bool, "choose": str,
                "prefer_buttons": bool}
DEFAULT_PROFILE = {"name": "สมชาย ใจดี", "phone": "0812345678",
                   "address": "99/9 ถ.สุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพฯ 10110",
                   "fulfilment": "delivery", "yes": True, "prefer_buttons": True}
STEP_OPTIONS = {"say": set(), "tap": {"card"}, "pay": {"amount"}, "auto": {"until", "fulfilment", "profile"},
                "follow": set()}
EXPECT_KEYS = {"reply", "price_of", "mentions", "delivery_fee", "cart_total", "total_with_delivery", "order_number",
               "cards", "quick_replies", "qr", "cart", "order", "any", "answered"}
REPLY_KEYS = {"contains", "any_of", "none_of", "regex", "not_regex"}
CARDS_KEYS = {"includes", "excludes", "min", "max", "fit"}
FIT_KEYS = {"players", "max_minutes", "age", "budget_baht", "category"}
CART_KEYS = {"items", "includes", "excludes", "empty", "total", "at_most"}
ORDER_KEYS = {"status", "items", "includes", "fulfilment", "total", "ship_name", "ship_phone",
              "ship_address_contains"}
ITEM_KEYS = {"sku", "card", "quantity"}


class JourneyFileError(Exception):
    """A journey file cannot be used; the message names the file, journey and step."""


@dataclass
class Step:
    index: int                  # 1-based, as people count
    action: str                 # one of ACTIONS
    value: object               # the text to say, the label to tap, the pay mode, the auto mode
    options: dict = field(default_factory=dict)
    expect: dict = field(default_factory=dict)
    note: str = ""

    def describe(self) -> str:
        shown = " / ".join(line.strip() for line in str(self.value).splitlines() if line.strip())
        return f"step {self.index} ({self.action}: {shown[:60]}{'…' if len(shown) > 60 else ''})"


@dataclass
class Journey:
    name: str
    steps: list[Step]
    tags: list[str] = field(default_factory=list)
    profile: dict = field(default_factory=dict)
    stock: dict = field(default_factory=dict)
    note: str = ""
    source: str = ""

    def skus(self) -> list[tuple[Step | None, str]]:
        """Every SKU the journey names, with the step naming it (None for the journey's stock)."""
        found: list[tuple[Step | None, str]] = [(None, sku) for sku in self.stock]
        for step in self.steps:
            if step.action == "tap" and step.options.get("card"):
                found.append((step, step.options["card"]))
            found.extend((step, sku) for sku in _skus_in(step.expect))
        return found


def _skus_in(expect: dict) -> list[str]:
    found: list[str] = []
    for key in ("price_of", "mentions"):
        found.extend(ref for ref in expect.get(key, []) if isinstance(ref, str))
    for option in (expect.get("any") or []):
        found.extend(_skus_in(option))
    cards = expect.get("cards")
    if isinstance(cards, dict):
        for key in ("includes", "excludes"):
            for ref in cards.get(key, []):
                found.extend([ref] if isinstance(ref, str) else ref)
    for section in (expect.get("cart"), expect.get("order")):
        if not isinstance(section, dict):
            continue
        for key in ("items", "includes"):
            for item in section.get(key, []):
                sku = item.get("sku")
                found.extend([sku] if isinstance(sku, str) else sku or [])
        found.extend(section.get("excludes", []))
        found.extend(section.get("at_most", {}))
    return found


def load_journeys(path: str | Path) -> list[Journey]:
    """Every journey in a file, or in the *.json files of a folder (sorted by name)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise JourneyFileError(f"{path}: no *.json journey files in this folder")
    elif path.exists():
        files = [path]
    else:
        raise JourneyFileError(f"{path}: no such file or folder")
    journeys: list[Journey] = []
    seen: dict[str, str] = {}
    for file in files:
        for journey in load_file(file):
            if journey.name in seen:
                raise JourneyFileError(f"{file}: journey {journey.name!r}: the name is used twice "
                                       f"(also in {seen[journey.name]})")
            seen[journey.name] = str(file)
            journeys.append(journey)
    return journeys


def load_file(file: Path) -> list[Journey]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise JourneyFileError(f"{file}: not valid JSON: {error.msg} at line {error.lineno} "
                               f"column {error.colno}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise JourneyFileError(f"{file}: cannot read it: {error}") from None
    defaults: dict = {}
    if isinstance(data, dict) and "journeys" in data:
        _only(data, {"format", "description", "defaults", "journeys"}, f"{file}")
        if data.get("format", FORMAT) != FORMAT:
            raise JourneyFileError(f"{file}: format {data['format']!r} is not {FORMAT!r}")
        defaults = data.get("defaults") or {}
        if not isinstance(defaults, dict):
            raise JourneyFileError(f"{file}: defaults must be an object")
        _only(defaults, {"profile", "tags"}, f"{file}: defaults")
        data = data["journeys"]
    elif isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise JourneyFileError(f"{file}: expected a list of journeys or {{\"journeys\": [...]}}")
    base_profile = _profile(defaults.get("profile") or {}, f"{file}: defaults.profile")
    return [_journey(raw, i, file, base_profile, defaults.get("tags") or []) for i, raw in enumerate(data, 1)]


def _journey(raw, position: int, file: Path, base_profile: dict, base_tags: list) -> Journey:
    where = f"{file}: journey {position}"
    if not isinstance(raw, dict):
        raise JourneyFileError(f"{where}: must be an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise JourneyFileError(f"{where}: needs a \"name\"")
    where = f"{file}: journey {name!r}"
    _only(raw, {"name", "tags", "note", "profile", "stock", "steps"}, where)
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise JourneyFileError(f"{where}: tags must be a list of words")
    stock = raw.get("stock", {})
    if not isinstance(stock, dict) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                              for v in stock.values()):
        raise JourneyFileError(f"{where}: stock must map SKUs to whole numbers of at least 0")
    steps = raw.get("steps")
    if not isinstance(steps, list) or not steps:
        raise JourneyFileError(f"{where}: needs a non-empty list of \"steps\"")
    profile = {**DEFAULT_PROFILE, **base_profile, **_profile(raw.get("profile") or {}, f"{where}: profile")}
    return Journey(name=name, steps=[_step(s, i, where) for i, s in enumerate(steps, 1)],
                   tags=list(dict.fromkeys([*base_tags, *tags])), profile=profile, stock=stock,
                   note=raw.get("note", ""), source=str(file))


def _profile(raw, where: str) -> dict:
    if not isinstance(raw, dict):
        raise JourneyFileError(f"{where}: must be an object")
    _only(raw, set(PROFILE_KEYS), where)
    for key, value in raw.items():
        if not isinstance(value, PROFILE_KEYS[key]):
            raise JourneyFileError(f"{where}: {key} must be a {PROFILE_KEYS[key].__name__}")
    if raw.get("fulfilment", "delivery") not in FULFILMENTS:
        raise JourneyFileError(f"{where}: fulfilment must be one of {', '.join(FULFILMENTS)}")
    return dict(raw)


def _step(raw, index: int, journey_where: str) -> Step:
    where = f"{journey_where} step {index}"
    if not isinstance(raw, dict):
        raise JourneyFileError(f"{where}: must be an object")
    actions = [key for key in ACTIONS if key in raw]
    if len(actions) != 1:
        raise JourneyFileError(f"{where}: needs exactly one of {', '.join(ACTIONS)} (found {len(actions)})")
    action = actions[0]
    _only(raw, {action, "expect", "note", *STEP_OPTIONS[action]}, where)
    value = raw[action]
    options = {key: raw[key] for key in STEP_OPTIONS[action] if key in raw}
    if action == "say" and not (isinstance(value, str) and value.strip()):
        raise JourneyFileError(f"{where}: say must be a non-empty text")
    if action == "tap" and not (isinstance(value, str) and value.strip()):
        raise JourneyFileError(f"{where}: tap must be the label (or part of it) of a button or quick reply")
    if action == "pay":
        value = "normal" if value is True else value
        if value not in PAY_MODES:
            raise JourneyFileError(f"{where}: pay must be one of {', '.join(PAY_MODES)}")
    if action == "auto":
        if value not in AUTO_MODES:
            raise JourneyFileError(f"{where}: auto must be one of {', '.join(AUTO_MODES)}")
        if options.get("until", "qr") not in ("qr", "summary"):
            raise JourneyFileError(f"{where}: until must be \"qr\" or \"summary\"")
        if options.get("fulfilment", "delivery") not in FULFILMENTS:
            raise JourneyFileError(f"{where}: fulfilment must be one of {', '.join(FULFILMENTS)}")
        if "profile" in options:
            options["profile"] = _profile(options["profile"], f"{where}: profile")
    if action == "follow" and value is not True:
        raise JourneyFileError(f"{where}: follow must be true")
    expect = raw.get("expect", {})
    _expect(expect, f"{where}: expect")
    return Step(index=index, action=action, value=value, options=options, expect=expect, note=raw.get("note", ""))


def _only(raw: dict, allowed: set, where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise JourneyFileError(f"{where}: unknown key {', '.join(map(repr, unknown))} "
                               f"(allowed: {', '.join(sorted(allowed))})")


def _texts(value, where: str) -> None:
    if isinstance(value, str):
        return
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise JourneyFileError(f"{where}: must be a text or a non-empty list of texts")


def _refs(value, where: str, allow_cards: bool = False) -> None:
    """Product references: SKUs, a list of SKUs meaning any one of them, or {"card": n}."""
    if not isinstance(value, list) or not value:
        raise JourneyFileError(f"{where}: must be a non-empty list of SKUs")
    for ref in value:
        if isinstance(ref, str) and ref:
            continue
        if isinstance(ref, list) and ref and all(isinstance(r, str) and r for r in ref):
            continue
        if allow_cards and isinstance(ref, dict) and set(ref) == {"card"} and _positive(ref["card"]):
            continue
        raise JourneyFileError(f"{where}: {ref!r} is not a SKU" + (" or {\"card\": n}" if allow_cards else ""))


def _positive(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _expect(expect, where: str) -> None:
    if not isinstance(expect, dict):
        raise JourneyFileError(f"{where}: must be an object")
    _only(expect, EXPECT_KEYS, where)
    reply = expect.get("reply")
    if reply is not None:
        if not isinstance(reply, dict):
            raise JourneyFileError(f"{where}.reply: must be an object")
        _only(reply, REPLY_KEYS, f"{where}.reply")
        for key in ("contains", "any_of", "none_of"):
            if key in reply:
                _texts(reply[key], f"{where}.reply.{key}")
        for key in ("regex", "not_regex"):
            if key in reply:
                try:
                    re.compile(reply[key])
                except (re.error, TypeError) as error:
                    raise JourneyFileError(f"{where}.reply.{key}: not a regular expression: {error}") from None
    for key in ("price_of", "mentions"):
        if key in expect:
            _refs(expect[key], f"{where}.{key}", allow_cards=True)
    for key in ("delivery_fee", "cart_total", "total_with_delivery", "order_number", "qr", "answered"):
        if key in expect and not isinstance(expect[key], bool):
            raise JourneyFileError(f"{where}.{key}: must be true or false")
    if "cards" in expect:
        _cards(expect["cards"], f"{where}.cards")
    if "quick_replies" in expect:
        chips = expect["quick_replies"]
        if not isinstance(chips, dict) or set(chips) - {"includes"}:
            raise JourneyFileError(f"{where}.quick_replies: must be {{\"includes\": [labels]}}")
        _texts(chips.get("includes", []) or ["-"], f"{where}.quick_replies.includes")
    if "cart" in expect:
        _cart_or_order(expect["cart"], CART_KEYS, f"{where}.cart")
    if "order" in expect and expect["order"] is not None:
        _cart_or_order(expect["order"], ORDER_KEYS, f"{where}.order")
    if "any" in expect:
        options = expect["any"]
        if not isinstance(options, list) or len(options) < 2:
            raise JourneyFileError(f"{where}.any: must list at least two alternative expectations")
        for i, option in enumerate(options, 1):
            _expect(option, f"{where}.any[{i}]")


def _cards(cards, where: str) -> None:
    if isinstance(cards, bool):
        return
    if not isinstance(cards, dict):
        raise JourneyFileError(f"{where}: must be true, false or an object")
    _only(cards, CARDS_KEYS, where)
    for key in ("includes", "excludes"):
        if key in cards:
            _refs(cards[key], f"{where}.{key}")
    for key in ("min", "max"):
        if key in cards and not (isinstance(cards[key], int) and not isinstance(cards[key], bool) and cards[key] >= 0):
            raise JourneyFileError(f"{where}.{key}: must be a whole number")
    fit = cards.get("fit")
    if fit is not None:
        if not isinstance(fit, dict) or not fit:
            raise JourneyFileError(f"{where}.fit: must be an object of constraints")
        _only(fit, FIT_KEYS, f"{where}.fit")
        for key, value in fit.items():
            if key == "category":
                if not isinstance(value, str) or not value:
                    raise JourneyFileError(f"{where}.fit.category: must be a text")
            elif not _positive(value):
                raise JourneyFileError(f"{where}.fit.{key}: must be a whole number of at least 1")


def _cart_or_order(section, allowed: set, where: str) -> None:
    if not isinstance(section, dict):
        raise JourneyFileError(f"{where}: must be an object")
    _only(section, allowed, where)
    for key in ("items", "includes"):
        if key in section:
            items = section[key]
            if not isinstance(items, list) or (key == "includes" and not items):
                raise JourneyFileError(f"{where}.{key}: must be a list of items")
            for i, item in enumerate(items, 1):
                _item(item, f"{where}.{key}[{i}]")
    if "excludes" in section:
        _refs(section["excludes"], f"{where}.excludes")
    if "at_most" in section:
        at_most = section["at_most"]
        if not isinstance(at_most, dict) or not at_most or not all(_positive(v) or v == 0 for v in at_most.values()):
            raise JourneyFileError(f"{where}.at_most: must map SKUs to whole numbers")
    if "empty" in section and not isinstance(section["empty"], bool):
        raise JourneyFileError(f"{where}.empty: must be true or false")
    if "total" in section and section["total"] != "correct" and not _positive(section["total"]):
        raise JourneyFileError(f"{where}.total: must be \"correct\" or a number of satang")
    if "status" in section:
        statuses = section["status"] if isinstance(section["status"], list) else [section["status"]]
        if not statuses or any(s not in ORDER_STATUSES for s in statuses):
            raise JourneyFileError(f"{where}.status: must be one (or a list) of {', '.join(ORDER_STATUSES)}")
    if "fulfilment" in section and section["fulfilment"] not in FULFILMENTS:
        raise JourneyFileError(f"{where}.fulfilment: must be one of {', '.join(FULFILMENTS)}")
    for key in ("ship_name", "ship_phone", "ship_address_contains"):
        if key in section and not (isinstance(section[key], str) and section[key]):
            raise JourneyFileError(f"{where}.{key}: must be a text")


def _item(item, where: str) -> None:
    if not isinstance(item, dict):
        raise JourneyFileError(f"{where}: must be an object such as {{\"sku\": \"...\", \"quantity\": 1}}")
    _only(item, ITEM_KEYS, where)
    if ("sku" in item) == ("card" in item):
        raise JourneyFileError(f"{where}: needs either \"sku\" or \"card\"")
    if "sku" in item:
        _refs([item["sku"]], f"{where}.sku")
    if "card" in item and not _positive(item["card"]):
        raise JourneyFileError(f"{where}.card: must be a card number counted from 1")
    if "quantity" in item and not _positive(item["quantity"]):
        raise JourneyFileError(f"{where}.quantity: must be a whole number of at least 1")
