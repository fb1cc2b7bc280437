"""Name scorers: rapidfuzz over names and aliases (Latin, Thai, folded Thai, sound keys), windows of
long requests, and per-owner maxima."""
from __future__ import annotations

import numpy as np
from rapidfuzz import fuzz, process

from shop.search.index import SearchIndex
from shop.text import fold_thai, has_latin, has_thai, romanize_thai, sound_key


def _max_by_owner(size: int, scores: np.ndarray, owners: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    out = np.zeros(size, dtype=np.float32) if out is None else out
    if len(owners):
        np.maximum.at(out, owners, scores.astype(np.float32))
    return out


def _split_scripts(text: str) -> tuple[str, str]:
    """(Latin-and-digit part, Thai part) of a mixed query."""
    latin = " ".join(w for w in text.split() if not has_thai(w))
    thai = "".join(w for w in text.split() if has_thai(w))
    return latin, thai


def _fuzzy(query: str, keys: list[str], key_lengths: np.ndarray) -> np.ndarray:
    """0..100 per key. A key at least as long as (most of) the query may match partly (the customer typed
    part of a name: WRatio). A key much shorter than the query must be found in it and is scaled by how
    much of the query it covers, so a two-letter alias inside a long sentence does not win."""
    if not keys:
        return np.zeros(0, dtype=np.float32)
    if len(query) <= 2 and not has_thai(query):  # "ok" is inside "book": two letters must match a whole key
        return process.cdist([query], keys, scorer=fuzz.ratio, workers=1)[0]
    # Mostly WRatio; a little plain ratio so that, of two partial matches, the one of the same length wins
    # ("kign of tokyo" is King of Tokyo before "King of Tokyo: Power Up").
    plain = process.cdist([query], keys, scorer=fuzz.ratio, workers=1)[0]
    whole = 0.9 * process.cdist([query], keys, scorer=fuzz.WRatio, workers=1)[0] + 0.1 * plain
    short = key_lengths < 0.8 * len(query)
    if not short.any():
        return whole
    partial = process.cdist([query], keys, scorer=fuzz.partial_ratio, workers=1)[0]
    coverage = 0.55 + 0.45 * key_lengths / max(len(query), 1)
    return np.where(short, np.maximum(plain, partial * coverage), whole)


def window_scores(size: int, windows: list[str], key_sets, cutoff: float = 70) -> np.ndarray:
    """Best plain ratio of any window against any key, per document (one batched cdist per key set)."""
    out = np.zeros(size, dtype=np.float32)
    for keys, owners, transform in key_sets:
        queries = [transform(w.replace(" ", "")) if transform else (w.replace(" ", "") if has_thai(w) else w)
                   for w in windows]
        queries = [q for q in queries if len(q) >= 3]
        if not queries or not len(keys):
            continue
        matrix = process.cdist(queries, keys, scorer=fuzz.ratio, workers=1, score_cutoff=cutoff)
        _max_by_owner(size, matrix.max(axis=0), owners, out)
    return out


def _sound_scores(skeleton: str, keys: list[str]) -> np.ndarray:
    """Similarity of consonant skeletons. They are coarse (สเปลนเดอร์ -> spnt, Splendor -> splnt), so only a
    near match counts, and a skeleton of three letters or fewer must match exactly."""
    if len(skeleton) < 3 or not keys:
        return np.zeros(len(keys), dtype=np.float32)
    cutoff = 100 if len(skeleton) <= 3 else 88
    return process.cdist([skeleton], keys, scorer=fuzz.ratio, workers=1, score_cutoff=cutoff)[0]


def product_name_scores(index: SearchIndex, text: str, sound: bool = True) -> np.ndarray:
    size = len(index.products)
    out = np.zeros(size, dtype=np.float32)
    if len(text.replace(" ", "")) < 2:
        return out
    latin, thai = _split_scripts(text)
    if has_latin(text) or (not has_thai(text) and text):
        query = latin if has_thai(text) else text
        if query:
            _max_by_owner(size, _fuzzy(query, index.p_latin, index.p_latin_len), index.p_latin_owner, out)
    if has_thai(text):
        compact = text.replace(" ", "")
        for query in {compact, thai}:
            if len(query) < 2:
                continue
            _max_by_owner(size, _fuzzy(query, index.p_thai, index.p_thai_len), index.p_thai_owner, out)
            folded = fold_thai(query)
            _max_by_owner(size, _fuzzy(folded, index.p_fold, index.p_fold_len) * 0.97, index.p_fold_owner, out)
        if sound:
            skeleton = sound_key(romanize_thai(thai))
            _max_by_owner(size, 0.9 * _sound_scores(skeleton, index.p_sound), index.p_sound_owner, out)
    return out


def game_name_scores(index: SearchIndex, text: str, cutoff: float = 60, sound: bool = True) -> np.ndarray:
    size = len(index.games)
    out = np.zeros(size, dtype=np.float32)
    if len(text.replace(" ", "")) < 2:
        return out
    latin, thai = _split_scripts(text)
    query = latin if has_thai(text) else text
    if query and has_latin(query):
        scores = process.cdist([query], index.g_latin, scorer=fuzz.ratio, workers=1, score_cutoff=cutoff)[0]
        scores *= index.g_latin_weight
        _max_by_owner(size, scores, index.g_latin_owner, out)
    if thai:
        if len(index.g_thai):
            scores = process.cdist([thai], index.g_thai, scorer=fuzz.WRatio, workers=1, score_cutoff=60)[0]
            _max_by_owner(size, scores, index.g_thai_owner, out)
        # A romanised consonant skeleton is coarse and 20k games share many: only a (near) exact skeleton
        # may name a game (คาทาน -> ktn -> Catan); popularity then breaks the tie.
        if sound:
            scores = _sound_scores(sound_key(romanize_thai(thai)), index.g_sound)
            _max_by_owner(size, scores * index.g_sound_weight * 0.85, index.g_sound_owner, out)
    return out


