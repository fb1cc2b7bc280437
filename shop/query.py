"""Reading a customer's search text: which words are request filler, which describe the kind of game.

"มี splendor ไหม" is a name wrapped in a question; "เกมปาร์ตี้เล่นกันหลายคน" names no game at all but
says *party* and *many players*. `read_query` separates the two so the search can match names on the
one hand and rank by description on the other.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from shop.text import REQUEST_WORDS

# tag -> (words customers use, the shop's Thai category word, BGG domain, BGG mechanic)
CATEGORY_TAGS: dict[str, tuple[tuple[str, ...], str | None, str | None, str | None]] = {
    "party": (("ปาร์ตี้", "ปาร์ตี้เกม", "party"), "ปาร์ตี้", "Party Games", None),
    "family": (("ครอบครัว", "family"), "ครอบครัว", "Family Games", None),
    "strategy": (("กลยุทธ์", "กลยุทธ", "วางแผน", "strategy", "strategic"), "กลยุทธ์", "Strategy Games", None),
    "kids": (("เด็ก", "เด็กๆ", "เกมเด็ก", "เด็กเล็ก", "ลูก", "หลาน", "kids", "kid", "children", "child"),
             "เด็ก", "Children's Games", None),
    "card": (("การ์ดเกม", "การ์ด", "card"), "การ์ดเกม", None, None),
    "expansion": (("ภาคเสริม", "expansion"), "ภาคเสริม", None, None),
    "book": (("หนังสือ", "gamebook", "book"), "หนังสือ", None, None),
    "investigation": (("สืบสวน", "นักสืบ", "ไขปริศนา", "detective", "investigation", "mystery"), "สืบสวน", None, None),
    "cooperative": (("ร่วมมือ", "ช่วยกัน", "coop", "co-op", "cooperative"), None, None, "Cooperative Game"),
    "bluff": (("บลัฟ", "หลอก", "โกหก", "bluff", "bluffing"), None, None, "Player Elimination"),
    "thematic": (("thematic",), None, "Thematic Games", None),
    "abstract": (("abstract",), None, "Abstract Games", None),
}
TAG_NAMES = tuple(CATEGORY_TAGS)
WORD_TO_TAG = {word: tag for tag, (words, *_rest) in CATEGORY_TAGS.items() for word in words}

# Words that describe rather than name; removed from the text used for name matching.
DESCRIPTIVE_WORDS = frozenset("""
เล่น กัน สนุก สนุกๆ แนะนำ เหมาะ เหมาะกับ สำหรับ เกี่ยวกับ ธีม แนว ประเภท ง่าย ง่ายๆ ยาก หนัก เบา สั้น เร็ว นาน
คน หลาย เยอะ เยอะๆ ใหญ่ กลุ่ม ก๊วน เพื่อน แฟน คู่ รัก ครอบครัว ปีใหม่ ไม่ ถูก แพง ราคาถูก ของขวัญ ให้ วัย อายุ ขวบ ปี
นาที ชั่วโมง ชม คนเดียว สองคน สามคน สี่คน ห้าคน ทั้ง บ้าน วง เล็ก น้อย มาก หรือ และ กับ with for players player
people friends family easy quick short long heavy light cheap fun recommend suggest good best big large
group groups small kid kids about themed theme play playing
หลายคน คนเยอะ คนเดียว เล่นได้ เล่นกัน เล่นง่าย มือใหม่ เด็กเล็ก เด็กโต วัยรุ่น ผู้ใหญ่ ผู้สูงอายุ ไม่แพง ไม่นาน
ช่วยกัน ร่วมกัน ชวน ที่บ้าน ปาร์ตี้ ตอน งาน สังสรรค์ ทีม ถูกๆ เกิน ไม่เกิน ต่ำกว่า งบ ประมาณ ราคาถูก ของขวัญ
""".split())

_PLAYERS = re.compile(r"(\d{1,2})\s*(?:คน|players?|people|ppl|p\b)")
_MANY = re.compile(r"หลายคน|คนเยอะ|เยอะๆ|กลุ่มใหญ่|ก๊วนใหญ่|many players|big group|large group|lots of people")
_TWO = re.compile(r"สองคน|2คน|เล่นกับแฟน|กับแฟน|คู่รัก|เล่นสองคน|two players?|for two|couples?")
_SOLO = re.compile(r"คนเดียว|เล่นเดี่ยว|solo|single player|one player")
_SHORT = re.compile(r"สั้น|เร็ว|ไม่นาน|แป๊บ|quick|short|fast")
_LONG = re.compile(r"นานๆ|ยาวๆ|เล่นนาน|ยาว|long|epic")
_CHEAP = re.compile(r"ถูก|ไม่แพง|ประหยัด|cheap|budget|inexpensive")
_BUDGET = re.compile(r"(?:ไม่เกิน|งบ(?:ประมาณ)?|ต่ำกว่า|ราคาไม่เกิน|under|below|less than|budget|max)\s*(\d[\d,]{1,6})")
_AGE = re.compile(r"(\d{1,2})\s*(?:ขวบ|ปี|years?|yo\b)")
_EASY = re.compile(r"ง่าย|มือใหม่|เริ่มต้น|easy|beginner|simple")
_HEAVY = re.compile(r"ยาก|หนัก|คิดเยอะ|heavy|complex|hard")


@dataclass(frozen=True)
class Intent:
    """What a descriptive query asks for. Every field is a soft preference, never a hard filter."""

    tags: frozenset[str] = field(default_factory=frozenset)
    players: int | None = None
    many_players: bool = False
    short: bool = False
    long: bool = False
    cheap: bool = False
    budget_satang: int | None = None
    age: int | None = None
    easy: bool = False
    heavy: bool = False

    @property
    def empty(self) -> bool:
        return not (self.tags or self.players or self.many_players or self.short or self.long or self.cheap
                    or self.budget_satang or self.age
                    or self.easy or self.heavy)


def read_intent(text: str, tokens: list[str]) -> Intent:
    tags = {WORD_TO_TAG[t] for t in tokens if t in WORD_TO_TAG}
    tags |= {tag for word, tag in WORD_TO_TAG.items() if " " in word and word in text}
    players = None
    match = _PLAYERS.search(text)
    if match:
        players = int(match.group(1)) or None
    elif _TWO.search(text):
        players = 2
    elif _SOLO.search(text):
        players = 1
    budget = _BUDGET.search(text)
    age = _AGE.search(text)
    return Intent(tags=frozenset(tags), players=players, many_players=bool(_MANY.search(text)),
                  budget_satang=int(budget.group(1).replace(",", "")) * 100 if budget else None,
                  age=int(age.group(1)) if age else None,
                  short=bool(_SHORT.search(text)), long=bool(_LONG.search(text)) and not _SHORT.search(text),
                  cheap=bool(_CHEAP.search(text)), easy=bool(_EASY.search(text)), heavy=bool(_HEAVY.search(text)))


def strip_words(tokens: list[str], drop: frozenset[str] | set[str]) -> str:
    """Join the tokens that are not in `drop` (Thai has no spaces between words; Latin keeps its spaces)."""
    kept = [t for t in tokens if t.strip() and t.strip() not in drop]
    out = ""
    for token in kept:
        if out and (token[0].isascii() or out[-1].isascii()):
            out += " "
        out += token
    return out.strip()


def request_core(tokens: list[str]) -> str:
    """The text left when request filler ("มี … ไหม", "ราคา … เท่าไหร่", "ค่ะ") is removed."""
    return strip_words(tokens, REQUEST_WORDS)


def name_core(tokens: list[str]) -> str:
    """The text left when request filler, description words and category words are removed."""
    return strip_words(tokens, REQUEST_WORDS | DESCRIPTIVE_WORDS | set(WORD_TO_TAG) | _quantities(tokens))


_UNITS = frozenset({"คน", "นาที", "ชั่วโมง", "ชม", "ขวบ", "ปี", "บาท", "players", "player", "people", "min", "minutes",
                    "years", "baht"})
_BUDGET_WORDS = frozenset({"ไม่เกิน", "งบ", "ต่ำกว่า", "under", "below", "budget", "max"})


def _quantities(tokens: list[str]) -> set[str]:
    """Bare numbers before คน/นาที/… are descriptions (players, minutes), not part of a name."""
    out = set()
    for i, token in enumerate(tokens[:-1]):
        following = tokens[i + 1].strip() or (tokens[i + 2].strip() if i + 2 < len(tokens) else "")
        if token.isdigit() and following in _UNITS:
            out.add(token)
        if token.strip() in _BUDGET_WORDS and following.replace(",", "").isdigit():
            out.add(following)
    return out


def name_windows(tokens: list[str], max_words: int = 16, max_windows: int = 30) -> list[str]:
    """Runs of one to three content words, longest first: where a name hides in a longer message."""
    words = [t for t in tokens if t.strip() and t.strip() not in REQUEST_WORDS and t.strip() not in DESCRIPTIVE_WORDS]
    words = words[:max_words]
    windows: list[str] = []
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            window = strip_words(words[start:start + size], frozenset())
            if len(window.replace(" ", "")) >= 3 and window not in windows:
                windows.append(window)
    return windows[:max_windows]
