"""What the customer saw in one step of a journey, and the checks a journey's "expect" asks of it.

Cards are read the way a customer reads them: a bubble shows a product when its buttons carry that
product's SKU or its text is the product's name. Prices, fees and totals are compared with the shop's
own figures (`GET /sim/api/shop`), so a journey stays right when the shop changes a price.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import parse_qsl


def normal(text: str) -> str:
    """Case-, width- and spacing-insensitive text, with thousands separators dropped (1,260 → 1260)."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)
    return re.sub(r"\s+", " ", text).strip()


def baht(satang: int) -> str:
    """1,260 baht / 1,260.50 baht, for failure messages."""
    whole, rest = divmod(int(satang), 100)
    return f"{whole:,} baht" if rest == 0 else f"{whole:,}.{rest:02d} baht"


def amount_pattern(satang: int) -> re.Pattern:
    """An amount as a customer reads it: 1,260 / 1260 / 1,260.00 (thousands separators dropped first)."""
    baht, rest = divmod(int(satang), 100)
    cents = r"(?:\.00)?" if rest == 0 else rf"\.{rest:02d}"
    return re.compile(rf"(?<![\d.]){baht}{cents}(?![\d])")


# ---------------------------------------------------------------- the shop, as the bot's database has it

@dataclass
class Catalogue:
    products: dict[str, dict]
    delivery_fee_satang: int | None = None

    @classmethod
    def from_overview(cls, overview: dict) -> Catalogue:
        return cls({p["sku"]: p for p in overview.get("products", [])},
                   (overview.get("shop") or {}).get("delivery_fee_satang"))

    def names(self, sku: str) -> list[str]:
        product = self.products.get(sku) or {}
        return [n for n in (product.get("name_th"), product.get("name_en"), *product.get("aliases", [])) if n]

    def sku_named(self, text: str) -> str | None:
        """The product whose Thai or English name is exactly this text (as a card's title is)."""
        wanted = normal(text)
        for sku, product in self.products.items():
            if wanted and wanted in (normal(product.get("name_th") or ""), normal(product.get("name_en") or "")):
                return sku
        return None


# ---------------------------------------------------------------- what one step showed

@dataclass
class Card:
    sku: str | None
    texts: list[str]
    actions: list[dict]


@dataclass
class Seen:
    messages: list[dict] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    alt_texts: list[str] = field(default_factory=list)
    chips: list[dict] = field(default_factory=list)
    images: int = 0
    errors: list[dict] = field(default_factory=list)

    @classmethod
    def read(cls, messages: list[dict], catalogue: Catalogue, errors: list[dict] | None = None) -> Seen:
        seen = cls(messages=messages, errors=list(errors or []))
        for message in messages:
            kind = message.get("type")
            if kind == "text":
                seen.texts.append(message.get("text", ""))
            elif kind == "image":
                seen.images += 1
            elif kind == "flex":
                seen.alt_texts.append(message.get("altText", ""))
                contents = message.get("contents") or {}
                bubbles = contents.get("contents", []) if contents.get("type") == "carousel" else [contents]
                seen.cards.extend(_card(bubble, catalogue) for bubble in bubbles)
            for item in (message.get("quickReply") or {}).get("items", []):
                if isinstance(item.get("action"), dict):
                    seen.chips.append(item["action"])
        return seen

    @property
    def product_cards(self) -> list[Card]:
        return [card for card in self.cards if card.sku]

    def visible_text(self) -> str:
        return "\n".join([*self.texts, *(t for card in self.cards for t in card.texts), *self.alt_texts])

    def actions(self) -> list[dict]:
        """Buttons first (in card order), then quick-reply chips: what a customer can tap."""
        return [*(a for card in self.cards for a in card.actions), *self.chips]

    def summary(self) -> list[str]:
        """The step as a transcript shows it."""
        lines = [f"bot: {text}" for text in self.texts]
        for card in self.cards:
            title = card.texts[0] if card.texts else "?"
            lines.append(f"bot: [card{' ' + card.sku if card.sku else ''}] {title}"
                         + (f" · {card.texts[1]}" if len(card.texts) > 1 and card.sku else ""))
        if self.images:
            lines.append(f"bot: [image ×{self.images}]")
        if self.chips:
            lines.append("bot: [quick replies] " + " | ".join(c.get("label", "?") for c in self.chips))
        lines += [f"bot: [LINE refused {e.get('api')}: {e.get('status')} {e.get('error')}]" for e in self.errors]
        return lines or ["bot: (nothing)"]


def _card(bubble: dict, catalogue: Catalogue) -> Card:
    texts: list[str] = []
    actions: list[dict] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text" and isinstance(node.get("text"), str):
                texts.append(node["text"])
            if node.get("type") == "button" and isinstance(node.get("action"), dict):
                actions.append(node["action"])
            for value in node.values():
                if isinstance(value, (dict, list)):
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(bubble)
    skus = {value for action in actions if action.get("type") == "postback"
            for _, value in parse_qsl(action.get("data", "")) if value in catalogue.products}
    if len(skus) != 1:  # a cart or an order summary names several products, or none: not a product card
        named = {catalogue.sku_named(text) for text in texts[:2]} - {None}
        skus = named if len(named) == 1 and not skus else set()
    return Card(sku=next(iter(skus)) if len(skus) == 1 else None, texts=texts, actions=actions)


# ---------------------------------------------------------------- the checks

@dataclass
class Context:
    """Everything a step's expectations are checked against."""
    seen: Seen
    catalogue: Catalogue
    shop: dict                      # {"cart": ..., "orders": [...]} for this chat, after the step
    last_cards: list[str | None]    # SKUs of the product cards shown before this step


class Check:
    """Collects failed expectations as readable sentences."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.failures: list[str] = []

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def run(self, expect: dict) -> list[str]:
        for key, value in expect.items():
            getattr(self, f"_{key}")(value)
        return self.failures

    # -- references

    def _sku(self, ref) -> list[str] | None:
        """A reference as the SKUs it accepts: "sku", ["sku", "other"] (any of them) or {"card": n}."""
        if isinstance(ref, dict):
            index = ref["card"] - 1
            cards = self.ctx.last_cards
            if index >= len(cards) or cards[index] is None:
                self.fail(f"card {ref['card']} was referred to, but only {len(cards)} product card(s) "
                          "were shown before this step")
                return None
            return [cards[index]]
        return [ref] if isinstance(ref, str) else list(ref)

    def _label(self, skus: list[str]) -> str:
        return " or ".join(skus)

    # -- reply text

    def _reply(self, spec: dict) -> None:
        text = normal(self.ctx.seen.visible_text())
        as_list = lambda v: [v] if isinstance(v, str) else v  # noqa: E731
        missing = [n for n in as_list(spec.get("contains", [])) if normal(n) not in text]
        if missing:
            self.fail(f"reply does not contain {', '.join(map(repr, missing))}")
        if "any_of" in spec and not any(normal(n) in text for n in as_list(spec["any_of"])):
            self.fail(f"reply contains none of {', '.join(map(repr, as_list(spec['any_of'])))}")
        present = [n for n in as_list(spec.get("none_of", [])) if normal(n) in text]
        if present:
            self.fail(f"reply contains {', '.join(map(repr, present))}, which it must not")
        raw = self.ctx.seen.visible_text()
        if "regex" in spec and not re.search(spec["regex"], raw, re.IGNORECASE):
            self.fail(f"reply does not match /{spec['regex']}/")
        if "not_regex" in spec and re.search(spec["not_regex"], raw, re.IGNORECASE):
            self.fail(f"reply matches /{spec['not_regex']}/, which it must not")

    def _price_of(self, refs: list) -> None:
        text = normal(self.ctx.seen.visible_text())
        for ref in refs:
            skus = self._sku(ref)
            if skus is None:
                continue
            prices = {self.ctx.catalogue.products[s]["price_satang"] for s in skus if s in self.ctx.catalogue.products}
            if not any(amount_pattern(p).search(text) for p in prices):
                shown = " or ".join(baht(p) for p in sorted(prices))
                self.fail(f"reply does not mention the price of {self._label(skus)} ({shown})")

    def _mentions(self, refs: list) -> None:
        text = normal(self.ctx.seen.visible_text())
        for ref in refs:
            skus = self._sku(ref)
            if skus is not None and not any(normal(n) in text for s in skus for n in self.ctx.catalogue.names(s)):
                self.fail(f"reply does not name {self._label(skus)}")

    def _amount(self, satang: int | None, what: str) -> None:
        if satang is None:
            self.fail(f"the shop did not say its {what}")
        elif not amount_pattern(satang).search(normal(self.ctx.seen.visible_text())):
            self.fail(f"reply does not mention the {what} ({baht(satang)})")

    def _delivery_fee(self, wanted: bool) -> None:
        if not wanted:
            return
        if self.ctx.catalogue.delivery_fee_satang == 0:  # "0 บาท" is in too many texts: free delivery is said in words
            if not any(word in normal(self.ctx.seen.visible_text()) for word in ("ส่งฟรี", "ฟรีค่าส่ง", "ไม่มีค่าส่ง", "free")):
                self.fail("reply does not say that delivery is free")
            return
        self._amount(self.ctx.catalogue.delivery_fee_satang, "delivery fee")

    def _cart_total(self, wanted: bool) -> None:
        if wanted:
            self._amount(self.ctx.shop["cart"].get("total_satang"), "cart total")

    def _total_with_delivery(self, wanted: bool) -> None:
        if wanted:
            fee = self.ctx.catalogue.delivery_fee_satang or 0
            self._amount(self.ctx.shop["cart"].get("total_satang", 0) + fee, "cart total with delivery")

    def _order_number(self, wanted: bool) -> None:
        orders = self.ctx.shop["orders"]
        if not orders:
            self.fail("no order exists, so the reply cannot name one")
        elif wanted != (normal(orders[0]["number"]) in normal(self.ctx.seen.visible_text())):
            self.fail(f"reply {'does not name' if wanted else 'names'} order {orders[0]['number']}")

    def _qr(self, wanted: bool) -> None:
        if wanted and not self.ctx.seen.images:
            self.fail("no PromptPay QR (image) was sent")
        if not wanted and self.ctx.seen.images:
            self.fail("an image was sent, but no QR was expected")

    def _answered(self, wanted: bool) -> None:
        if wanted and not self.ctx.seen.messages:
            self.fail("the bot sent nothing")
        if not wanted and self.ctx.seen.messages:
            self.fail("the bot answered, but it should have stayed quiet")

    def _quick_replies(self, spec: dict) -> None:
        labels = [normal(chip.get("label", "")) for chip in self.ctx.seen.chips]
        for label in ([spec["includes"]] if isinstance(spec.get("includes"), str) else spec.get("includes", [])):
            if not any(normal(label) in shown for shown in labels):
                self.fail(f"no quick reply labelled {label!r}")

    # -- cards

    def _cards(self, spec) -> None:
        cards = self.ctx.seen.product_cards
        shown = [card.sku for card in cards]
        if isinstance(spec, bool):
            if spec != bool(cards):
                self.fail("no product card was shown" if spec else f"product cards were shown: {', '.join(shown)}")
            return
        for ref in spec.get("includes", []):
            skus = self._sku(ref)
            if skus and not set(skus) & set(shown):
                self.fail(f"no card for {self._label(skus)} (cards: {', '.join(shown) or 'none'})")
        for ref in spec.get("excludes", []):
            skus = self._sku(ref) or []
            if set(skus) & set(shown):
                self.fail(f"a card for {self._label(skus)} was shown")
        if len(cards) < spec.get("min", 0):
            self.fail(f"{len(cards)} product card(s) shown, at least {spec['min']} expected")
        if "max" in spec and len(cards) > spec["max"]:
            self.fail(f"{len(cards)} product card(s) shown, at most {spec['max']} expected")
        for sku in shown:
            misfit = _misfit(self.ctx.catalogue.products.get(sku, {}), spec.get("fit", {}))
            if misfit:
                self.fail(f"card {sku} does not fit: {misfit}")

    # -- cart and order

    def _lines(self, lines: list[dict], spec: dict, what: str, exact_key: str) -> None:
        have = {line.get("sku"): line["quantity"] for line in lines}
        described = ", ".join(f"{s} ×{q}" for s, q in have.items()) or "nothing"
        wanted_skus: set[str] = set()
        for key in (exact_key, "includes"):
            for item in spec.get(key, []):
                skus = self._sku({"card": item["card"]}) if "card" in item else self._sku(item["sku"])
                if skus is None:
                    continue
                quantity = item.get("quantity", 1)
                match = next((s for s in skus if s in have), None)
                if match is None:
                    self.fail(f"{what} has no {self._label(skus)} (it holds {described})")
                    continue
                wanted_skus.add(match)
                if have[match] != quantity:
                    self.fail(f"{what} has {match} ×{have[match]}, expected ×{quantity}")
        if exact_key in spec:
            extra = [f"{s} ×{q}" for s, q in have.items() if s not in wanted_skus]
            if extra and not (spec[exact_key] == [] and not have):
                self.fail(f"{what} also holds {', '.join(extra)}")
        for ref in spec.get("excludes", []):
            skus = self._sku(ref) or []
            if set(skus) & set(have):
                self.fail(f"{what} holds {self._label(skus)}, which it must not")
        for sku, most in (spec.get("at_most") or {}).items():
            if have.get(sku, 0) > most:
                self.fail(f"{what} has {sku} ×{have[sku]}, at most ×{most} expected")

    def _correct_total(self, lines: list[dict], total: int, shipping: int, what: str) -> None:
        expected = shipping
        for line in lines:
            product = self.ctx.catalogue.products.get(line.get("sku") or "")
            if product is None:
                self.fail(f"{what} line {line.get('name')} is not a product of the shop")
                return
            expected += product["price_satang"] * line["quantity"]
        if total != expected:
            self.fail(f"{what} total is {baht(total)}; the shop's prices make it {baht(expected)}")

    def _cart(self, spec: dict) -> None:
        cart = self.ctx.shop["cart"]
        lines = cart.get("items", [])
        if "empty" in spec and spec["empty"] != (not lines):
            self.fail("the cart is not empty: " + ", ".join(f"{i['sku']} ×{i['quantity']}" for i in lines)
                      if spec["empty"] else "the cart is empty")
        self._lines(lines, spec, "the cart", "items")
        if spec.get("total") == "correct":
            self._correct_total(lines, cart.get("total_satang", 0), 0, "the cart")
        elif "total" in spec and cart.get("total_satang") != spec["total"]:
            self.fail(f"the cart total is {baht(cart.get('total_satang', 0))}, expected {baht(spec['total'])}")

    def _order(self, spec: dict | None) -> None:
        orders = self.ctx.shop["orders"]
        if spec is None:
            if orders:
                self.fail(f"an order exists ({orders[0]['number']}, {orders[0]['status']}); none was expected")
            return
        if not orders:
            self.fail("no order was created")
            return
        order = orders[0]
        statuses = spec["status"] if isinstance(spec.get("status"), list) else [spec.get("status")]
        if "status" in spec and order["status"] not in statuses:
            self.fail(f"order {order['number']} is {order['status']}, expected {' or '.join(statuses)}")
        if "fulfilment" in spec and order["fulfilment"] != spec["fulfilment"]:
            self.fail(f"order {order['number']} is for {order['fulfilment']}, expected {spec['fulfilment']}")
        self._lines(order["items"], spec, f"order {order['number']}", "items")
        if spec.get("total") == "correct":
            fee = self.ctx.catalogue.delivery_fee_satang or 0
            self._correct_total(order["items"], order["total_satang"], fee if order["fulfilment"] == "delivery" else 0,
                                f"order {order['number']}")
        elif "total" in spec and order["total_satang"] != spec["total"]:
            self.fail(f"order total is {baht(order['total_satang'])}, expected {baht(spec['total'])}")
        if "ship_name" in spec and normal(order.get("ship_name", "")) != normal(spec["ship_name"]):
            self.fail(f"order is for {order.get('ship_name')!r}, expected {spec['ship_name']!r}")
        if "ship_phone" in spec and _digits(order.get("ship_phone", "")) != _digits(spec["ship_phone"]):
            self.fail(f"order phone is {order.get('ship_phone')!r}, expected {spec['ship_phone']!r}")
        if "ship_address_contains" in spec and normal(spec["ship_address_contains"]) not in normal(
                order.get("ship_address", "")):
            self.fail(f"order address {order.get('ship_address')!r} lacks {spec['ship_address_contains']!r}")

    def _any(self, options: list[dict]) -> None:
        outcomes = [Check(self.ctx).run(option) for option in options]
        if all(outcomes):
            self.fail("none of the alternatives held: " + " | ".join("; ".join(o) for o in outcomes))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def _misfit(product: dict, fit: dict) -> str | None:
    """Why a product does not fit the customer's constraints (None when it fits or the shop does not know)."""
    players = fit.get("players")
    low, high = product.get("min_players"), product.get("max_players")
    if players and low and high and not low <= players <= high:
        return f"{low}-{high} players, not {players}"
    minutes = fit.get("max_minutes")
    shortest = product.get("min_minutes") or product.get("max_minutes")
    if minutes and shortest and shortest > minutes:
        return f"takes {shortest}+ minutes, more than {minutes}"
    age = fit.get("age")
    if age and product.get("min_age") and product["min_age"] > age:
        return f"for ages {product['min_age']}+, not {age}"
    budget = fit.get("budget_baht")
    if budget and product.get("price_satang", 0) > budget * 100:
        return f"costs {baht(product['price_satang'])}, over {budget:,} baht"
    category = fit.get("category")
    if category and normal(category) not in normal(product.get("category_th", "")):
        return f"category {product.get('category_th')!r}, not {category!r}"
    return None
