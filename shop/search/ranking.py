"""`search`: name matches first; otherwise descriptive ranking with the sentence encoder and soft
preferences; hard filters; products above catalogue-only games."""
from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.models.catalog import Product
from shop.query import TAG_NAMES, WORD_TO_TAG, Intent, name_core, name_windows, read_intent, request_core
from shop.search.cache import get_index
from shop.search.hits import SearchFilters, SearchHit
from shop.search.index import Docs, SearchIndex
from shop.search.scorers import game_name_scores, product_name_scores, window_scores
from shop.text import fold_thai, has_latin, has_thai, normalize

MAX_LIMIT = 50
NAME_MATCH = 80.0             # a name score at least this good means the customer named a game
PRODUCT_FLOOR = 70.0
GAME_FLOOR = 80.0
WINDOW_TRIGGER_CHARS = 24     # longer request text is also matched a few words at a time


def search(session: Session, query: str, filters: SearchFilters | None = None, limit: int = 10) -> list[SearchHit]:
    """Products (then, if allowed, games the shop does not sell) best first. Never raises on odd text."""
    filters = filters or SearchFilters()
    limit = max(1, min(int(limit or 10), MAX_LIMIT))
    text = normalize(query if isinstance(query, str) else "")
    if not text and filters.empty:
        return []
    index = get_index(session)
    stock = dict(session.execute(select(Product.id, Product.stock)).all())
    p_stock = np.array([stock.get(pid, 0) for pid in index.products.ids], dtype=np.int64)
    p_ok = _filter_mask(index.products, filters, p_stock)
    use_games = filters.include_games and not filters.in_stock and filters.min_price_satang is None \
        and filters.max_price_satang is None
    g_ok = _filter_mask(index.games, filters, None) & ~index.game_sold if use_games else None

    if not text:
        p_score = np.where(p_ok, 0.5 + 0.5 * index.products.popularity + 0.01 * (p_stock > 0), -1.0)
        g_score = np.where(g_ok, index.games.popularity, -1.0) if g_ok is not None else None
        return _hits(index, p_score, g_score, p_stock, limit, p_floor=0.0, g_floor=0.0)

    tokens = index.tokens(text)
    core = request_core(tokens)
    names = name_core(tokens)
    intent = read_intent(text, tokens)
    if not core and intent.empty and filters.empty:
        return []  # only greetings and request words ("สวัสดีค่ะ", "มีไหม"): nothing was asked for
    sound = intent.empty  # sound-alike matching only for text that describes nothing (it is coarse)
    p_names = product_name_scores(index, names, sound) if names else np.zeros(len(index.products), dtype=np.float32)
    p_lex = p_names if names == core else np.maximum(p_names, product_name_scores(index, core, sound))
    best_named = float(p_names[p_ok].max()) if names and p_ok.any() else 0.0
    g_lex = None
    if g_ok is not None:
        g_names = game_name_scores(index, names, sound=sound) if names else np.zeros(len(index.games), dtype=np.float32)
        g_lex = g_names if names == core else np.maximum(g_names, game_name_scores(index, core, sound=sound))
        if names and g_ok.any():
            best_named = max(best_named, float(g_names[g_ok].max()))
    if len(core) > WINDOW_TRIGGER_CHARS:
        # A name inside a longer message: also match short runs of words as whole names, slightly discounted.
        windows = name_windows(tokens)
        p_window = 0.95 * window_scores(len(index.products), windows, (
            (index.p_latin, index.p_latin_owner, None), (index.p_thai, index.p_thai_owner, None),
            (index.p_fold, index.p_fold_owner, fold_thai)))
        p_lex = np.maximum(p_lex, p_window)
        best_named = max(best_named, float(p_window[p_ok].max()) if p_ok.any() else 0.0)
        latin_windows = [w for w in windows if has_latin(w) and not has_thai(w)]
        if g_lex is not None and latin_windows:
            g_window = 0.95 * window_scores(len(index.games), latin_windows,
                                             ((index.g_latin, index.g_latin_owner, None),), cutoff=85)
            g_lex = np.maximum(g_lex, g_window)
            best_named = max(best_named, float(g_window[g_ok].max()) if g_ok.any() else 0.0)

    if best_named >= NAME_MATCH:
        return _name_hits(index, p_lex, g_lex, p_ok, g_ok, p_stock, limit)
    return _described_hits(index, text, intent, p_lex, g_lex, p_ok, g_ok, p_stock, limit)


def _filter_mask(docs: Docs, filters: SearchFilters, stock: np.ndarray | None) -> np.ndarray:
    ok = np.ones(len(docs), dtype=bool)
    if filters.players is not None:
        ok &= (docs.min_players >= 0) & (docs.min_players <= filters.players) & (docs.max_players >= filters.players)
    if filters.max_minutes is not None:
        ok &= (docs.max_minutes > 0) & (docs.max_minutes <= filters.max_minutes)
    if filters.age is not None:
        ok &= (docs.min_age >= 0) & (docs.min_age <= filters.age)
    if filters.min_price_satang is not None:
        ok &= docs.price >= filters.min_price_satang
    if filters.max_price_satang is not None:
        ok &= (docs.price >= 0) & (docs.price <= filters.max_price_satang)
    if filters.category:
        ok &= _category_mask(docs, filters.category)
    if filters.in_stock:
        ok &= stock > 0 if stock is not None else False
    return ok


def _category_mask(docs: Docs, category: str) -> np.ndarray:
    word = normalize(category)
    tag = WORD_TO_TAG.get(word) or WORD_TO_TAG.get(word.replace("เกม", "")) or WORD_TO_TAG.get(word.replace(" game", ""))
    if tag is not None:
        bit = 1 << TAG_NAMES.index(tag)
        return (docs.tags & bit) != 0
    # An unknown word still works if the shop's own category text contains it; otherwise nothing matches.
    return np.array([bool(word) and word in normalize(c) for c in docs.categories], dtype=bool)


def _name_hits(index, p_lex, g_lex, p_ok, g_ok, p_stock, limit) -> list[SearchHit]:
    """The customer named a game: best name matches, products first, popular games break ties."""
    p_score = np.where(p_ok, p_lex + 2.0 * index.products.popularity, -1.0)
    best_p = float(p_score.max()) if len(p_score) else -1.0
    g_score = None
    p_floor = max(PRODUCT_FLOOR, best_p - 20.0)
    if g_lex is not None:
        g_score = np.where(g_ok, g_lex + 2.0 * index.games.popularity, -1.0)
        best_g = float(g_score.max()) if len(g_score) else -1.0
        # A product well below the best game name is only a vague resemblance ("คาทาน" is Catan, not
        # Splendor); a product that matches well (≥ 85) stays, products rank above games.
        p_floor = max(p_floor, min(best_g - 10.0, 85.0))
        g_floor = max(GAME_FLOOR, best_g - 10.0)
    else:
        g_floor = 0.0
    return _hits(index, p_score / 102.0, None if g_score is None else g_score / 102.0, p_stock, limit,
                 p_floor=p_floor / 102.0, g_floor=g_floor / 102.0)


def _described_hits(index, text, intent: Intent, p_lex, g_lex, p_ok, g_ok, p_stock, limit) -> list[SearchHit]:
    """No game was named: rank by meaning (sentence encoder) and by what the text asks for."""
    from shop.embeddings import encode_query

    index.ensure_embeddings()
    vector = encode_query(text)
    p_sem = index.product_vectors @ vector if len(index.product_vectors) else np.zeros(len(index.products))
    p_score = np.maximum(0.9 * _name_evidence(p_lex),
                         0.55 * p_sem + _preference(index.products, intent) + 0.1 * _name_evidence(p_lex)
                         + 0.05 * index.products.popularity)
    p_score = np.where(p_ok, p_score, -1.0)
    g_score = None
    if g_ok is not None:
        g_sem = np.full(len(index.games), -1.0, dtype=np.float32)
        if len(index.game_vectors):
            g_sem[index.game_vector_rows] = index.game_vectors @ vector
        g_score = np.maximum(0.85 * _name_evidence(g_lex),
                             0.55 * g_sem + _preference(index.games, intent) + 0.1 * _name_evidence(g_lex)
                             + 0.05 * index.games.popularity)
        g_score = np.where(g_ok & (g_sem > -1.0), g_score, -1.0)
    best = float(p_score.max()) if len(p_score) else 0.0
    p_floor = max(0.25, best - 0.3)
    g_floor = max(0.3, float(g_score.max()) - 0.1) if g_score is not None and len(g_score) else 0.0
    return _hits(index, p_score, g_score, p_stock, limit, p_floor=p_floor, g_floor=g_floor)


def _name_evidence(lex: np.ndarray) -> np.ndarray:
    """0..1 from a name score: below 60 is what unrelated strings score, so it counts for nothing."""
    return np.clip((lex - 60.0) / 40.0, 0.0, 1.0)


def _preference(docs: Docs, intent: Intent) -> np.ndarray:
    """Soft score 0..~0.45 for how well each document fits what the text asked for."""
    score = np.zeros(len(docs), dtype=np.float32)
    if intent.tags:
        hit = np.zeros(len(docs), dtype=np.float32)
        for tag in intent.tags:
            match = (docs.tags & (1 << TAG_NAMES.index(tag))) != 0
            if tag == "kids":  # a game young children can play counts as a kids' game
                match |= (docs.min_age >= 0) & (docs.min_age <= 6)
            hit += match
        score += 0.25 * hit / len(intent.tags)
    if intent.players:
        score += 0.12 * ((docs.min_players >= 0) & (docs.min_players <= intent.players) & (docs.max_players >= intent.players))
        if intent.players <= 2:  # "a game for two" / "to play alone": made for exactly that many players
            score += 0.05 * (docs.max_players == intent.players)
    if intent.many_players:
        score += 0.12 * (docs.max_players >= 6) + 0.04 * (docs.max_players >= 8)
    if intent.short:
        score += 0.08 * ((docs.max_minutes > 0) & (docs.max_minutes <= 30))
    if intent.long:
        score += 0.08 * (docs.max_minutes >= 90)
    if intent.cheap:
        score += 0.08 * ((docs.price > 0) & (docs.price <= 60000))
    if intent.budget_satang:
        score += 0.2 * ((docs.price > 0) & (docs.price <= intent.budget_satang))
    if intent.age:
        score += 0.12 * ((docs.min_age >= 0) & (docs.min_age <= intent.age) & (docs.min_age >= intent.age - 6))
    if intent.easy:
        score += 0.06 * ((docs.complexity > 0) & (docs.complexity <= 2.0))
    if intent.heavy:
        score += 0.06 * (docs.complexity >= 3.0)
    return score


def _hits(index: SearchIndex, p_score: np.ndarray, g_score: np.ndarray | None, p_stock: np.ndarray, limit: int,
          *, p_floor: float, g_floor: float) -> list[SearchHit]:
    hits: list[SearchHit] = []
    order = np.argsort(-p_score, kind="stable")[:limit]
    for row in order:
        if p_score[row] < max(p_floor, 0.0) or p_score[row] < 0:
            break
        hits.append(_hit(index.products, int(row), "product", float(p_score[row]), int(p_stock[row])))
    if g_score is not None and len(hits) < limit:
        take = limit - len(hits)
        top = np.argpartition(-g_score, min(take, len(g_score) - 1))[:take] if len(g_score) > take else np.arange(len(g_score))
        for row in sorted(top, key=lambda r: -g_score[r]):
            if g_score[row] < max(g_floor, 0.0) or g_score[row] < 0:
                break
            hits.append(_hit(index.games, int(row), "game", float(g_score[row]), 0))
    return hits


def _hit(docs: Docs, row: int, kind: str, score: float, stock: int) -> SearchHit:
    def known(array) -> int | None:
        value = int(array[row])
        return None if value < 0 else value

    is_product = kind == "product"
    return SearchHit(
        kind=kind, score=max(0.0, min(1.0, score)),
        sku=docs.skus[row], product_id=docs.ids[row] if is_product else None, game_id=docs.game_ids[row],
        name_en=docs.names_en[row], name_th=docs.names_th[row],
        price_satang=known(docs.price) if is_product else None,
        in_stock=is_product and stock > 0, stock=stock if is_product else 0,
        min_players=known(docs.min_players), max_players=known(docs.max_players),
        min_minutes=known(docs.min_minutes), max_minutes=known(docs.max_minutes), min_age=known(docs.min_age),
    )
