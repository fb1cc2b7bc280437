"""Text normalisation for product search: one place that decides how a name or a query is compared.

Thai customers type names in Thai script, in Latin letters, in Thai transliteration of the English
name and with typos; these helpers reduce all of them to forms that rapidfuzz can compare.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_QUERY_CHARS = 200  # longer input is cut: no product name is longer, and matching stays fast

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def thai_digits_to_arabic(text: str) -> str:
    """'๐๘๑' -> '081'. (A translate table: this runs on every query, pythainlp's helper is slower.)"""
    return text.translate(_THAI_DIGITS)

# Keep letters (any script), digits, Thai combining marks and spaces; everything else becomes a space.
_JUNK = re.compile(r"[^\w\u0e00-\u0e7f ]+|_+")
_SPACES = re.compile(r"\s+")

# Thai tone marks, the silent-letter mark and other diacritics that customers often drop or misplace.
_THAI_MARKS = re.compile("[\u0e47-\u0e4e]")
# A consonant (with an optional vowel mark) followed by the silent mark ์ is not pronounced: drop both.
_SILENT = re.compile("[\u0e01-\u0e2e][\u0e34-\u0e39]?\u0e4c")
# Consonants that sound the same in loanword spelling; fold each group to one letter.
_THAI_FOLD = str.maketrans({
    "ข": "ค", "ฆ": "ค", "ก": "ค",
    "ฉ": "ช", "ฌ": "ช", "จ": "ช",
    "ศ": "ส", "ษ": "ส", "ซ": "ส",
    "ฎ": "ด",
    "ฏ": "ต", "ฐ": "ท", "ฑ": "ท", "ฒ": "ท", "ถ": "ท", "ธ": "ท",
    "ณ": "น",
    "ผ": "พ", "ภ": "พ",
    "ฝ": "ฟ",
    "ฬ": "ล", "ร": "ล",
    "ญ": "ย",
    "ฤ": "ล",
    "แ": "เ",
    "ั": "",
    "ะ": "",
})

# Words that wrap a product name in a short request ("มี splendor ไหม", "ราคา catan เท่าไหร่").
REQUEST_WORDS = frozenset("""
มี ไหม มั้ย มะ หรือเปล่า รึเปล่า ป่าว เปล่า ไม๊ ไม ราคา เท่าไหร่ เท่าไร กี่ บาท ขอ ขอดู อยาก ได้ อยากได้ ซื้อ
อยากซื้อ หา ช่วย ค่ะ คะ ครับ คับ ฮะ นะ จ้า จ้ะ ค่า คร้าบ หน่อย ด้วย เกม บอร์ดเกม เกมส์ ตัว กล่อง อัน ร้าน
ยัง ขาย สินค้า สต็อก ของ เหลือ รุ่น ไหน ที่ คือ เป็น อะไร แบบ สนใจ ภาษาไทย ไทย ภาษาอังกฤษ อังกฤษ เวอร์ชั่น
เวอร์ชัน ฉบับ แปลไทย do you have is there any price how much stock sell please want buy thai english version
game games board boardgame boardgames a an the สวัสดี หวัดดี ขอบคุณ ขอบใจ โอเค ok okay hello hi hey thanks thx
บ้าง อะไรบ้าง อะไร มั้ยคะ ไหมคะ หรือ เอา แอดมิน แอด
""".split())

# Latin letters that sound alike once an English name is written in Thai: fold to one letter each.
_LATIN_SOUND = [("ph", "p"), ("th", "t"), ("kh", "k"), ("ch", "c"), ("ck", "k"), ("qu", "kw"), ("x", "ks"),
                ("q", "k"), ("c", "k"), ("g", "k"), ("z", "s"), ("v", "w"), ("j", "c"), ("r", "l"), ("f", "p"),
                ("b", "p"), ("d", "t")]
_VOWELS = re.compile(r"[aeiouyh]")
_DOUBLE = re.compile(r"(.)\1+")


def normalize(text: str) -> str:
    """Lower-case, NFKC, Thai digits to Arabic, punctuation and emoji to spaces, length capped."""
    text = unicodedata.normalize("NFKC", text[: MAX_QUERY_CHARS * 4]).replace("\u0e4d\u0e32", "\u0e33")  # NFKC splits sara am
    text = thai_digits_to_arabic(text).casefold()
    text = _JUNK.sub(" ", text)
    return _SPACES.sub(" ", text).strip()[:MAX_QUERY_CHARS]


def fold_thai(text: str) -> str:
    """A spelling-tolerant Thai key: silent letters and tone marks dropped, sound-alike consonants merged.

    สเปลนเดอร์ and สเพลนเดอร, ปีกปักษา and ปีกปักสา fold to keys that differ by at most a letter.
    """
    text = _SILENT.sub("", text)
    text = _THAI_MARKS.sub("", text)
    return text.translate(_THAI_FOLD).replace(" ", "")


def has_thai(text: str) -> bool:
    return any("\u0e01" <= ch <= "\u0e5b" for ch in text)


def has_latin(text: str) -> bool:
    return any("a" <= ch <= "z" for ch in text)


def sound_key(latin: str) -> str:
    """A rough consonant skeleton of Latin text, so 'splendor' and a romanised 'sapenndoe' come close.

    Thai drops a final r and most vowels are written differently, so only consonants are kept.
    """
    text = re.sub(r"[^a-z]", "", latin.lower())
    text = re.sub(r"(er|or|ar|ur)$", "", text)
    for source, target in _LATIN_SOUND:
        text = text.replace(source, target)
    text = _VOWELS.sub("", text)
    return _DOUBLE.sub(r"\1", text)


@lru_cache(maxsize=4096)
def romanize_thai(text: str) -> str:
    """Romanise the Thai parts of `text` with the offline RTGS ('royin') engine; Latin parts are kept."""
    from pythainlp.transliterate import romanize

    parts = re.findall(r"[\u0e00-\u0e7f]+|[^\u0e00-\u0e7f]+", text)
    out = []
    for part in parts:
        if has_thai(part):
            try:
                out.append(romanize(part, engine="royin"))
            except Exception:  # a romaniser failure must never break a search
                out.append("")
        else:
            out.append(part)
    return "".join(out)
