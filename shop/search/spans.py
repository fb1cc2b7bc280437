"""Span search: every product a message names, and where it names it.

`search()` answers "which product is this query?"; a chat message is not a query: it may name two or
three games among greetings, quantities and questions ("เอา coup 2 กล่อง กับ love letter 1 กล่องค่ะ"), or
none at all ("ส่งที่บ้านได้ไหม"). `find_mentions` segments the message with the search index's dictionary
(titles and aliases are words in it), scores every run of one to five words against the same name keys
the search uses (titles, aliases, BoardGameGeek names, a spelling-folded Thai key), and keeps the best
non-overlapping runs. An ordinary word is never turned into a product: a short run, or a single word
from the Thai dictionary, must match a title or an alias exactly; a longer run may differ by a typo.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process
from sqlalchemy.orm import Session

from shop.search.cache import get_index
from shop.search.index import SearchIndex
from shop.text import REQUEST_WORDS, fold_thai, has_thai, normalize

MAX_WINDOW_WORDS = 5
MAX_CHARS = 1000
EXACT_ONLY_BELOW = 5     # characters: a shorter run must match a key exactly ("ok", "uno")
TYPO_SCORE = 86.0        # rapidfuzz ratio 0..100 for a run that is a misspelt title or alias
TIE = 1.0                # products within this of the best score for one run are all candidates
# Runs never cross these: item separators in a list ("coup 2, skull 1", "- kariba\n- forest").
_BREAK = re.compile(r"[\n,;/+•·|*]|^-+$|^\s*[-–]\s*$")
_EDGE_WORDS = REQUEST_WORDS | {"กับ", "และ", "แล้วก็", "แล้ว", "ก็", "อีก", "ใส่", "ตะกร้า", "ลบ", "ออก", "เพิ่ม",
                               "เปลี่ยน", "แทน", "ส่ง", "จ่าย", "and", "with", "or", "of", "to", "for", "in"}


@dataclass(frozen=True)
class Mention:
    """Characters `start:end` of the text name the products `product_ids` (several: editions of one title)."""

    start: int
    end: int
    text: str
    score: float
    exact: bool
    product_ids: tuple[int, ...]


@dataclass
class _MentionKeys:
    exact: dict[str, set[int]]     # normalised key (Thai without spaces) -> product rows
    compact: list[str]             # every key without spaces, for "all the words are in the name"
    spaced: list[str]              # the same keys with their spaces
    compact_owner: list[int]
    name_words: list[set[str]]     # per product row: the words of its names (for "London กับ Tokyo")
    primary: set[str]              # keys that are a product's own title (not an alias)
    thai: list[str]
    thai_owner: np.ndarray
    folded: list[str]
    folded_owner: np.ndarray
    latin: list[str]
    latin_owner: np.ndarray


_keys_cache: dict[int, tuple[SearchIndex, _MentionKeys]] = {}


def _mention_keys(index: SearchIndex) -> _MentionKeys:
    cached = _keys_cache.get(id(index))
    if cached is not None and cached[0] is index:
        return cached[1]
    exact: dict[str, set[int]] = {}
    for keys, owners in ((index.p_thai, index.p_thai_owner), (index.p_latin, index.p_latin_owner)):
        for key, owner in zip(keys, owners.tolist(), strict=True):
            exact.setdefault(key, set()).add(owner)
    for key, owner in zip(index.p_fold, index.p_fold_owner.tolist(), strict=True):
        exact.setdefault("~" + key, set()).add(owner)
    compact, spaced, compact_owner = [], [], []
    for key_list, owners in ((index.p_thai, index.p_thai_owner), (index.p_latin, index.p_latin_owner)):
        for key, owner in zip(key_list, owners.tolist(), strict=True):
            compact.append(key.replace(" ", ""))
            spaced.append(key)
            compact_owner.append(owner)
    name_words = [{w for w in normalize(f"{en} {th}").split() if len(w) >= 3}
                  for en, th in zip(index.products.names_en, index.products.names_th, strict=True)]
    primary = {_key(name) for name in (*index.products.names_en, *index.products.names_th) if name}
    keys = _MentionKeys(exact, compact, spaced, compact_owner, name_words, primary, index.p_thai, index.p_thai_owner,
                        index.p_fold, index.p_fold_owner, index.p_latin, index.p_latin_owner)
    _keys_cache.clear()  # one live index per process
    _keys_cache[id(index)] = (index, keys)
    return keys


@lru_cache(maxsize=1)
def _dictionary_words() -> frozenset[str]:
    from pythainlp.corpus import thai_words

    return frozenset(thai_words())


def _words(index: SearchIndex, text: str) -> list[tuple[str, int, int]]:
    """(word, start, end) of every non-space word, offsets into `text`."""
    from pythainlp.tokenize import word_tokenize

    try:
        pieces = word_tokenize(text, custom_dict=index.dictionary, engine="newmm", keep_whitespace=True)
    except Exception:  # segmentation must never break a turn
        pieces = re.split(r"(\s+)", text)
    out, position = [], 0
    for piece in pieces:
        start = text.find(piece, position) if piece else position
        if start < 0:
            start = position
        position = start + len(piece)
        if piece.strip():
            out.append((piece, start, position))
    return out


def _key(text: str) -> str:
    norm = normalize(text)
    return norm.replace(" ", "") if has_thai(norm) else norm


def find_mentions(session: Session, text: str, related_ids: tuple[int, ...] = ()) -> list[Mention]:
    """Every product named in `text`, left to right. Never raises on odd text.

    `related_ids`: products already in the conversation (the cart, the cards shown); a bare word that
    only makes sense next to one of them ("ขอเปลี่ยนเป็นภาค Tokyo") is read as its sibling title.
    """
    text = (text if isinstance(text, str) else "")[:MAX_CHARS]
    if not text.strip():
        return []
    index = get_index(session)
    keys = _mention_keys(index)
    lowered = text.lower() if len(text.lower()) == len(text) else text
    words = _words(index, lowered)
    windows: list[tuple[int, int, str]] = []   # (first word, last word, key)
    for first in range(len(words)):
        if _BREAK.search(words[first][0]):
            continue
        for last in range(first, min(first + MAX_WINDOW_WORDS, len(words))):
            if last > first and (_BREAK.search(words[last][0]) or "\n" in lowered[words[last - 1][2]:words[last][1]]):
                break
            key = _key(lowered[words[first][1]:words[last][2]])
            if len(key) >= 2:
                windows.append((first, last, key))
    found: list[tuple[float, int, int, int, bool, tuple[int, ...]]] = []
    fuzzy: list[int] = []
    for n, (first, last, key) in enumerate(windows):
        rows = keys.exact.get(key) or (keys.exact.get("~" + fold_thai(key)) if has_thai(key) and len(key) >= 5
                                       else None)
        if rows and first == last and key not in keys.primary and _common_word(words[first][0]):
            rows = None   # an alias that is also an everyday word ("ป่า", "ฉลาม", "got") names nothing alone
        if rows:
            found.append((100.0, len(key), first, last, True, tuple(sorted(rows))))
        elif len(key) >= EXACT_ONLY_BELOW and not _ordinary(words, first, last):
            fuzzy.append(n)
            found.extend(_contained(keys, words, first, last, key))
    found += _fuzzy_matches(keys, [windows[n] for n in fuzzy])
    # Best first: a good match of more of the text before a perfect match of less of it
    # ("7 wonder duel" is 7 Wonders Duel, not the alias "7 wonder" plus a stray word).
    found.sort(key=lambda f: (-min(f[1], 40) * (f[0] / 100.0) ** 8, f[2]))
    taken: set[int] = set()
    chosen: list[tuple[int, int, float, bool, tuple[int, ...]]] = []
    for score, _chars, first, last, exact, rows in found:
        if taken & set(range(first, last + 1)):
            continue
        taken |= set(range(first, last + 1))
        chosen.append((first, last, score, exact, rows))
    chosen += _siblings(keys, words, taken, chosen, related_ids, index, lowered)
    mentions = []
    for first, last, score, exact, rows in chosen:
        start, end = words[first][1], words[last][2]
        mentions.append(Mention(start, end, text[start:end], round(score, 1), exact,
                                tuple(index.products.ids[row] for row in rows)))
    return sorted(mentions, key=lambda m: m.start)


def _contained(keys: _MentionKeys, words, first: int, last: int, key: str):
    """Every word of the run is inside one name that the run covers at least half of: "ภาคเสริมโอเชียเนีย"
    is Wingspan Oceania Expansion, "splendor 2024" the 2024 edition."""
    parts = [w[0].strip().lower() for w in words[first:last + 1] if w[0].strip()]
    if not parts or any(len(p) < 2 and not p.isdigit() for p in parts):
        return []
    owners: set[int] | None = None
    for part in parts:
        holding = _keys_holding(keys, part)
        owners = holding if owners is None else owners & holding
        if not owners:
            return []
    chars = len(key.replace(" ", ""))
    best: dict[int, float] = {}
    for k in owners:
        coverage = chars / max(len(keys.compact[k]), 1)
        if coverage >= 0.5:
            row = keys.compact_owner[k]
            best[row] = max(best.get(row, 0.0), 90.0 + 10.0 * min(coverage, 1.0))
    if not best:
        return []
    top = max(best.values())
    return [(top, chars, first, last, False, tuple(sorted(r for r, v in best.items() if v >= top - TIE)))]


def _keys_holding(keys: _MentionKeys, part: str) -> set[int]:
    cache = keys.__dict__.setdefault("_holding", {})
    if part not in cache:
        if len(cache) > 20000:
            cache.clear()
        if part.isdigit():   # a number is a whole number of the name: "2" is not inside "2024"
            cache[part] = {k for k, text in enumerate(keys.compact) if part in re.findall(r"\d+", text)}
        elif not has_thai(part):   # a Latin word is a whole word of the name: "i" is not inside "get bit"
            cache[part] = {k for k, text in enumerate(keys.spaced) if part in text.split()}
        else:
            cache[part] = {k for k, text in enumerate(keys.compact) if part in text}
    return cache[part]


_SIBLING_CUES = {"กับ", "และ", "หรือ", ",", "and", "or", "&", "ภาค", "แบบ", "เวอร์ชั่น", "เวอร์ชัน", "ฉบับ", "รุ่น",
                 "edition", "version", "เป็น", "อัน", "ตัว"}


def _siblings(keys: _MentionKeys, words, taken: set[int], chosen, related_ids, index: SearchIndex, text: str):
    """A bare word next to "กับ", "ภาค", "แบบ" that names a sibling of a product already in play:
    "Next Station London กับ Tokyo" is also Next Station: Tokyo (not King of Tokyo)."""
    anchors = {row for *_rest, rows in chosen for row in rows}
    if related_ids:
        position = {pid: row for row, pid in enumerate(index.products.ids)}
        anchors |= {position[pid] for pid in related_ids if pid in position}
    if not anchors:
        return []
    out = []
    for n, (word, _start, _end) in enumerate(words):
        part = word.strip().lower()
        if n in taken or len(part) < 3 or part in _EDGE_WORDS or (part.isdigit() and len(part) != 4):
            continue
        previous = next((w for w in reversed(words[:n]) if w[0].strip()), None)
        line_start = previous is None or "\n" in text[previous[2]:words[n][1]]
        if not line_start and previous[0].strip().lower() not in _SIBLING_CUES:
            continue
        holders = {keys.compact_owner[k] for k in _keys_holding(keys, part)}
        if not holders and len(part) >= 5:   # "พาวเวอร์อัพ" for "พาวเวอร์อัป": a typo inside the name
            near = process.cdist([part], keys.compact, scorer=fuzz.partial_ratio, workers=1, score_cutoff=88)[0]
            holders = {keys.compact_owner[int(k)] for k in np.nonzero(near)[0]}
        rows = {r for r in holders - anchors if any(len((keys.name_words[r] & keys.name_words[a]) - {part}) >= 1
                                                    for a in anchors)}
        if not rows:      # the sibling is itself among the cards shown ("งั้นเอาฉบับ 2024")
            rows = holders & anchors
        if 1 <= len(rows) <= 3:
            out.append((n, n, 90.0, False, tuple(sorted(rows))))
            taken.add(n)
    return out


_COMMON_ENGLISH = frozenset("got get book books box game games party set pack kit one two all the and cat dog fun "
                            "new old big small play card cards".split())


def _common_word(word: str) -> bool:
    word = word.strip().lower()
    return word in _COMMON_ENGLISH or word in _dictionary_words()


def _ordinary(words: list[tuple[str, int, int]], first: int, last: int) -> bool:
    """A run that starts or ends with a request word, or is one word of the Thai dictionary, may only
    name a product exactly ("บ้าน", "ขอบคุณ", "เอาเกม" never become a product by resemblance)."""
    edges = {words[first][0].strip().lower(), words[last][0].strip().lower()}
    if edges & _EDGE_WORDS:
        return True
    return first == last and words[first][0].strip() in _dictionary_words()


def _fuzzy_matches(keys: _MentionKeys, windows: list[tuple[int, int, str]]):
    """Typo-tolerant matches of the runs against the Thai, folded-Thai and Latin keys."""
    out = []
    thai = [w for w in windows if has_thai(w[2])]
    latin = [w for w in windows if not has_thai(w[2])]
    for group, key_sets in ((thai, ((keys.thai, keys.thai_owner, None, 1.0),
                                    (keys.folded, keys.folded_owner, fold_thai, 0.97))),
                            (latin, ((keys.latin, keys.latin_owner, None, 1.0),))):
        if not group:
            continue
        best: dict[int, dict[int, float]] = {}
        for key_list, owners, transform, weight in key_sets:
            if not key_list:
                continue
            queries = [transform(w[2]) if transform else w[2] for w in group]
            matrix = process.cdist(queries, key_list, scorer=fuzz.ratio, workers=1, score_cutoff=TYPO_SCORE / weight)
            for i, j in zip(*np.nonzero(matrix), strict=True):
                score = float(matrix[i, j]) * weight
                row = int(owners[j])
                if score > best.setdefault(int(i), {}).get(row, 0.0):
                    best[int(i)][row] = score
        for i, rows in best.items():
            top = max(rows.values())
            if top < TYPO_SCORE:
                continue
            first, last, key_text = group[i]
            out.append((top, len(key_text.replace(" ", "")), first, last, False,
                        tuple(sorted(r for r, s in rows.items() if s >= top - TIE))))
    return out
