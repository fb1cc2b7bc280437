"""The shop's promotions: products whose sale price is below the list price, in stock, best saving first."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.models.catalog import Product


def on_sale(session: Session, limit: int = 10) -> list[Product]:
    saving = Product.list_price_satang - Product.sale_price_satang
    query = (select(Product).where(Product.sale_price_satang.is_not(None),
                                   Product.sale_price_satang < Product.list_price_satang, Product.stock > 0)
             .order_by(saving.desc(), Product.sku).limit(limit))
    return list(session.scalars(query))
