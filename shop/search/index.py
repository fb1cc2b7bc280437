"""The search index: products, aliases and BoardGameGeek games as arrays of normalised keys,
facts and description embeddings, built once per catalogue version."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.models.catalog import Game, Product, ProductAlias
from shop.query import CATEGORY_TAGS, TAG_NAMES, WORD_TO_TAG
from shop.text import fold_thai, has_thai, normalize, romanize_thai, sound_key

GAMES_EMBEDDED = 2000         # the most-rated BGG games get description embeddings


@dataclass
class Docs:
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

    def _load_products(self, session: Session) -> Docs:
        rows = session.execute(select(Product, Game).outerjoin(Game, Product.game_id == Game.id).where(Product.active)
                               .order_by(Product.id)).all()
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

    def _load_games(self, session: Session) -> Docs:
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


def _as_docs(cols: dict[str, list]) -> Docs:
    arrays = {k: np.asarray(cols[k], dtype=np.int64) for k in
              ("price", "min_players", "max_players", "min_minutes", "max_minutes", "min_age", "tags")}
    return Docs(ids=cols["ids"], game_ids=cols["game_ids"], skus=cols["skus"], names_en=cols["names_en"],
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


