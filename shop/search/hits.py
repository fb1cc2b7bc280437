"""What a search is asked (filters) and what it answers (hits)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shop.money import satang_to_decimal


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


