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

from shop.search import SearchIndex, get_index
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
    keys = _MentionKeys(exact, index.p_thai, index.p_thai_owner, index.p_fold, index.p_fold_owner,
                        index.p_latin, index.p_latin_owner)
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


def find_mentions(session: Session, text: str) -> list[Mention]:
    """Every product named in `text`, left to right. Never raises on odd text."""
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
            if last > first and _BREAK.search(words[last][0]):
                break
            key = _key(lowered[words[first][1]:words[last][2]])
            if len(key) >= 2:
                windows.append((first, last, key))
    found: list[tuple[float, int, int, int, bool, tuple[int, ...]]] = []
    fuzzy: list[int] = []
    for n, (first, last, key) in enumerate(windows):
        rows = keys.exact.get(key) or (keys.exact.get("~" + fold_thai(key)) if has_thai(key) else None)
        if rows:
            found.append((100.0, last - first, first, last, True, tuple(sorted(rows))))
        elif len(key) >= EXACT_ONLY_BELOW and not _ordinary(words, first, last):
            fuzzy.append(n)
    found += _fuzzy_matches(keys, [windows[n] for n in fuzzy])
    # Best first; of equal scores, the run with more words ("ticket to ride" before "ride").
    found.sort(key=lambda f: (-f[0], -f[1], f[2]))
    taken: set[int] = set()
    mentions: list[Mention] = []
    for score, _size, first, last, exact, rows in found:
        if taken & set(range(first, last + 1)):
            continue
        taken |= set(range(first, last + 1))
        start, end = words[first][1], words[last][2]
        mentions.append(Mention(start, end, text[start:end], round(score, 1), exact,
                                tuple(index.products.ids[row] for row in rows)))
    return sorted(mentions, key=lambda m: m.start)


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
            first, last, _key_text = group[i]
            out.append((top, last - first, first, last, False,
                        tuple(sorted(r for r, s in rows.items() if s >= top - TIE))))
    return out
