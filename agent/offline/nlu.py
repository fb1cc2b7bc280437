"""Understanding one Thai chat message: its intent and the entities the dialogue needs.

Offline and catalogue-free: pythainlp (newmm) segments the text, rules read intents and entities,
and the multilingual sentence encoder decides only when the rules are silent or tied. The product
name is not resolved here: whatever is left after removing intent, number and particle words is
returned as `product_query` for the shared product search.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from agent.offline.intents import CARRIERS, CARRIERS_EN, FAR_AWAY, NEGATABLE, Intent, fuzzy_scores, rule_scores
from agent.offline.numbers import (
    NUMBER_WORD,
    NUMBER_WORDS_RE,
    find_phone,
    parse_thai_number,
)
from shop.text import thai_digits_to_arabic

log = logging.getLogger(__name__)

MAX_CHARS = 1000          # longer messages are cut: no customer writes more, and it bounds the time
ENCODER_THRESHOLD = 0.45  # below this cosine the encoder's nearest intent is not trusted
SHORT_TEXT_THRESHOLD = 0.7  # one- or two-syllable texts ("อืม", "ก") land near anything short
# The hints `understand(..., expecting=)` knows: what the bot has just asked the customer.
EXPECTING = ("quantity", "fulfilment", "shipping_name", "shipping_phone", "shipping_address",
             "confirm_order", "confirm_cancel", "product_choice")
_YES_NO_QUESTIONS = ("confirm_order", "confirm_cancel")


@dataclass
class Entities:
    product_query: str | None = None
    refers_to_previous: bool = False
    ordinal: int | None = None
    quantity: int | None = None
    players: int | None = None
    max_minutes: int | None = None
    age: int | None = None
    budget_max_satang: int | None = None
    budget_min_satang: int | None = None
    category: str | None = None
    phone: str | None = None
    fulfilment: str | None = None
    name: str | None = None
    address: str | None = None
    order_number: str | None = None


@dataclass
class Understanding:
    intent: Intent
    confidence: float
    entities: Entities = field(default_factory=Entities)


# ---------------------------------------------------------------- text clean-up and segmentation

_PARTICLES = ("ค่ะ", "คะ", "ค่า", "คับ", "ครับ", "ครับผม", "จ้า", "จ้ะ", "จ๊ะ", "นะ", "นะคะ", "นะครับ",
              "น้า", "ค้าบ", "ค๊ะ", "คร้าบ", "เนอะ", "ด้วย", "หน่อย", "ฮะ", "งับ")
_PARTICLE_TAIL_RE = re.compile(rf"(?:\s*(?:{'|'.join(sorted(_PARTICLES, key=len, reverse=True))}))+\s*$")


_CHAT_ENGLISH = {"u": "you", "r": "are", "pls": "please", "plz": "please", "pls.": "please", "thx": "thanks",
                 "ty": "thanks", "wanna": "want to", "gonna": "going to"}
_CHAT_ENGLISH_RE = re.compile(rf"(?<![\w'])(?:{'|'.join(map(re.escape, _CHAT_ENGLISH))})(?![\w'])", re.IGNORECASE)


def clean(text: str) -> str:
    """NFC, Thai digits to Arabic, thousands commas gone, "1.5k" to 1500, repeated letters squeezed."""
    text = unicodedata.normalize("NFC", text[:MAX_CHARS])
    text = thai_digits_to_arabic(text)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"(\d+(?:\.\d+)?)\s?[kK]\b", lambda m: str(int(float(m.group(1)) * 1000)), text)
    text = re.sub(r"([^\d\s])\1{2,}", r"\1", text)          # ค่าาาา -> ค่า, ???? -> ?
    text = re.sub(r"[ \t\u200b\xa0]+", " ", text)
    text = _CHAT_ENGLISH_RE.sub(lambda m: _CHAT_ENGLISH[m.group().lower()], text)
    return "\n".join(line.strip() for line in text.strip().splitlines() if line.strip())


_EXTRA_WORDS = {
    "ตะกร้า", "ตระกร้า", "ออเดอร์", "แอดมิน", "เท่าไหร่", "เท่าไร", "กี่บาท", "ใส่ตะกร้า", "รถเข็น",
    "พร้อมเพย์", "สลิป", "คิวอาร์", "ปาร์ตี้", "ปาตี้", "บอร์ดเกม", "การ์ดเกม", "สต็อก", "สต็อค", "ชม.",
    "ไม่เอา", "เอาออก", "ขอบคุณ", "แนะนำ", "พร้อมส่ง", "ไรเดอร์", "เคอรี่", "ภาคเสริม", "มั้ย", "มั๊ย",
    "เลขพัสดุ", "คำสั่งซื้อ", "ชำระเงิน", "หยิบ", "ขวบ", "รึเปล่า", "รึป่าว", "หรือยัง", "รึยัง",
}


@lru_cache(maxsize=1)
def _tokenizer():
    from pythainlp.corpus import thai_words
    from pythainlp.tokenize import Tokenizer
    from pythainlp.util import dict_trie

    return Tokenizer(custom_dict=dict_trie(set(thai_words()) | _EXTRA_WORDS), engine="newmm",
                     keep_whitespace=False)


_UNITS = r"(?:กล่อง|ชิ้น|อัน|เกม|ชุด|คน|บาท|นาที|ชั่วโมง|ชม|ขวบ|ปี)"
_NUMBER_BEFORE_UNIT_RE = re.compile(rf"((?:{NUMBER_WORD})+)(?=\s?{_UNITS})")


_LEADING_VERB_RE = re.compile(r"(?:(?<=^)|(?<=\s))(เอา|ขอ(?!บ|โทษ|ง)|สั่ง|ซื้อ|ลบ)(?=[\u0e01-\u0e4e])")
_NUMBER_HEADS = ("ที่", "เป็น", "เหลือ", "อีก")


def tokens(text: str) -> list[str]:
    """Words of `text` (newmm), Thai number words turned into digits: "ยี่", "สิบเอ็ด" -> "21"."""
    out: list[str] = []
    pending = ""
    # An unknown product name glued to a number word ("สแปลนเดอสิบกล่อง") would swallow it.
    text = _NUMBER_BEFORE_UNIT_RE.sub(r" \1 ", text)
    # A command verb glued to a product name would form a dictionary word ("เอาชัยปุระ" -> "เอาชัย").
    text = _LEADING_VERB_RE.sub(r"\1 ", text)
    for token in _tokenizer().word_tokenize(text):
        token = token.strip()
        if not token:
            continue
        head = ""
        for prefix in _NUMBER_HEADS:       # "ที่สอง", "เป็นหนึ่ง": the tokenizer keeps them together
            if token.startswith(prefix) and NUMBER_WORDS_RE.fullmatch(token[len(prefix):] or "-"):
                head, token = prefix, token[len(prefix):]
                break
        if NUMBER_WORDS_RE.fullmatch(token) and not head:
            pending += token
            continue
        if pending:
            out.append(_number_token(pending))
            pending = ""
        if head:
            out.append(head)
            pending = token
            continue
        out.append(token)
    if pending:
        out.append(_number_token(pending))
    return out


def _number_token(words: str) -> str:
    value = parse_thai_number(words)
    return str(value) if value is not None else words


# ---------------------------------------------------------------- entities

_CLS = r"(?:กล่อง|ชิ้น|อัน|เกม|ชุด|ตัว|เซ็ต|เซต|แพ็ค|box|boxes|pcs|pc|pieces|copies|copy|sets?|ea|each|units?)"
_NOT_QTY_UNIT = r"(?!\s?(?:บาท|฿|baht|คน|นาที|ชั่วโมง|ชม|ขวบ|ปี|%|people|players|person|min|mins|minutes|hours?|hrs?|\d))"
_ORDINAL_WORDS = {"แรก": 1, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}
_ORDINAL_RE = re.compile(
    r"(?:(?:อัน|ตัว|เกม|ชิ้น|รายการ|ลำดับ|ข้อ|กล่อง)\s?ที่\s?(\d+)"
    r"|(?:อัน|ตัว|เกม|ชิ้น|รายการ)\s?(แรก)"
    r"|(?:the\s)?(first|second|third|fourth|fifth)(?:\s(?:one|game))?"
    r"|(?:no\.|#)\s?(\d+))"
)
_REFERS_RE = re.compile(r"(?:อัน|ตัว|เกม|ชิ้น|กล่อง|รายการ)\s?(?:นี้|นั้น|นั่น|เมื่อกี้|เมื่อกี๊|ข้างบน)"
                        r"|\bthis one\b|\bthat one\b|\bthis game\b|\bthat game\b")
_QUANTITY_RES = (
    re.compile(rf"(\d+)\s?{_CLS}(?!\s?ที่)"),
    re.compile(rf"(?:เป็น|เหลือ|แค่|อีก|ด้วย|to|buy|add|ขอ|เอา|สั่ง|จัด|ซื้อ|take|it)\s?(?:(?:ไป|มา|เลย|เพิ่ม)\s)?(\d+)"
               rf"{_NOT_QTY_UNIT}"),
)
_ONE_RE = re.compile(rf"{_CLS}\s?เดียว|อีก\s?{_CLS}(?!\s?\d)")
_PLAYERS_RE = re.compile(r"(\d+)(?:\s?-\s?(\d+))?\s?(?:คน|people|players|ppl|persons?)")
_DURATION_RES = (
    (re.compile(r"(\d+)\s?(?:ชั่วโมง|ชม\.?|hours?|hrs?)\s?ครึ่ง"), lambda m: int(m.group(1)) * 60 + 30),
    (re.compile(r"(\d+)\s?(?:ชั่วโมง|ชม\.?|hours?|hrs?)"), lambda m: int(m.group(1)) * 60),
    (re.compile(r"(\d+)\s?(?:นาที|min|mins|minutes)"), lambda m: int(m.group(1))),
    (re.compile(r"ครึ่ง\s?(?:ชั่วโมง|ชม)|half an hour"), lambda m: 30),
    (re.compile(r"(?:ชั่วโมง|ชม\.?)\s?(?:นึง|หนึ่ง|เดียว)|an hour|one hour"), lambda m: 60),
    (re.compile(r"(?:ชั่วโมง|ชม\.?)\s?ครึ่ง"), lambda m: 90),
    (re.compile(r"(?:ไม่\s?เกิน|ภายใน|under|within|less than|ไม่\s?ถึง)\s?(?:1\s)?(?:ชั่วโมง|ชม|an hour|hour)"),
     lambda m: 60),
)
_AGE_RES = (
    re.compile(r"(\d+)\s?(?:ขวบ|years? old|yo\b|y/o)"),
    re.compile(r"(?:อายุ|age|ages)\s?(\d+)"),
    re.compile(r"(?<![x×])(?<![x×] )(?<!\d)(\d{1,2})\s?\+"),   # "10+", not "x2 + go town x1"
)
_UNIT_AFTER = r"(?!\s?(?:คน|นาที|ชั่วโมง|ชม|ขวบ|ปี|กล่อง|ชิ้น|อัน|min|hour|people|players|\+|\d))"
_BUDGET_CUE = r"(?:งบ\s?ประมาณ|งบ|ไม่\s?เกิน|ต่ำ\s?กว่า|ไม่\s?ถึง|under|below|budget|less than|max|ราคา|ประมาณ)"
_BUDGET_RANGE_RE = re.compile(
    rf"(?:{_BUDGET_CUE}|ช่วง|between)\s?(?:ราคา\s?)?(\d+)\s?(?:บาท\s?)?(?:-|ถึง|to|and|–)\s?(\d+){_UNIT_AFTER}"
    r"|(\d+)\s?(?:-|ถึง|–)\s?(\d+)\s?(?:บาท|฿|baht)")
_BUDGET_MAX_RE = re.compile(rf"{_BUDGET_CUE}(?:\s?(?:ไม่\s?เกิน|ประมาณ|แค่|ที่))?\s?(\d+){_UNIT_AFTER}")
_BUDGET_MIN_RE = re.compile(r"(\d+)\s?(?:บาท|฿|baht)\s?(?:ขึ้นไป|up)|(?:ตั้งแต่|over|above|more than|at least)\s?(\d+)\s?(?:บาท|฿|baht)")

CATEGORIES: tuple[tuple[str, str], ...] = (
    (r"ปาร์ตี้|ปาตี้|ปาร์ตี|party|วงเหล้า", "ปาร์ตี้"),
    (r"ครอบครัว|family", "ครอบครัว"),
    (r"กลยุทธ|วางแผน|strategy|strategic", "กลยุทธ์"),
    (r"ร่วมมือ|co-?op|cooperative|ช่วยกันเล่น", "ร่วมมือ"),
    (r"การ์ดเกม|เกมการ์ด|เกมไพ่|card game", "การ์ดเกม"),
    (r"เล่นคนเดียว|solo", "เล่นคนเดียว"),
    (r"สืบสวน|นักสืบ|detective|investigation", "สืบสวน"),
    (r"บลัฟ|bluff|หลอกกัน", "บลัฟ"),
    (r"ภาคเสริม|expansion", "ภาคเสริม"),
    (r"เด็กเล็ก|อนุบาล|kids?\b|children|เกมเด็ก|สำหรับเด็ก|ให้เด็ก|เด็ก\s?\d", "เด็ก"),
)
_CATEGORY_RES = tuple((re.compile(pattern), name) for pattern, name in CATEGORIES)

_PICKUP_RE = re.compile(r"รับเอง|รับที่ร้าน|รับหน้าร้าน|มารับ(?:เอง|ที่ร้าน)|ไปรับ|รับของเอง|เข้าไปรับ|pick\s?up|self.?pick|^รับ$")
_DELIVERY_RE = re.compile(
    r"ส่ง(?:ของ)?(?:ไป|มา)?(?:ที่|ไปรษณี|ems|kerry|เคอรี่|flash|แฟลช|บ้าน|ด่วน|ของไป|พัสดุ)|จัดส่ง(?!แล้ว|รึ|หรือ|ยัง)"
    rf"|{CARRIERS}|\b{CARRIERS_EN}\b|ส่ง(?:ของ|สินค้า|พัสดุ)?(?:ไป)?{FAR_AWAY}|(?:ส่ง|จัดส่ง)(?:ของ|สินค้า)?ได้(?:ไหม|มั้ย|ป่ะ|ปะ|ป่าว|รึเปล่า|หรือเปล่า)"
    r"|deliver|delivery|ship\b|ship to|^ส่ง$")
_ORDER_NO_RE = re.compile(r"(?<![a-z0-9])sb[-_]?\d[a-z0-9-]*", re.IGNORECASE)
_ADDRESS_MARK_RE = re.compile(
    r"\d+/\d+|ถ\.|ถนน|ซ\.|ซอย|แขวง|เขต|ต\.|ตำบล|อ\.|อำเภอ|จ\.|จังหวัด|หมู่|ม\.\s?\d|คอนโด|หมู่บ้าน|ห้อง|"
    r"อาคาร|ตึก|บ้านเลขที่|กทม|กรุงเทพ|(?<!\d)\d{5}(?!\d)")
_NAME_RE = re.compile(r"(?:ชื่อ(?:ผู้รับ|ลูกค้า|จริง)?|ผู้รับ|คนรับ)\s?[:：]?\s?([^\n\d:]+?)(?=\s?(?:เบอร์|โทร|ที่อยู่|tel|phone|\d|\n|$))",
                      re.IGNORECASE)
_ADDRESS_RE = re.compile(r"(?:ที่อยู่(?:จัดส่ง)?|address)\s?[:：]?\s?(.+?)(?=\s?(?:เบอร์|โทร|ชื่อ|\n|$))", re.IGNORECASE)
_SEND_TO_RE = re.compile(r"ส่ง(?:ไป|มา)?ที่\s?(.+)$")
_LABEL_RE = re.compile(r"^(?:ชื่อ(?:ผู้รับ|ลูกค้า)?|ผู้รับ|คนรับ|ที่อยู่(?:จัดส่ง)?|เบอร์(?:โทร)?|โทร|name|address|tel|phone)\s?[:：]?\s?",
                       re.IGNORECASE)


def _strip_particles(text: str) -> str:
    return _PARTICLE_TAIL_RE.sub("", text).strip(" :,")


def _first_int(match: re.Match[str]) -> int:
    return int(next(group for group in match.groups() if group))


def _shipping_block(cased: str, ent: Entities) -> None:
    """A pasted block: lines of name, phone, address in any order."""
    lines = cased.splitlines()
    if len(lines) < 2:
        return
    rest: list[str] = []
    for line in lines:
        body = _LABEL_RE.sub("", line).strip()
        if find_phone(line) and len(re.sub(r"\D", "", line)) <= 12:
            continue
        if ent.name is None and not re.search(r"\d", body) and not _ADDRESS_MARK_RE.search(body) and not rest:
            ent.name = _strip_particles(body)
        else:
            rest.append(body)
    if rest:
        ent.address = _strip_particles(" ".join(rest))


def extract_entities(cased: str, expecting: str | None) -> tuple[Entities, str, list[str], tuple[str, ...]]:
    """Entities from the cleaned text; the text with phone/order numbers masked; its words; and the
    names of fields that were only guessed from `expecting` (kept only if the message is shipping details)."""
    ent = Entities()
    low = cased.lower()
    found = find_phone(cased)
    if found:
        ent.phone = found[0]
        start, end = found[1]
        low = low[:start] + " " + low[end:]
    order = _ORDER_NO_RE.search(low)
    if order:
        ent.order_number = order.group().upper()
        low = low[: order.start()] + " " + low[order.end():]

    words = tokens(low)
    nv = " ".join(words)

    ordinal = _ORDINAL_RE.search(nv)
    if ordinal:
        raw = next(group for group in ordinal.groups() if group)
        ent.ordinal = int(raw) if raw.isdigit() else _ORDINAL_WORDS[raw]
        ent.refers_to_previous = True
        nv = nv[: ordinal.start()] + " # " + nv[ordinal.end():]
    if _REFERS_RE.search(nv):
        ent.refers_to_previous = True

    players = _PLAYERS_RE.search(nv)
    if players:
        ent.players = max(int(g) for g in players.groups() if g)
    elif re.search(r"กับแฟน|คู่รัก|สองต่อสอง|for two|for a couple", nv.replace(" ", "")):
        ent.players = 2
    for pattern, minutes in _DURATION_RES:
        match = pattern.search(nv)
        if match:
            ent.max_minutes = minutes(match)
            break
    for pattern in _AGE_RES:
        match = pattern.search(nv)
        if match:
            ent.age = _first_int(match)
            break
    budget = _BUDGET_RANGE_RE.search(nv)
    if budget:
        low_b, high_b = sorted(int(g) for g in budget.groups() if g)
        ent.budget_min_satang, ent.budget_max_satang = low_b * 100, high_b * 100
    else:
        match = _BUDGET_MAX_RE.search(nv)
        if match:
            ent.budget_max_satang = int(match.group(1)) * 100
        match = _BUDGET_MIN_RE.search(nv)
        if match:
            ent.budget_min_satang = _first_int(match) * 100
    for pattern, name in _CATEGORY_RES:
        if pattern.search(nv) or pattern.search(nv.replace(" ", "")):
            ent.category = name
            break

    for pattern in _QUANTITY_RES:
        match = pattern.search(nv)
        if match:
            ent.quantity = int(match.group(1))
            break
    else:
        if _ONE_RE.search(nv):
            ent.quantity = 1
        elif expecting == "quantity":
            bare = re.fullmatch(r"(\d+)", _strip_particles(nv).replace(" ", ""))
            if bare:
                ent.quantity = int(bare.group(1))
    if ent.quantity is not None and not 0 < ent.quantity <= 999:
        ent.quantity = None

    compact = nv.replace(" ", "")
    if _PICKUP_RE.search(compact) or (expecting == "fulfilment" and re.match(r"^(?:รับ|มารับ)", compact)):
        ent.fulfilment = "pickup"
    elif _DELIVERY_RE.search(nv) or _DELIVERY_RE.search(compact) or (
            expecting == "fulfilment" and re.match(r"^(?:ส่ง|จัดส่ง)", compact)):
        ent.fulfilment = "delivery"

    guessed = _shipping_fields(cased, expecting, ent)
    return ent, nv, words, guessed


def _shipping_fields(cased: str, expecting: str | None, ent: Entities) -> tuple[str, ...]:
    _shipping_block(cased, ent)
    if ent.name is None:
        match = _NAME_RE.search(cased)
        if match and match.group(1).strip():
            ent.name = _strip_particles(match.group(1))
    if ent.address is None:
        match = _ADDRESS_RE.search(cased)
        if match:
            ent.address = _strip_particles(match.group(1))
        else:
            match = _SEND_TO_RE.search(cased.replace("\n", " "))
            if match and _ADDRESS_MARK_RE.search(match.group(1)):
                ent.address = _strip_particles(match.group(1))
    single = _strip_particles(_LABEL_RE.sub("", cased.replace("\n", " ")))
    if expecting == "shipping_name" and ent.name is None and single and looks_like_name(single):
        ent.name = single
        return ("name",)
    if expecting == "shipping_address" and ent.address is None and len(single) >= 8:
        ent.address = single
        return ("address",)
    return ()


_NOT_IN_NAMES = ("?", "ไหม", "มั้ย", "อะไร", "ยังไง", "อย่างไร", "เท่าไร", "เท่าไหร่", "คำสั่ง", "ลืม", "บอก",
                 "ช่วย", "ราคา", "ตะกร้า", "ยกเลิก", "prompt", "system", "ignore", "instruction")


def looks_like_name(text: str) -> bool:
    """A bare answer to "the recipient's name?": short, no digits, no question or instruction words."""
    text = text.strip()
    return (2 <= len(text) <= 80 and len(text.split()) <= 5 and not re.search(r"\d", text)
            and not any(word in text.lower() for word in _NOT_IN_NAMES))


# ---------------------------------------------------------------- product words

_FILLER = {
    # asking, wanting, cart and order words
    "มี", "ไหม", "มั้ย", "มั๊ย", "ไม", "หรือ", "เปล่า", "รึเปล่า", "รึป่าว", "ป่าว", "ป่ะ", "เอา", "ขอ", "ซื้อ",
    "สั่ง", "สั่งซื้อ", "ราคา", "เท่าไหร่", "เท่าไร", "เท่าไหร", "เท่า", "ไหร่", "กี่", "บาท", "ตัง", "ตังค์",
    "ขาย", "ของ", "ยัง", "อยู่", "เหลือ", "หมด", "แล้ว", "เหรอ", "สต็อก", "สต็อค", "สต๊อก", "ร้าน", "ใส่",
    "ตะกร้า", "ตระกร้า", "รถเข็น", "หยิบ", "ใส่ตะกร้า", "ลบ", "ออก", "เอาออก", "ออกจาก", "นำออก", "จาก", "ใน", "ให้", "หน่อย",
    "ด้วย", "ได้", "ไม่", "ไม่เอา", "เปลี่ยน", "เป็น", "แก้", "จำนวน", "ลด", "เพิ่ม", "อีก", "แค่", "พอ",
    "อยาก", "อยากได้", "สนใจ", "จัด", "มา", "ไป", "รับ", "จอง", "ไว้", "ก่อน", "ตัด", "ดู", "เช็ค",
    "รายละเอียด", "ข้อมูล", "เล่น", "ยาก", "ง่าย", "นาน", "แค่ไหน", "ใช้", "เวลา", "คน", "ยังไง", "อย่างไร",
    "กติกา", "คู่มือ", "ภาษา", "ไทย", "ภาษาไทย", "แปล", "เวอร์ชั่น", "เหมาะ", "กับ", "สำหรับ", "เด็ก",
    "ขวบ", "อายุ", "ถึง", "เกม", "บอร์ดเกม", "เกมส์", "คือ", "อะไร", "บ้าง", "แนว", "ไหน", "สูงสุด", "กล่อง",
    "ชิ้น", "อัน", "ชุด", "ตัว", "ที่", "นี้", "นั้น", "นั่น", "แรก", "เข้า", "เมื่อไหร่", "เมื่อไร", "แฟน",
    "ลดราคา", "ส่วนลด", "โปร", "ค่าส่ง", "แนะนำ", "สนุก", "ๆ", "กัน", "หลาย", "เพื่อน", "นาที", "ชั่วโมง",
    "ชม", "ชม.", "ไม่เกิน", "เกิน", "งบ", "หา", "ดี", "สุด", "ขายดี", "ซัก", "สัก", "คะ", "ค่ะ", "ครับ",
    "คับ", "จ้า", "นะ", "นะคะ", "ค่า", "จ๊ะ", "จ้ะ", "ค้าบ", "ฮะ", "แอดมิน", "พร้อมส่ง", "เอ่อ", "อ่ะ", "อะ",
    "ทั้งหมด", "หมดเลย", "ครึ่ง", "ขึ้นไป", "ประมาณ", "ทั้ง", "คนเดียว", "ของขวัญ", "ลูก", "หลาน", "เลย", "รายการ", "ครับผม", "คุณ", "หนู", "เรา", "ผม", "ฉัน", "ดิฉัน", "เค้า", "ค่าา",
    "ถ้า", "จะ", "มัน", "ทิ้ง", "please", "u", "sell", "รอ", "แรง", "ตอนนี้", "คล้าย", "คล้ายๆ", "แบบ", "like", "similar", "available", "delete", "easy", "hard", "learn", "are", "there", "ก็", "อยู่แล้ว", "รึ", "หรือยัง", "รึยัง", "ซื้อเลย", "ขอซื้อ", "ขอสั่ง",
    "เดียว", "ใหม่", "เวอร์ชัน", "version", "แวะ", "เอง", "each", "english", "thai", "japanese", "chinese",
    "อังกฤษ", "ภาษาอังกฤษ", "จีน", "ญี่ปุ่น", "or", "and", "แทน", "ดีกว่า", "จบ", "ก็ได้", "ถูกดี",  # not "edition": inside titles
    # time words ("รอมาเดือนนึงแล้ว"); not "วัน", which is inside titles ("เซเว่นวันเดอร์")
    "เดือน", "นึง", "อาทิตย์", "สัปดาห์", "เมื่อวาน", "เมื่อวานซืน", "พรุ่งนี้", "วันนี้", "ตอนเย็น", "ตอนเช้า",
    "ตอน", "เย็น", "เช้า", "คืนนี้",
    # delivery-fee and deciding words ("ค่าจัดส่งกี่บาท", "ส่งฟรีไหม", "ตัดสินใจแล้ว")
    "จัดส่ง", "ค่าจัดส่ง", "ขนส่ง", "ค่าขนส่ง", "ส่ง", "ฟรี", "ส่งฟรี", "ตัดสินใจ", "อันดับ",
    # who the game is for ("ลูกชาย 7 ขวบเล่นได้ไหม")
    "ลูกชาย", "ลูกสาว", "พ่อ", "แม่", "คุณพ่อ", "คุณแม่", "ผู้ใหญ่", "น้อง", "พี่", "ปู่", "ย่า", "ยาย", "สามี",
    "ภรรยา", "วัยรุ่น", "นักเรียน", "ผู้สูงอายุ", "เด็กๆ",
    # English
    "do", "you", "have", "has", "is", "the", "a", "an", "of", "how", "much", "price", "for", "i", "want",
    "to", "buy", "add", "cart", "remove", "from", "my", "in", "stock", "what", "any", "it", "this",
    "that", "one", "game", "games", "box", "size", "rules", "details", "order", "with", "me", "can", "get",
    "?", "!", ".", ",", "#", "-", ":", "/", "(", ")", "~", "'", '"',
}
_NAME_SYLLABLES = {"อัน"}  # classifier words that also open transliterated titles ("อันล็อค" = Unlock!)
_KEEP_INSIDE = {"to", "of", "the", "and", "&", "-", ":"}  # "ticket to ride", "lord of the rings"
_PRODUCT_INTENTS = {Intent.PRODUCT_QUESTION, Intent.PRICE, Intent.AVAILABILITY, Intent.ADD_TO_CART,
                    Intent.CHANGE_CART, Intent.REMOVE_FROM_CART, Intent.RECOMMENDATION}


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from pythainlp.corpus import thai_stopwords

    return frozenset(thai_stopwords())


@lru_cache(maxsize=4096)
def _is_filler(word: str) -> bool:
    """Intent, number, category or particle word, or a compound of them ("ยังมี", "เวลาเล่น")."""
    if word in _FILLER or word.isdigit() or NUMBER_WORDS_RE.fullmatch(word) is not None \
            or any(pattern.fullmatch(word) for pattern, _ in _CATEGORY_RES):
        return True
    return any(word[:cut] in _FILLER and _is_filler(word[cut:]) for cut in range(1, len(word)))


@lru_cache(maxsize=1)
def _dictionary() -> frozenset[str]:
    from pythainlp.corpus import thai_words

    return frozenset(thai_words())


def is_ordinary_word(text: str) -> bool:
    """Words left over after the request words that are one everyday word ("บ้าน", "ขอบคุณ", "please"),
    or request words only: never looked up as a product name."""
    compact = re.sub(r"\s+", "", text or "").lower()
    if len(compact) < 3:
        return True
    words = [w for w in tokens(compact) if w.strip()]
    content = [w for w in words if not (_is_filler(w) or _is_weak(w))]
    return not content or (len(content) == 1 and content[0] in _dictionary())


def _is_weak(word: str) -> bool:
    """Function words (pythainlp stop words, "of", "to"): inside a title ("เกมต่อรถไฟ") but never at its ends."""
    return word in _stopwords() or word in _KEEP_INSIDE


def product_query(words: list[str]) -> str | None:
    """The longest run of words that are not intent, number, category or particle words."""
    runs: list[list[str]] = []
    current: list[str] = []
    for index, word in enumerate(words):
        nxt = words[index + 1] if index + 1 < len(words) else ""
        after = words[index + 2] if index + 2 < len(words) else ""
        if word in _NAME_SYLLABLES and not current and re.match(r"[\u0e01-\u0e2e]", nxt) \
                and not (_is_filler(nxt) or _is_weak(nxt)):
            current.append(word)       # "อันล็อค": a transliteration split at a classifier word
            continue
        if word == "เกม" and not current and re.match(r"[\u0e00-\u0e7f]", nxt) and (
                not (_is_filler(nxt) or _is_weak(nxt)) or (_is_weak(nxt) and after and not _is_filler(after))):
            current.append(word)       # "เกมค้าเพชร", "เกมต่อรถไฟ": "เกม" is part of the Thai title
            continue
        if not (_is_filler(word) or _is_weak(word)):
            current.append(word)
            continue
        if current and _is_weak(word) and not _is_filler(word) or (current and word in _KEEP_INSIDE):
            if nxt and not (_is_filler(nxt) or _is_weak(nxt)):
                current.append(word)
                continue
        if current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    runs = [run for run in runs if any(re.search(r"[a-z\u0e01-\u0e2e]", w) for w in run)]
    if not runs:
        return None
    best = max(runs, key=lambda run: sum(len(w) for w in run))
    text = ""
    for word in best:
        if text and (re.match(r"[a-z0-9]", word) or re.search(r"[a-z0-9]$", text)):
            text += " "
        text += word
    return text if len(text) >= 2 else None


# ---------------------------------------------------------------- the decision

_CONFIRM_EMOJI = re.compile(r"^[\s👍👌✅🙏💯❤️😊🥰]+$")
_DENY_EMOJI = re.compile(r"^[\s👎❌🙅✖️]+$")
_QUESTION_RE = re.compile(r"(?:ไหม|มั้ย|มั๊ย|ป่ะ|ปะ|รึเปล่า|หรือเปล่า|ยังไง|อย่างไร|อะไร|กี่|เท่าไ|ไหน|เมื่อไ|หรอ|เหรอ"
                          r"|\?)(?:คะ|ค่ะ|ครับ|คับ|จ้า|นะ|อ่ะ|อะ)*(?:\?)?$|กี่|^ขอถาม|^ถาม|^สอบถาม")
_BUYING_RE = re.compile(r"ใส่ตะกร้า|ลงตะกร้า|ขอซื้อ|ขอสั่ง|สั่งซื้อ|^เอา|^ซื้อ|^สั่ง|จอง|add|buy|take")
_YES_NO_END_RE = re.compile(r"(?:ไหม|มั้ย|มั๊ย|ป่ะ|ปะ|ป่าว|รึเปล่า|หรือเปล่า|รึป่าว|เปล่า|\?)"
                            r"(?:คะ|ค่ะ|ครับ|คับ|จ้า|นะ|อ่ะ|อะ|\?)*$")
# Rules that mean the customer is choosing among games (or buying), not asking about the one named.
_ASKING_FOR_GAMES = {Intent.RECOMMENDATION, Intent.AVAILABILITY, Intent.PRICE, Intent.ADD_TO_CART,
                     Intent.CHANGE_CART, Intent.REMOVE_FROM_CART}
_RECOMMEND_FIELDS = ("players", "max_minutes", "age", "budget_max_satang", "budget_min_satang", "category")


def understand(text: str, *, expecting: str | None = None, encoder: bool = True) -> Understanding:
    """Read one customer message. Never raises: anything unreadable is UNKNOWN with confidence 0."""
    if expecting not in EXPECTING:
        expecting = None   # an unknown hint is ignored rather than guessed at
    try:
        return _understand(text if isinstance(text, str) else "", expecting, encoder)
    except Exception:  # a bug here must not silence the shop: log it and let the dialogue ask again
        log.exception("offline NLU failed on a message of %d chars", len(text) if isinstance(text, str) else -1)
        return Understanding(Intent.UNKNOWN, 0.0, Entities())


def _understand(text: str, expecting: str | None, encoder: bool = True) -> Understanding:
    cased = clean(text)
    if not cased:
        return Understanding(Intent.UNKNOWN, 0.0, Entities())
    if expecting in _YES_NO_QUESTIONS and _CONFIRM_EMOJI.match(cased):
        return Understanding(Intent.CONFIRM, 0.9, Entities())
    if expecting in _YES_NO_QUESTIONS and _DENY_EMOJI.match(cased):
        return Understanding(Intent.DENY, 0.9, Entities())
    if not re.search(r"[0-9a-zA-Z\u0e00-\u0e7f]", cased):
        return Understanding(Intent.UNKNOWN, 0.0, Entities())

    ent, nv, words, guessed = extract_entities(cased, expecting)
    compact = nv.replace(" ", "")
    negated: dict[Intent, float] = {}
    scores = rule_scores(compact, nv, negated)
    if not scores and cased.isascii() and re.fullmatch(r"[\x21-\x7e]+", cased):
        converted = _wrong_keyboard(cased)
        if converted:
            return converted
    scores.update(fuzzy_scores(compact, scores))
    named = product_query(words)
    _adjust(scores, ent, expecting, compact, negated, named)

    if scores:
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        best, top = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        if top - second < 0.5 and len(ranked) > 1:
            tied = [intent for intent, score in ranked if top - score < 0.5]
            best = _tie_break(cased, tied) if encoder else tied[0]
        confidence = round(min(0.95, 0.55 + 0.08 * top + 0.05 * (top - second)), 2)
    else:
        best, similarity = _encoder_guess(cased) if encoder else (Intent.UNKNOWN, 0.0)
        confidence = round(similarity, 2)
        letters = len(re.findall(r"[a-zA-Z\u0e01-\u0e2e]", cased))
        if similarity < (SHORT_TEXT_THRESHOLD if letters < 4 else ENCODER_THRESHOLD):
            best, confidence = Intent.UNKNOWN, round(similarity, 2)

    if best in _PRODUCT_INTENTS:
        ent.product_query = named
    if best is not Intent.SHIPPING_DETAILS:
        for name in guessed:               # "ค่าส่งเท่าไหร่คะ" is a question, not an address
            setattr(ent, name, None)
    return Understanding(best, max(0.0, confidence), ent)


def _adjust(scores: dict[Intent, float], ent: Entities, expecting: str | None, compact: str,
            negated: dict[Intent, float] | None = None, named: str | None = None) -> None:
    """Entities, negated requests and the dialogue's question tip the balance."""
    def add(intent: Intent, weight: float) -> None:
        scores[intent] = scores.get(intent, 0.0) + weight

    criteria = any(getattr(ent, name) is not None for name in _RECOMMEND_FIELDS)
    if criteria and named and _YES_NO_END_RE.search(compact) and not (set(scores) & _ASKING_FOR_GAMES):
        # "อาซูลเล่นกับเด็ก 6 ขวบได้ไหม": a yes/no question about one named game, not a search
        add(Intent.PRODUCT_QUESTION, 3.5)
    if criteria:
        add(Intent.RECOMMENDATION, 3.0 if Intent.PRODUCT_QUESTION not in scores else 1.0)
    if ent.phone or ent.name or ent.address:
        add(Intent.SHIPPING_DETAILS, 3.0)
    if ent.fulfilment:
        add(Intent.SHIPPING_DETAILS, 1.0)
    if ent.order_number:
        add(Intent.ORDER_STATUS, 1.0)
    question = _QUESTION_RE.search(compact) is not None
    buying = _BUYING_RE.search(compact) is not None
    if (ent.quantity or ent.refers_to_previous) and Intent.CHANGE_CART not in scores \
            and Intent.REMOVE_FROM_CART not in scores \
            and (Intent.ADD_TO_CART in scores or not scores) and (buying or not question):
        add(Intent.ADD_TO_CART, 1.0)
    if question and not buying and Intent.ADD_TO_CART in scores:
        scores[Intent.ADD_TO_CART] -= 1.5     # "ขอถาม...", "เกมนี้...ไหม": asking, not buying
    if question and ent.refers_to_previous and not scores:
        add(Intent.PRODUCT_QUESTION, 2.0)     # any other question about a game just shown
    strongest_other = max((s for i, s in scores.items() if i not in (Intent.CONFIRM, Intent.DENY)), default=0.0)
    if strongest_other >= 2.5 and expecting not in _YES_NO_QUESTIONS:
        for intent in (Intent.CONFIRM, Intent.DENY):
            if intent in scores:
                scores[intent] -= 2.0
    refused = max((weight for intent, weight in (negated or {}).items()
                   if intent in NEGATABLE and intent is not Intent.CHECKOUT), default=0.0)
    if refused:
        add(Intent.DENY, min(refused, 3.0))   # "ไม่ยกเลิกแล้ว", "ไม่สนใจค่ะ": a no to that request
    if expecting == "confirm_cancel" and Intent.CANCEL in scores:
        add(Intent.CONFIRM, scores.pop(Intent.CANCEL))  # asked "cancel it?": "ยกเลิกเลยค่ะ" is a yes

    top = max(scores.values(), default=0.0)
    if expecting == "quantity" and ent.quantity and top < 3:
        add(Intent.ADD_TO_CART, 3.0)
    elif expecting == "product_choice" and (ent.ordinal or ent.refers_to_previous) and top < 3:
        add(Intent.ADD_TO_CART, 3.0)
    elif expecting == "fulfilment" and ent.fulfilment:
        add(Intent.SHIPPING_DETAILS, 3.0)
    elif expecting == "shipping_phone" and ent.phone:
        add(Intent.SHIPPING_DETAILS, 3.0)
    elif expecting in ("shipping_name", "shipping_address") and (ent.name or ent.address) and top < 3:
        add(Intent.SHIPPING_DETAILS, 3.0)
    elif expecting in _YES_NO_QUESTIONS:
        for intent in (Intent.CONFIRM, Intent.DENY):
            if intent in scores:
                add(intent, 2.0)
    for intent in [i for i, s in scores.items() if s <= 0]:
        del scores[intent]


def _tie_break(text: str, candidates: list[Intent]) -> Intent:
    try:
        from agent.offline.encoder import intent_similarities

        sims = intent_similarities(text)
    except Exception:  # encoder unavailable: keep the rule order
        log.exception("sentence encoder unavailable for a tie-break")
        return candidates[0]
    return max(candidates, key=lambda intent: sims.get(intent, -1.0))


def _encoder_guess(text: str) -> tuple[Intent, float]:
    try:
        from agent.offline.encoder import nearest_intent

        return nearest_intent(text)
    except Exception:
        log.exception("sentence encoder unavailable")
        return Intent.UNKNOWN, 0.0


def _wrong_keyboard(text: str) -> Understanding | None:
    """Thai typed on an English layout ("l;ylfu" = "สวัสดี"): read it again if that makes sense."""
    from pythainlp.util import eng_to_thai

    thai = eng_to_thai(text)
    if thai == text:
        return None
    ent, nv, _, _ = extract_entities(clean(thai), None)
    compact = nv.replace(" ", "")
    scores = rule_scores(compact, nv)
    if not scores:
        return None
    best = max(scores, key=scores.__getitem__)
    return Understanding(best, 0.6, ent)


def warm_up(encoder: bool = True) -> None:
    """Build the word dictionary (and load the sentence encoder) before the first message arrives."""
    understand("สวัสดีค่ะ มี splendor ไหม 2 กล่อง")
    if encoder:
        from agent.offline.encoder import warm_up as warm_encoder

        warm_encoder()
