"""FAKE ToolSession for the LLM loop tests and benchmark: a tiny in-memory shop bound to one customer.

Not the shop tools (agent/tools.py is). It only has what the loop needs to be tested: tools that return
prices in the shapes the real ones use (`*_satang` integers, "1,260 บาท" text), a cart with a total,
and an order lookup that only ever sees the bound customer's orders.
"""
from __future__ import annotations

from typing import Any

CATALOGUE = {
    "Splendor": {"sku": "SPL", "name": "Splendor", "name_th": "สเปลนเดอร์", "price_satang": 126000, "stock": 3},
    "Catan": {"sku": "CTN", "name": "Catan", "name_th": "คาทาน", "price_satang": 159000, "stock": 0},
    "Ticket to Ride": {"sku": "TTR", "name": "Ticket to Ride", "name_th": "ทิคเก็ต ทู ไรด์", "price_satang": 189000,
                       "stock": 5},
}
ORDERS = {"cust-A": [{"number": "SO-1001", "status": "paid", "total_satang": 126000}],
          "cust-B": [{"number": "SO-2002", "status": "unpaid", "total_satang": 999900}]}


def _baht(satang: int) -> str:
    baht, rest = divmod(satang, 100)
    return f"{baht:,} บาท" if rest == 0 else f"{baht:,}.{rest:02d} บาท"


class FakeShopTools:
    """Implements agent.llm.loop.ToolSession for one customer; records every call."""

    def __init__(self, customer_id: str = "cust-A") -> None:
        self.customer_id = customer_id
        self.cart: dict[str, int] = {}
        self.calls: list[tuple[str, dict]] = []

    def list_tools(self) -> list[dict]:
        text = {"type": "string"}
        return [
            {"name": "search_products", "description": "Search board games by Thai or English name.",
             "input_schema": {"type": "object", "properties": {"query": text}, "required": ["query"]}},
            {"name": "add_to_cart", "description": "Add a game to the customer's cart.",
             "input_schema": {"type": "object", "properties": {"name": text, "quantity": {"type": "integer"},
                                                               "customer_id": text},
                              "required": ["name", "quantity", "customer_id"]}},
            {"name": "view_cart", "description": "The cart with line totals and the total.",
             "input_schema": {"type": "object", "properties": {}}},
            {"name": "get_order_status", "description": "Status of the customer's orders.",
             "input_schema": {"type": "object", "properties": {"order_number": text}}},
            {"name": "create_order", "description": "Create the order after the customer confirmed the summary.",
             "input_schema": {"type": "object", "properties": {"confirmed": {"type": "boolean"},
                                                               "expected_total_satang": {"type": "integer"}},
                              "required": ["confirmed", "expected_total_satang"]}},
        ]

    def call_tool(self, name: str, arguments: dict) -> dict:
        self.calls.append((name, dict(arguments)))
        handler = getattr(self, f"_{name}", None)
        if handler is None:
            return {"error": f"unknown tool {name}"}
        try:
            return handler(**arguments)
        except TypeError as error:
            return {"error": f"bad arguments: {error}"}

    def _search_products(self, query: str, limit: int = 5) -> dict:
        hits = [dict(item, price_text=_baht(item["price_satang"])) for key, item in CATALOGUE.items()
                if query.lower() in key.lower() or query in item["name_th"]]
        return {"results": hits[:limit]}

    def _add_to_cart(self, name: str, quantity: int = 1) -> dict:
        if name not in CATALOGUE:
            return {"error": f"ไม่พบสินค้า {name}"}
        self.cart[name] = self.cart.get(name, 0) + int(quantity)
        return self._view_cart()

    def _view_cart(self) -> dict[str, Any]:
        lines = [{"name": name, "quantity": qty, "unit_price_satang": CATALOGUE[name]["price_satang"],
                  "line_total_satang": qty * CATALOGUE[name]["price_satang"]} for name, qty in self.cart.items()]
        return {"items": lines, "total_satang": sum(line["line_total_satang"] for line in lines)}

    def _create_order(self, confirmed: bool, expected_total_satang: int) -> dict:
        total = self._view_cart()["total_satang"]
        if not confirmed or expected_total_satang != total or not self.cart:
            return {"error": "not_confirmed"}
        self.cart = {}
        return {"order": {"number": "SO-1002", "total_satang": total, "status": "unpaid"}}

    def _get_order_status(self, order_number: str | None = None) -> dict:
        mine = ORDERS.get(self.customer_id, [])
        if order_number:
            mine = [order for order in mine if order["number"] == order_number]
            if not mine:
                return {"error": "ไม่พบคำสั่งซื้อนี้ในบัญชีของคุณลูกค้า"}
        return {"orders": mine}
