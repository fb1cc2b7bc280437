"""A customer message as a list of dialogue acts: what the customer did, in order, each with its own items.

"สวัสดีค่ะ เอา coup 2 กล่อง กับ love letter 1 กล่อง ค่าส่งเท่าไหร่คะ" is three acts: a greeting, an add of
two items with their own quantities, and a question about delivery. `read_acts` finds them so:

1. pasted "system/admin" notes are cut out (safety.py) and become one INJECTION act;
2. the message is split into clauses: at line breaks and list bullets, after a polite particle
   followed by more text ("...ค่ะ ค่าส่ง..."), before a joining word ("แล้วก็", "แล้ว"), after a leading
   greeting or thanks, and at a space where each side alone reads as a different request;
3. each clause is read by `understand()` (intent and entities) and mapped to an act kind, refined by
   what it asks (price, players, time, edition, a shop question and its topic);
4. product mentions come from a span search over the catalogue (`spot`, given by the caller: this
   module never touches the database) and are shared out to the clauses by position; each mention
   takes its own quantity ("coup 2 กล่อง กับ skull 1", "2 coup and 1 skull", "อย่างละ 1");
5. clauses that only continue the one before ("ถ้ามีเอา 2 กล่อง", "- forest 1") take its product or its
   kind, and neighbouring acts of one kind are merged.

A quantity that is not a positive number the cart accepts ("-5", "1000000") is kept with a
`quantity_problem`, so the dialogue can say what it did instead of silently changing it.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum

from agent.offline import safety
from agent.offline.intents import Intent, rule_scores
from agent.offline.nlu import Entities, clean, is_ordinary_word, tokens, understand

MAX_QUANTITY = 99   # the cart's own limit per line (shop.cart.MAX_QUANTITY)


class ActKind(str, Enum):
    GREETING = "greeting"
    THANKS = "thanks"
    ADD = "add"
    SET_QUANTITY = "set_quantity"
    REMOVE = "remove"
    REPLACE = "replace"
    ASK_PRICE = "ask_price"
    ASK_PLAYERS = "ask_players"
    ASK_TIME = "ask_time"
    ASK_EDITION = "ask_edition"
    ASK_PRODUCT = "ask_product"          # about a product in general, or whether the shop has it
    RECOMMEND = "recommend"
    VIEW_CART = "view_cart"
    CHECKOUT = "checkout"
    SHIPPING_CHOICE = "shipping_choice"  # pickup or delivery
    SHIPPING_DETAILS = "shipping_details"  # name, phone, address
    CONFIRM = "confirm"
    DENY = "deny"
    CANCEL = "cancel"
    ORDER_STATUS = "order_status"
    SHOP_QUESTION = "shop_question"      # delivery, pickup, payment, returns, hours, address
    PAYMENT_CLAIM = "payment_claim"      # "โอนแล้ว" without a slip
    STAFF_CLAIM = "staff_claim"
    OTHERS_DATA = "others_data"
    PRICE_CHANGE = "price_change"
    INJECTION = "injection"
    TALK_TO_STAFF = "talk_to_staff"
    UNKNOWN = "unknown"


ITEM_ACTS = {ActKind.ADD, ActKind.SET_QUANTITY, ActKind.REMOVE, ActKind.REPLACE, ActKind.ASK_PRICE,
             ActKind.ASK_PLAYERS, ActKind.ASK_TIME, ActKind.ASK_EDITION, ActKind.ASK_PRODUCT}
ASK_ACTS = {ActKind.ASK_PRICE, ActKind.ASK_PLAYERS, ActKind.ASK_TIME, ActKind.ASK_EDITION, ActKind.ASK_PRODUCT}
REFUSALS = {ActKind.STAFF_CLAIM, ActKind.OTHERS_DATA, ActKind.PRICE_CHANGE}


@dataclass
class Item:
    """One product the act is about: a catalogue mention (skus), words to look up (query), or a
    reference to cards already shown (ordinal, or the last one)."""

    skus: tuple[str, ...] = ()
    query: str | None = None
    ordinal: int | None = None
    refers_to_previous: bool = False
    quantity: int | None = None
    quantity_problem: str | None = None  # "not_positive" or "too_many"
    start: int = -1                      # where the mention is in the cleaned message

    @property
    def named(self) -> bool:
        return bool(self.skus or self.query)


@dataclass
class Act:
    kind: ActKind
    items: list[Item] = field(default_factory=list)
    entities: Entities = field(default_factory=Entities)
    topics: list[str] = field(default_factory=list)   # SHOP_QUESTION: delivery, pickup, payment, ...
    more: bool = False       # ADD: "อีก", "เพิ่ม": on top of what is in the cart
    whole_cart: bool = False  # REMOVE: "ล้างตะกร้า", "เอาออกทั้งหมด"
    text: str = ""           # the clause

    def __repr__(self) -> str:  # short, for test failures and the benchmark's misses
        items = ", ".join(f"{'|'.join(i.skus) or i.query or ('#' + str(i.ordinal) if i.ordinal else '#prev')}"
                          f"×{i.quantity}" for i in self.items)
        extra = f" {self.topics}" if self.topics else ""
        return f"{self.kind.value}({items}){extra}"


Spot = Callable[[str], list[dict]]   # cleaned text -> [{"start", "end", "skus": [...], ...}] left to right


# ---------------------------------------------------------------- clauses

_PARTICLE = r"(?:ค่ะ|คะ|ค่า|ครับ|คับ|ครับผม|นะคะ|นะครับ|จ้า|จ้ะ|จ๊ะ|ค้าบ|งับ|ฮะ|น้า|เลย|นะ)"
_QUESTION_END = r"(?:ไหม|มั้ย|มั๊ย|ป่ะ|ปะ|หรือเปล่า|รึเปล่า|หรือยัง|รึยัง|เท่าไหร่|เท่าไร|ยังไง|อะไร|ไหน|\?)"
# A boundary after a particle or a question word that is followed by more text.
_AFTER_PARTICLE = re.compile(rf"(?<=[\u0e00-\u0e7f0-9a-z\s]){_PARTICLE}*(?:{_PARTICLE}|{_QUESTION_END})[?!.]*(?=\s+\S)")
_JOINERS = re.compile(r"\s+(?=(?:แล้วก็|แล้วขอ|แล้วเอา|แล้วเพิ่ม|แล้ว(?=\S)|ส่วน|อ้อ|อีกอย่าง|and then|also)\S*)")
_OPENING = re.compile(r"^(?:สวัสดี\S*|หวัดดี\S*|ดีค่ะ|ดีครับ|ดีจ้า|hello|hi|hey|good (?:morning|afternoon|evening)|"
                      r"ขอบคุณ\S*|ขอบใจ\S*|thanks?(?: you)?|thx|ty)(?:\s*(?:มาก|มากๆ|นะ|ค่ะ|คะ|ครับ|คับ|จ้า|so much|a lot))*"
                      r"[\s,!.]+(?=\S)", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•·▪️✅👉]+|\d+[.)]|\(\d+\))\s*")
_SENTENCE_END = re.compile(r"(?<=[?!])\s*|(?<=[a-z])[.]\s+")
_SHIPPING_MARKS = re.compile(r"ชื่อ|ที่อยู่|เบอร์|โทร|ผู้รับ|address|tel|phone|\d{5}|0[689]\d[\s-]?\d{3}[\s-]?\d{4}",
                             re.IGNORECASE)
STRONG = 2.5


@dataclass
class _Clause:
    text: str
    start: int   # offset in the cleaned message
    atomic: bool = False   # a pasted shipping block: never cut further

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def split_clauses(text: str, expecting: str | None = None) -> list[_Clause]:
    """The message's clauses with their offsets; a pasted shipping block stays one clause."""
    lines = _lines(text, expecting)
    clauses: list[_Clause] = []
    for line, offset in lines:
        if "\n" in line:             # a pasted shipping block: one clause
            clauses.append(_Clause(line, offset, atomic=True))
            continue
        for piece, start in _cut(line, offset, _SENTENCE_END):
            for piece2, start2 in _cut(piece, start, _AFTER_PARTICLE, keep_left=True):
                for piece3, start3 in _cut(piece2, start2, _JOINERS):
                    clauses.extend(_split_opening(piece3, start3))
    return [c for c in _split_by_intent(clauses) if c.text.strip()]


def _lines(text: str, expecting: str | None) -> list[tuple[str, int]]:
    lines, position = [], 0
    for raw in text.split("\n"):
        bullet = _BULLET.match(raw)
        skip = bullet.end() if bullet else 0
        lines.append((raw[skip:], position + skip))
        position += len(raw) + 1
    marked = [n for n, (line, _) in enumerate(lines) if _SHIPPING_MARKS.search(line)]
    if len(lines) > 1 and ((expecting or "").startswith("shipping_") or len(marked) >= 2):
        # name, phone and address lines belong together; an order line before them stays apart
        first = marked[0] if marked and not (expecting or "").startswith("shipping_") else 0
        block_start = lines[first][1]
        return [*lines[:first], (text[block_start:], block_start)]
    return lines


def _cut(text: str, offset: int, pattern: re.Pattern[str], keep_left: bool = False) -> list[tuple[str, int]]:
    """Pieces of `text` cut at each match (after it when keep_left, else the match is dropped)."""
    out, last = [], 0
    for match in pattern.finditer(text):
        cut_at = match.end() if keep_left else match.start()
        if cut_at <= last:
            continue
        out.append((text[last:cut_at], offset + last))
        last = match.end() if not keep_left else cut_at
    out.append((text[last:], offset + last))
    stripped = []
    for piece, start in out:
        lead = len(piece) - len(piece.lstrip())
        if piece.strip():
            stripped.append((piece.strip(), start + lead))
    return stripped


def _split_opening(text: str, start: int) -> list[_Clause]:
    match = _OPENING.match(text)
    if not match:
        return [_Clause(text, start)]
    head = text[:match.end()].rstrip(" ,!.")
    rest = text[match.end():]
    return [_Clause(head, start), *_split_opening(rest, start + match.end())]


def _strong(text: str) -> Intent | None:
    compact = clean(text).lower().replace(" ", "")
    scores = {i: s for i, s in rule_scores(compact, clean(text).lower()).items()
              if i not in (Intent.CONFIRM, Intent.DENY, Intent.UNKNOWN)}
    if not scores:
        return None
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] >= STRONG else None


def _split_by_intent(clauses: list[_Clause]) -> list[_Clause]:
    """Cut a clause at a space where the words before and the words after each read as a different
    request ("มี azul ไหม เอา 2 กล่อง"); the left part is kept as short as it can be."""
    out: list[_Clause] = []
    for clause in clauses:
        if clause.atomic:
            out.append(clause)
            continue
        text, start = clause.text, clause.start
        while True:
            cut = None
            for match in re.finditer(r"\s+", text):
                left, right = text[:match.start()], text[match.end():]
                a, b = _strong(left), _strong(right)
                if a and b and a != b and not _continues(right):
                    cut = match
                    break
            if cut is None:
                out.append(_Clause(text, start))
                break
            out.append(_Clause(text[:cut.start()], start))
            start += cut.end()
            text = text[cut.end():]
    return out


def _continues(right: str) -> bool:
    """Words that only go on with the request before them ("กับ skull", "และ ...")."""
    return re.match(r"(?:กับ|และ|หรือ|ที่|สำหรับ|เหมาะ|and|or|with|for|under|that|which|to)\b", right.lower()) is not None


# ---------------------------------------------------------------- reading one clause

_KIND_OF_INTENT = {
    Intent.GREETING: ActKind.GREETING, Intent.THANKS_BYE: ActKind.THANKS, Intent.ADD_TO_CART: ActKind.ADD,
    Intent.REMOVE_FROM_CART: ActKind.REMOVE, Intent.VIEW_CART: ActKind.VIEW_CART, Intent.CHECKOUT: ActKind.CHECKOUT,
    Intent.ORDER_STATUS: ActKind.ORDER_STATUS, Intent.CANCEL: ActKind.CANCEL, Intent.CONFIRM: ActKind.CONFIRM,
    Intent.DENY: ActKind.DENY, Intent.TALK_TO_STAFF: ActKind.TALK_TO_STAFF, Intent.UNKNOWN: ActKind.UNKNOWN,
    Intent.RECOMMENDATION: ActKind.RECOMMEND, Intent.AVAILABILITY: ActKind.ASK_PRODUCT,
    Intent.PRODUCT_QUESTION: ActKind.ASK_PRODUCT, Intent.PRICE: ActKind.ASK_PRICE,
    Intent.CHANGE_CART: ActKind.SET_QUANTITY, Intent.SHIPPING_DETAILS: ActKind.SHIPPING_DETAILS,
    Intent.PAYMENT_QUESTION: ActKind.SHOP_QUESTION,
}
_ASKS = (
    (ActKind.ASK_PLAYERS, re.compile(r"กี่คน|ได้กี่|คนเดียวได้|เล่น\d+คนได้|สองคนได้|how many players|players\?")),
    (ActKind.ASK_TIME, re.compile(r"นานไหม|นานมั้ย|นานแค่ไหน|กี่นาที|กี่ชั่วโมง|ใช้เวลา|เล่นนาน|how long|playing time")),
    (ActKind.ASK_EDITION, re.compile(r"ภาษาไทย|ภาษาอังกฤษ|ภาษาอะไร|ไทยหรือ|อังกฤษหรือ|เวอร์ชั่น|เวอร์ชัน|ฉบับไหน|แปลไทย|"
                                     r"ภาษา|edition|english|thai version|in thai")),
)
TOPICS = (
    ("returns", re.compile(r"คืนสินค้า|เปลี่ยนคืน|คืนได้|รับคืน|เปลี่ยนสินค้า|เคลม|ประกัน|นโยบาย|return|refund policy|exchange")),
    ("hours", re.compile(r"เปิดกี่โมง|ปิดกี่โมง|เปิดกี่|ปิดกี่|กี่โมง|เวลาเปิด|เวลาทำการ|เปิดวัน|เปิดทุกวัน|หยุดวัน|วันหยุด|เปิดไหม|"
                         r"เปิดอยู่|opening hours|open\b|close\b|hours")),
    ("address", re.compile(r"ร้านอยู่|ที่อยู่ร้าน|ร้านตั้งอยู่|แผนที่|หน้าร้าน(?:อยู่|ที่ไหน)|อยู่แถว|ไปยังไง|เดินทาง|location|"
                           r"where is the shop|where are you|shop address")),
    ("pickup", re.compile(r"รับเอง|รับที่ร้าน|มารับ|ไปรับ|รับหน้าร้าน|pick\s?up")),
    ("payment", re.compile(r"(?<!ค่าใช้)จ่าย|ชำระ|โอน|ปลายทาง|cod\b|พร้อมเพ|บัตร|ผ่อน|เครดิต|บัญชี|qr|payment|pay\b|cash")),
    ("delivery", re.compile(r"ค่าส่ง|ส่ง|จัดส่ง|ขนส่ง|ไปรษณี|ems|kerry|เคอรี่|flash|แฟลช|delivery|deliver|shipping|ship")),
)
_QUESTION = re.compile(r"ไหม|มั้ย|มั๊ย|ป่ะ|ปะ|หรือเปล่า|รึเปล่า|ยังไง|อย่างไร|อะไร|กี่|เท่าไ|ไหน|หรอ|เหรอ|บ้าง|ได้เปล่า|\?|"
                       r"\b(?:how|what|can|do you|is it|is there|are|where|when)\b", re.IGNORECASE)
_PAID = re.compile(r"(?:โอน|จ่าย|ชำระ)(?:เงิน|ตัง|ค่า\S*)?(?:ให้)?(?:ไป|มา)?(?:เรียบร้อย)?แล้ว|โอนไปแล้ว|จ่ายไปแล้ว|"
                   r"\b(?:paid|transferred|sent the money|made the payment)\b", re.IGNORECASE)
_WANTING = re.compile(r"อยากได้|สนใจ|\bwant\b|would like|looking for|interested")
_CART_VERB = re.compile(r"เอา|ขอ|ซื้อ|สั่ง|ใส่|หยิบ|จัด|\badd\b|\bbuy\b|\btake\b|\border\b|\bget\b|สัก|ซัก|\d")
_MORE = re.compile(r"อีก|เพิ่ม|\bmore\b|\banother\b|\bextra\b")
_BUYING = re.compile(r"เอา|ขอ|ซื้อ|สั่ง|อยากได้|จัด|ใส่|หยิบ|\bwant|\bbuy|\btake|\border|\bget\b|\badd\b|\blike\b|'ll have")
_REPLACE_CUE = re.compile(r"แทน|พิมพ์ผิด|เปลี่ยนจาก|เปลี่ยน.*เป็น|ไม่ใช่.*(?:เอา|เป็น|ขอ)|instead|swap|replace|rather")
_OLD_CUE = re.compile(r"(?:ไม่ใช่|ไม่เอา|จาก|แทน|instead of|not|rather than|replace)\s*$")
_WHOLE_CART = re.compile(r"ล้างตะกร้า|ทั้งหมด|ทุกอย่าง|ทุกรายการ|ทุกชิ้น|หมดเลย|\ball\b|everything|clear")
_BOTH = re.compile(r"ทั้งสอง|ทั้ง 2|ทั้ง2|ทั้งคู่|สองอย่าง|2 อย่าง|\bboth\b")
_EACH = re.compile(r"อย่าง\s?ละ\s?(\d+)?|ละ\s?(\d+)\s?(?:กล่อง|ชิ้น|อัน)|\b(\d+) each\b|\beach\b")
_SOLO = re.compile(r"คนเดียว|เล่นเดี่ยว|\bsolo\b|single player|one player|1 player")


def _refine(kind: ActKind, clause: str, ent: Entities, has_items: bool, expecting: str | None,
            mentioned: bool = False, counted: bool = False) -> tuple[ActKind, list[str]]:
    compact = clean(clause).lower().replace(" ", "")
    question = _QUESTION.search(compact) is not None
    topics = [name for name, pattern in TOPICS if pattern.search(compact)]
    if kind is ActKind.CONFIRM and _BUYING.search(clause.lower()) and not question:
        kind = ActKind.ADD          # "ok I'll take one", "ได้ค่ะ เอาเลย"
    if kind in ASK_ACTS and has_items and not mentioned and topics and question:
        return ActKind.SHOP_QUESTION, topics[:2]   # "มีเก็บเงินปลายทางไหม": no product was named
    if kind is ActKind.SET_QUANTITY and ent.fulfilment and not mentioned and ent.quantity is None:
        return ActKind.SHIPPING_CHOICE, []         # "ขอเปลี่ยนเป็นไปรับเองที่ร้าน"
    if kind is ActKind.ADD and mentioned and not counted and _WANTING.search(clause.lower()) \
            and not _CART_VERB.search(clause.lower()) and not _EACH.search(clause.lower()):
        return ActKind.ASK_PRODUCT, []             # "อยากได้เกม Kingdomino": show it first
    if kind in (ActKind.SHOP_QUESTION, ActKind.ASK_PRICE, ActKind.SHIPPING_DETAILS, ActKind.UNKNOWN,
                ActKind.TALK_TO_STAFF, ActKind.ASK_PRODUCT, ActKind.ORDER_STATUS) and _PAID.search(compact) \
            and not question:
        return ActKind.PAYMENT_CLAIM, []
    if kind in ASK_ACTS and has_items:
        for ask, pattern in _ASKS:
            if pattern.search(compact):
                return ask, []
        if kind is ActKind.ASK_PRODUCT and not question and _BUYING.search(compact):
            return ActKind.ADD, []
        return kind, []
    if kind is ActKind.CHECKOUT and question and re.search(r"ปลายทาง|บัตร|เครดิต|โอน|พร้อมเพ|qr|cod|ผ่อน|ช่องทาง|"
                                                         r"ยังไง|อย่างไร|อะไร|ทางไหน|ได้ไหม|ได้มั้ย", compact):
        return ActKind.SHOP_QUESTION, ["payment"]
    if kind is ActKind.ASK_PRICE and topics and topics[0] in ("delivery", "pickup"):
        return ActKind.SHOP_QUESTION, topics[:1]
    if kind is ActKind.SHIPPING_DETAILS and ent.fulfilment and not (ent.phone or ent.address) \
            and re.search(r"เปลี่ยน|แทน|ดีกว่า|ขอเป็น|instead|change|rather", compact):
        return ActKind.SHIPPING_CHOICE, []          # "ขอเปลี่ยนเป็นไปรับเองที่ร้านดีกว่า": not a name
    if kind is ActKind.SHIPPING_DETAILS and not (ent.name or ent.phone or ent.address):
        if question and expecting != "fulfilment":
            return ActKind.SHOP_QUESTION, topics[:2] or ["delivery"]
        return ActKind.SHIPPING_CHOICE, []
    if kind is ActKind.SHOP_QUESTION:
        return kind, topics[:2] or ["payment"]
    if kind is ActKind.TALK_TO_STAFF and topics[:1] == ["returns"] and (question or "ถ้า" in compact):
        return ActKind.SHOP_QUESTION, ["returns"]
    if kind is ActKind.RECOMMEND and mentioned:
        return (ActKind.ADD if _BUYING.search(compact) and not question else ActKind.ASK_PRODUCT), []
    if kind is ActKind.SET_QUANTITY and _REPLACE_CUE.search(compact) and has_items and ent.quantity is None:
        return ActKind.REPLACE, []
    if kind in (ActKind.UNKNOWN, ActKind.ASK_PRODUCT, ActKind.ASK_PRICE) and topics and question and not has_items:
        return ActKind.SHOP_QUESTION, topics[:2]
    if kind is ActKind.DENY and has_items and re.search(r"ไม่เอา|ไม่ต้องการ|don'?t want", compact):
        return ActKind.REMOVE, []
    if kind is ActKind.DENY and has_items and _REPLACE_CUE.search(compact):
        return ActKind.REPLACE, []
    return kind, []


def is_question(text: str) -> bool:
    return _QUESTION.search(clean(text).lower().replace(" ", "")) is not None


def _constraints(ent: Entities) -> bool:
    return any(getattr(ent, name) is not None for name in
               ("players", "max_minutes", "age", "budget_max_satang", "budget_min_satang", "category"))


# ---------------------------------------------------------------- quantities

_CLASSIFIER = r"(?:กล่อง|ชิ้น|อัน|เกม|ชุด|ตัว|เซ็ต|เซต|แพ็ค|เล่ม|boxes|box|pcs|pc|pieces|piece|copies|copy|sets|set|units|unit)"
_NOT_A_COUNT = r"(?!\s?(?:บาท|฿|baht|คน|นาที|ชั่วโมง|ชม|ขวบ|ปี|%|people|players?|persons?|min|mins|minutes|hours?|hrs?|years?|\d|/))"
_COUNT_RE = re.compile(
    rf"(?<![\w/.])(?P<neg>[-−–]\s?)?(?P<n>\d{{1,9}})\s?(?:x\b|×)?\s?(?P<cls>{_CLASSIFIER})?{_NOT_A_COUNT}"
    rf"|(?:x|×)\s?(?P<n2>\d{{1,3}})\b"
    rf"|(?P<one>{_CLASSIFIER}\s?(?:นึง|หนึ่ง|เดียว)|(?:สัก|ซัก)\s?{_CLASSIFIER}|อีก\s?{_CLASSIFIER}(?!\s?\d)"
    rf"|\ba (?:box|copy)\b|\bone\b)")
_AFTER_ORDINAL = re.compile(r"(?:ที่|no\.|#|อันดับ|ลำดับ)\s?$")
_NOT_COUNT_BEFORE = re.compile(r"(?:งบ|ไม่เกิน|ราคา|under|budget|below|อายุ|age|เบอร์|โทร|เล่น|ใช้เวลา|ประมาณ)\s?$")


@dataclass
class _Count:
    value: int
    negative: bool
    start: int
    end: int
    explicit: bool   # with a classifier, or after a buying word: surely a count


def _numbers_as_digits(text: str) -> str:
    """Thai number words as digits ("สองกล่อง" -> "2 กล่อง"); words joined with single spaces."""
    out = ""
    for word in tokens(text.lower()):
        if out and not out.endswith(("-", "−", "–")):
            out += " "
        out += word
    return out


def _counts(segment: str) -> list[_Count]:
    text = _numbers_as_digits(segment)
    found = []
    for match in _COUNT_RE.finditer(text):
        before = text[:match.start()]
        if _AFTER_ORDINAL.search(before) or _NOT_COUNT_BEFORE.search(before):
            continue
        if match.group("one"):
            found.append(_Count(1, False, match.start(), match.end(), True))
            continue
        raw = match.group("n") or match.group("n2")
        if raw is None:
            continue
        explicit = bool(match.group("cls") or match.group("n2")) or bool(
            re.search(r"(?:เอา|ขอ|สั่ง|ซื้อ|เพิ่ม|อีก|เป็น|เหลือ|แค่|จัด|take|buy|add|order|want|like)\s?$", before))
        if len(raw) > 4 and not explicit:
            continue   # a long bare number is a phone, a postcode or an amount, not a count
        found.append(_Count(int(raw), bool(match.group("neg")), match.start(), match.end(), explicit))
    return found


def _set_quantity(item: Item, count: _Count) -> None:
    value = -count.value if count.negative else count.value
    item.quantity = value
    item.quantity_problem = ("not_positive" if value <= 0 else "too_many" if value > MAX_QUANTITY else None)


# ---------------------------------------------------------------- the message

def read_acts(text: str, *, expecting: str | None = None, spot: Spot | None = None) -> list[Act]:
    """The dialogue acts of one customer message, in order. Never raises: a failure gives [UNKNOWN]."""
    try:
        return _read(text if isinstance(text, str) else "", expecting, spot)
    except Exception:
        import logging

        logging.getLogger(__name__).exception("reading acts failed on a message of %d chars",
                                              len(text) if isinstance(text, str) else -1)
        return [Act(ActKind.UNKNOWN, text=text if isinstance(text, str) else "")]


def _read(text: str, expecting: str | None, spot: Spot | None) -> list[Act]:
    cleaned, injected = safety.strip_injected_notes(clean(text))
    acts: list[Act] = []
    if safety.claims_to_be_staff(cleaned):
        acts.append(Act(ActKind.STAFF_CLAIM, text=cleaned))
    elif safety.asks_about_others(cleaned):
        acts.append(Act(ActKind.OTHERS_DATA, text=cleaned))
    if acts:   # a refusal answers the whole message: nothing in it is acted on
        return acts + ([Act(ActKind.INJECTION)] if injected else [])
    if safety.asks_for_price_change(cleaned):
        # The discount is refused; an order in the same message still counts, at the shop's price.
        acts.append(Act(ActKind.PRICE_CHANGE, text=cleaned))
    mentions = _mentions(cleaned, spot)
    swap = _message_replace(cleaned, mentions)
    if swap is not None:
        return acts + [swap] + ([Act(ActKind.INJECTION)] if injected else [])
    clauses = split_clauses(cleaned, expecting)
    for clause in clauses:
        inside = [m for m in mentions if clause.start <= m["start"] < clause.end]
        # The sentence encoder (~40 ms a call) guesses only for a message of one clause: a fragment of a
        # longer one that no rule reads is story around the request, not worth a guess.
        acts.extend(_read_clause(clause, inside, expecting, encoder=len(clauses) == 1))
    acts = _join(acts)
    if acts and acts[0].kind is ActKind.PRICE_CHANGE:
        for act in acts[1:]:
            if act.kind in ASK_ACTS and act.items and _CART_VERB.search(act.text.lower()):
                act.kind = ActKind.ADD   # "ขอ Wingspan 1 กล่องราคาลด": the order, without the discount
        acts = acts[:1] + [a for a in acts[1:] if a.kind in (ActKind.ADD, ActKind.REMOVE, ActKind.SET_QUANTITY,
                                                            ActKind.REPLACE, ActKind.GREETING)
                           and (a.kind is ActKind.GREETING or any(i.named for i in a.items))]
    if injected:
        acts.append(Act(ActKind.INJECTION))
    return acts or [Act(ActKind.UNKNOWN, text=cleaned)]


_MISTYPED = re.compile(r"พิมพ์ผิด|สั่งผิด|กดผิด|ผิดตัว|ผิดเกม|ไม่ใช่|แทน|instead|wrong|typo|mistake")


def _message_replace(cleaned: str, mentions: list[dict]) -> Act | None:
    """"ขอโทษค่ะ พิมพ์ผิด จริงๆจะเอา B ค่ะ ไม่ใช่ A": one swap, however many clauses it is written in."""
    if len(mentions) != 2 or not _MISTYPED.search(cleaned.lower()):
        return None
    clause = _Clause(cleaned, 0)
    items = _items(clause, mentions, Entities())
    if len(items) != 2 or not (_OLD_CUE_ANYWHERE.search(cleaned.lower()) or "แทน" in cleaned):
        return None
    return Act(ActKind.REPLACE, items=_replace_order(clause, items), text=cleaned)


_OLD_CUE_ANYWHERE = re.compile(r"ไม่ใช่|ไม่เอา|จาก|แทน|instead of|not\b|rather than")


def _mentions(cleaned: str, spot: Spot | None) -> list[dict]:
    if spot is None or not cleaned:
        return []
    try:
        return [m for m in spot(cleaned) if m.get("skus")]
    except Exception:
        import logging

        logging.getLogger(__name__).exception("product spotting failed")
        return []


def _read_clause(clause: _Clause, mentions: list[dict], expecting: str | None, encoder: bool = True) -> list[Act]:
    # The product names are read by the span search: hide them from the intent rules, whose
    # keywords sometimes occur inside titles ("อย่าซ่ากับบอส", "เกมโรคระบาด").
    masked = clause.text
    for m in sorted(mentions, key=lambda m: -m["start"]):
        a, b = m["start"] - clause.start, m["end"] - clause.start
        masked = masked[:a] + " เกมนี้ " + masked[b:]
    understood = understand(masked if mentions else clause.text, expecting=expecting, encoder=encoder)
    ent = understood.entities
    kind = _KIND_OF_INTENT[understood.intent]
    if kind is ActKind.UNKNOWN and mentions:
        kind = ActKind.ASK_PRODUCT
    items = _items(clause, mentions, ent)
    if _SOLO.search(clause.text.lower()) and kind is ActKind.RECOMMEND:
        ent = replace(ent, players=1, category=None if ent.category == "เล่นคนเดียว" else ent.category)
    kind, topics = _refine(kind, clause.text, ent, bool(items), expecting, mentioned=bool(mentions),
                           counted=any(i.quantity is not None for i in items))
    if kind is ActKind.REPLACE:
        items = _replace_order(clause, items)
    act = Act(kind, items=items, entities=ent, topics=topics, text=clause.text,
              more=kind is ActKind.ADD and _MORE.search(clause.text.lower()) is not None,
              whole_cart=kind is ActKind.REMOVE and not mentions and _WHOLE_CART.search(clause.text.lower()) is not None)
    if kind is ActKind.RECOMMEND and not mentions:
        act.items = []       # a search: its leftover words are not a product
    if kind in ITEM_ACTS or kind is ActKind.RECOMMEND or not items:
        return [act]
    if kind is ActKind.UNKNOWN and all(not i.named and i.ordinal is None for i in items):
        return [act]        # "อย่างละกล่อง": a count for the items of the clause before
    act.items = []
    if not mentions or kind in (ActKind.SHIPPING_DETAILS, ActKind.STAFF_CLAIM, ActKind.OTHERS_DATA):
        return [act]
    # Products named in a clause read as something else ("ขอ X 1 กับ Y 1 ส่งไปที่บ้านนะคะ", "ฝากใส่ X
    # ในตะกร้า"): the items are never dropped; bought when the words buy, asked about otherwise.
    buying = _BUYING.search(clause.text.lower()) is not None or any(i.quantity is not None for i in items)
    first = Act(ActKind.ADD if buying else ActKind.ASK_PRODUCT, items=items, entities=ent, text=clause.text)
    if kind is ActKind.VIEW_CART and buying and not _QUESTION.search(clause.text.lower()):
        return [first]      # "ใส่ตะกร้า": the cart word was where to put them
    return [first, act]


def _items(clause: _Clause, mentions: list[dict], ent: Entities) -> list[Item]:
    text = clause.text
    items = [Item(skus=tuple(m["skus"]), query=m.get("text"), start=m["start"]) for m in mentions]
    if not items:
        both = _BOTH.search(text.lower())
        if both:
            items = [Item(ordinal=1, refers_to_previous=True), Item(ordinal=2, refers_to_previous=True)]
        elif ent.ordinal or ent.refers_to_previous:
            items = [Item(ordinal=ent.ordinal, refers_to_previous=True)]
        elif ent.product_query and not is_ordinary_word(ent.product_query):
            items = [Item(query=ent.product_query)]
        _quantities_for_one(text, items)
        return items
    # Segments around the mentions: each mention's quantity is the count right after it, unless the
    # message puts counts before names ("2 coup and 1 skull").
    bounds = [(m["start"] - clause.start, m["end"] - clause.start) for m in mentions]
    before = [text[(bounds[i - 1][1] if i else 0):bounds[i][0]] for i in range(len(bounds))]
    after = [text[bounds[i][1]:(bounds[i + 1][0] if i + 1 < len(bounds) else len(text))] for i in range(len(bounds))]
    lead = _counts(before[0])
    prefix_style = bool(lead) and lead[-1].end >= len(_numbers_as_digits(before[0]).rstrip()) - 1 \
        and re.search(r"\d\s?(?:x|×|" + _CLASSIFIER + r")?\s?(?:of\s)?$", _numbers_as_digits(before[0]).rstrip()) is not None
    for i, item in enumerate(items):
        found = _counts(before[i]) if prefix_style else _counts(after[i])
        if prefix_style:
            found = found[-1:]
        else:
            found = [c for c in found if not _leads_next(after[i], c, i + 1 < len(items))][:1]
        if found:
            _set_quantity(item, found[0])
    _each(text, items)
    return _unlisted_names(clause, mentions, items)


_ITEM_SEPARATOR = re.compile(r"\s*(?:,|\n|\+|/|\bกับ|\bและ|แล้วก็|\band\b|\bor\b|\bหรือ)\s*")


def _unlisted_names(clause: _Clause, mentions: list[dict], items: list[Item]) -> list[Item]:
    """A listed name the catalogue search did not find ("ขอ Catan 1 กับ Jaipur 1"): kept as words to look
    up, so the customer hears that the shop does not sell it instead of nothing."""
    from agent.offline.nlu import product_query

    spans = [(m["start"] - clause.start, m["end"] - clause.start) for m in mentions]
    position, extra = 0, []
    pieces = _ITEM_SEPARATOR.split(clause.text)
    for piece in pieces:
        start = clause.text.find(piece, position)
        position = start + len(piece)
        if not piece.strip() or any(a < position and b > start for a, b in spans):
            continue
        words = _EACH.sub(" ", _COUNT_RE.sub(" ", _numbers_as_digits(piece)))
        query = product_query(tokens(words))
        if query and not is_ordinary_word(query) and re.search(r"[a-z]{3}|[\u0e01-\u0e2e]{3}", query) \
                and len(pieces) > 1:
            item = Item(query=query, start=clause.start + start)
            found = _counts(piece)
            if found:
                _set_quantity(item, found[0])
            extra.append(item)
    return sorted(items + extra, key=lambda i: i.start)


def _leads_next(segment: str, count: _Count, has_next: bool) -> bool:
    """A bare count at the very end of the text between two names belongs to the next one."""
    return has_next and not count.explicit and count.end >= len(_numbers_as_digits(segment).rstrip())


def _quantities_for_one(text: str, items: list[Item]) -> None:
    found = [c for c in _counts(text)]
    if len(items) == 1 and found:
        _set_quantity(items[0], found[0])
    elif not items and not found and _EACH.search(_numbers_as_digits(text)):
        items.append(Item(refers_to_previous=True))
    elif not items and found:
        items.append(Item(quantity=None))   # "เอา 2 กล่อง": a count for whatever the dialogue has in hand
        _set_quantity(items[0], found[0])
        items[0].refers_to_previous = True
    _each(text, items)


def _each(text: str, items: list[Item]) -> None:
    match = _EACH.search(_numbers_as_digits(text))
    if not match or not items:
        return
    value = next((int(g) for g in match.groups() if g), 1)
    for item in items:
        _set_quantity(item, _Count(value, False, 0, 0, True))


def _replace_order(clause: _Clause, items: list[Item]) -> list[Item]:
    """[old, new]: the old one follows "ไม่ใช่", "จาก", "แทน", "ไม่เอา"; a single name is the new one."""
    if len(items) < 2:
        return [Item(refers_to_previous=True), *items[:1]]
    text = clause.text.lower()
    first, second = items[0], items[1]
    before_second = text[(first.start - clause.start):second.start - clause.start]
    if _OLD_CUE.search(before_second):
        return [second, first]
    return [first, second]


# ---------------------------------------------------------------- joining clauses

def _join(acts: list[Act]) -> list[Act]:
    """Continuations take what they lack from the act before; neighbours of one kind merge."""
    # A story around the request ("พอดีลูกชายวันเกิด...", "พิมพ์ผิดค่ะ") says nothing the shop can act on.
    if any(a.kind is not ActKind.UNKNOWN for a in acts):
        acts = [a for a in acts if a.kind is not ActKind.UNKNOWN or a.items or _constraints(a.entities)]
    out: list[Act] = []
    for act in acts:
        prev = out[-1] if out else None
        if prev is not None and _merge(prev, act):
            continue
        out.append(act)
    # A payment claim carries its own "send it now": no other shipping or status step from it.
    if any(a.kind is ActKind.PAYMENT_CLAIM for a in out):
        out = [a for a in out if a.kind not in (ActKind.SHIPPING_CHOICE, ActKind.ORDER_STATUS, ActKind.CONFIRM,
                                                 ActKind.CHECKOUT)]
    return out


def _merge(prev: Act, act: Act) -> bool:
    """Fold `act` into `prev` when it only continues it; False when it stands on its own."""
    only_count = bool(act.items) and all(not i.named and i.ordinal is None and i.quantity is not None
                                         for i in act.items)
    if act.kind in (ActKind.GREETING, ActKind.THANKS) and prev.kind is act.kind:
        return True
    if only_count and prev.items and prev.kind in ITEM_ACTS:
        count = act.items[0]
        if _EACH.search(_numbers_as_digits(act.text)):       # "อย่างละกล่อง": every item just named
            for item in prev.items:
                item.quantity, item.quantity_problem = count.quantity, count.quantity_problem
            return True
        if act.kind is prev.kind or act.kind in (ActKind.UNKNOWN, ActKind.ASK_PRODUCT, ActKind.CONFIRM):
            prev.items[-1].quantity, prev.items[-1].quantity_problem = count.quantity, count.quantity_problem
            return True
    if act.kind in ITEM_ACTS and not any(i.named or i.ordinal for i in act.items) and prev.items \
            and prev.kind in ITEM_ACTS | {ActKind.RECOMMEND}:
        # "ถ้ามีเอา 2 กล่อง", "ราคาเท่าไหร่": about the product just named
        count = act.items[0] if act.items else None
        act.items = [Item(skus=i.skus, query=i.query, ordinal=i.ordinal, refers_to_previous=i.refers_to_previous,
                          quantity=count.quantity if count else None,
                          quantity_problem=count.quantity_problem if count else None) for i in prev.items]
        if act.kind in ASK_ACTS and prev.kind in ASK_ACTS:
            prev.kind = act.kind if prev.kind is ActKind.ASK_PRODUCT else prev.kind
            return True
        return False
    if act.kind in (ActKind.UNKNOWN, ActKind.ASK_PRODUCT, ActKind.CONFIRM) and act.items \
            and prev.kind in (ActKind.ADD, ActKind.REMOVE) and not _QUESTION.search(act.text):
        prev.items.extend(act.items)     # "สั่ง\n- kariba 2\n- forest 1": a list goes on
        return True
    if act.kind is prev.kind is ActKind.ADD and not only_count:
        prev.items.extend(act.items)
        prev.more = prev.more or act.more
        return True
    if ActKind.RECOMMEND in (prev.kind, act.kind) and not (prev.items or act.items) \
            and prev.kind in (ActKind.RECOMMEND, ActKind.UNKNOWN, ActKind.ASK_PRODUCT) \
            and act.kind in (ActKind.RECOMMEND, ActKind.UNKNOWN, ActKind.ASK_PRODUCT) \
            and (_constraints(act.entities) or act.kind is ActKind.RECOMMEND):
        # "อยากได้เกมให้หลาน 6 ขวบค่ะ เป็นเกมเด็กๆ": one search with every condition said
        for name in ("players", "max_minutes", "age", "budget_max_satang", "budget_min_satang", "category"):
            if getattr(prev.entities, name) is None and getattr(act.entities, name) is not None:
                prev.entities = replace(prev.entities, **{name: getattr(act.entities, name)})
        prev.kind = ActKind.RECOMMEND
        return True
    if prev.kind is ActKind.SHOP_QUESTION and act.kind in ASK_ACTS | {ActKind.UNKNOWN} and not act.items:
        prev.topics.extend(t for t in act.topics if t not in prev.topics)   # "...มีค่าใช้จ่ายไหม": the same question
        return True
    if act.kind is prev.kind is ActKind.SHOP_QUESTION:
        prev.topics.extend(t for t in act.topics if t not in prev.topics)
        return True
    return False
