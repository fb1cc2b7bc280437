"""What the shop sells (products), board-game facts (games) and the ways customers write product names."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, Numeric, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.models.base import Base, UTCDateTime


class Game(Base):
    """A BoardGameGeek entry: facts for answers, and games to recommend that the shop lacks."""

    __tablename__ = "games"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # BoardGameGeek id
    name: Mapped[str] = mapped_column(String(300), index=True)
    name_th: Mapped[str | None] = mapped_column(String(300))
    thai_publisher: Mapped[str | None] = mapped_column(String(120))
    year: Mapped[int | None]
    min_players: Mapped[int | None]
    max_players: Mapped[int | None]
    play_minutes: Mapped[int | None]
    min_age: Mapped[int | None]
    users_rated: Mapped[int | None]
    rating: Mapped[float | None] = mapped_column(Numeric(4, 2, asdecimal=False))
    rank: Mapped[int | None] = mapped_column(Integer, index=True)
    complexity: Mapped[float | None] = mapped_column(Numeric(4, 2, asdecimal=False))
    owned_users: Mapped[int | None]
    mechanics: Mapped[str] = mapped_column(Text, default="")  # ", "-separated, as in the source
    domains: Mapped[str] = mapped_column(Text, default="")


class Product(Base):
    """An item the shop sells. Prices are integer satang; the price a customer pays is `price_satang`."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str] = mapped_column(String(300))
    name_th: Mapped[str] = mapped_column(String(300), default="")
    edition_lang: Mapped[str] = mapped_column(String(16), default="")
    listing_tag: Mapped[str] = mapped_column(String(40), default="")  # e.g. กล่องบุบ, Pre-Order
    category_th: Mapped[str] = mapped_column(String(200), default="")
    min_players: Mapped[int | None]
    max_players: Mapped[int | None]
    min_minutes: Mapped[int | None]
    max_minutes: Mapped[int | None]
    min_age: Mapped[int | None]
    list_price_satang: Mapped[int]
    sale_price_satang: Mapped[int | None]
    weight_grams: Mapped[int | None]
    url: Mapped[str] = mapped_column(String(500), default="")
    image_url: Mapped[str] = mapped_column(String(500), default="")
    stock: Mapped[int] = mapped_column(Integer, default=0)  # units free to sell (orders reserve by decrementing)
    active: Mapped[bool] = mapped_column(default=True, server_default=true())  # False: hidden from customers
    revised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last catalogue edit (not stock)
    game_id: Mapped[int | None] = mapped_column(ForeignKey("games.id"), index=True)

    game: Mapped[Game | None] = relationship(lazy="joined")
    aliases: Mapped[list[ProductAlias]] = relationship(back_populates="product", cascade="all, delete-orphan")

    @property
    def price_satang(self) -> int:
        """What the customer pays now: the sale price when there is one, else the list price."""
        return self.sale_price_satang if self.sale_price_satang is not None else self.list_price_satang


class ProductAlias(Base):
    """One way customers write a product: Thai title, transliteration, misspelling, short name."""

    __tablename__ = "product_aliases"
    __table_args__ = (UniqueConstraint("product_id", "alias"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default="other")  # title_th, translit, misspelling, short

    product: Mapped[Product] = relationship(back_populates="aliases")
