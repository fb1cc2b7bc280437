"""The shop as the simulator's JSON API shows it to scripts (`salesbot eval journeys`), development only.

The simulator cannot import the shop (it plays LINE and the bank, and also runs against bots that
are not this one), so `bot.app.create_app` hands it this object when it mounts the simulator. It
answers what a journey's expectations check: a chat's cart and orders, the catalogue's prices and
stock, and it sets stock so each journey starts from the same shelf.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop.cart import cart_json
from shop.customers import find_customer
from shop.db import Database
from shop.models import Product
from shop.orders import order_json, recent_orders
from shop.settings import Settings

PRODUCT_FIELDS = ("sku", "name_en", "name_th", "edition_lang", "listing_tag", "category_th", "min_players",
                  "max_players", "min_minutes", "max_minutes", "min_age", "list_price_satang", "stock", "active")


class SimulatorShop:
    def __init__(self, db: Database, settings: Settings):
        self.db, self.settings = db, settings

    def overview(self) -> dict:
        """The shop's settings a customer can ask about, and every product with its price and stock."""
        with self.db.session() as session:
            products = [{**{name: getattr(p, name) for name in PRODUCT_FIELDS}, "price_satang": p.price_satang,
                         "aliases": sorted(a.alias for a in p.aliases)}
                        for p in session.scalars(select(Product).options(selectinload(Product.aliases))
                                                  .order_by(Product.sku))]
        return {"shop": {"name": self.settings.shop_name, "delivery_fee_satang": self.settings.delivery_fee_satang},
                "products": products}

    def customer(self, line_user_id: str) -> dict:
        """The chat's cart and its latest orders (newest first), items named by SKU."""
        with self.db.session() as session:
            customer = find_customer(session, line_user_id)
            if customer is None:
                return {"cart": {"items": [], "item_count": 0, "total_satang": 0}, "orders": []}
            skus = dict(session.execute(select(Product.id, Product.sku)).all())
            orders = []
            for order in recent_orders(session, customer.id, limit=10):
                data = order_json(order)
                for item in data["items"]:
                    item["sku"] = skus.get(item["product_id"])
                orders.append(data)
            return {"cart": cart_json(session, customer.id), "orders": orders}

    def set_stock(self, stock: dict) -> dict:
        """Set the units free to sell of the given SKUs; ValueError names an unknown SKU or a bad count."""
        for sku, count in stock.items():
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ValueError(f"stock of {sku!r} must be a whole number of at least 0, not {count!r}")
        with self.db.session() as session:
            products = {p.sku: p for p in session.scalars(select(Product).where(Product.sku.in_(list(stock))))}
            unknown = sorted(set(stock) - set(products))
            if unknown:
                raise ValueError(f"no product with SKU {', '.join(unknown)}")
            for sku, count in stock.items():
                products[sku].stock = count
        return {"stock": dict(stock)}
