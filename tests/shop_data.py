"""A tiny catalogue and two customers for the cart, order, tool and MCP tests (not the real catalogue)."""
from __future__ import annotations

from dataclasses import dataclass

from shop.customers import get_or_create_customer
from shop.db import Database
from shop.models.catalog import Product

PRODUCTS = [
    # sku, name_en, name_th, edition, list price, sale price, stock
    ("SPL-TH", "Splendor", "สเพลนเดอร์", "TH", 159000, 126000, 5),
    ("SPL-EN", "Splendor", "", "EN", 169000, None, 2),
    ("AZUL", "Azul", "อาซูล", "", 139000, None, 1),         # the last copy
    ("CATAN", "Catan", "คาทาน", "", 159000, None, 0),      # sold out
    ("TTR", "Ticket to Ride", "ต่อรถไฟ", "", 189000, 175050, 10),
]


@dataclass(frozen=True)
class Shop:
    db: Database
    alice: int  # customer ids
    bob: int
    product_ids: dict[str, int]


def seed_shop(db: Database) -> Shop:
    with db.session() as session:
        rows = {}
        for sku, name_en, name_th, edition, list_price, sale_price, stock in PRODUCTS:
            product = Product(sku=sku, name_en=name_en, name_th=name_th, edition_lang=edition,
                              list_price_satang=list_price, sale_price_satang=sale_price, stock=stock,
                              min_players=2, max_players=4, min_minutes=30, max_minutes=45, min_age=8)
            session.add(product)
            rows[sku] = product
        alice = get_or_create_customer(session, "U" + "a" * 32, "Alice")
        bob = get_or_create_customer(session, "U" + "b" * 32, "Bob")
        session.flush()
        return Shop(db, alice.id, bob.id, {sku: p.id for sku, p in rows.items()})


def stock_of(db: Database, sku: str) -> int:
    from sqlalchemy import select

    with db.session() as session:
        return session.scalar(select(Product.stock).where(Product.sku == sku))


DELIVERY = {"name": "สมชาย ใจดี", "phone": "081-234-5678",
            "address": "99/1 ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพฯ 10110"}
