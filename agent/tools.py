"""The shop tools: the one registry both agents (and any MCP client) use.

Each tool is a typed function `(ctx: ToolContext, **arguments) -> dict`. Its docstring and type hints
become the MCP tool description and JSON schema (see `agent.mcp_server`). Results are JSON-ready
dicts; a request the shop cannot do returns `{"error": code, "message_th": ...}` instead of raising.

Rules the registry keeps (DESIGN.md):
- The customer comes from `ctx.customer_id`, bound when the session is created from the LINE
  event, never from an argument: no tool takes a customer id.
- No tool takes a price. Prices and totals are read from the database. `create_order` takes the
  total the customer saw only to check it still holds; a mismatch asks for a fresh confirmation.
- Money is integer satang (`*_satang`) with a ready-made Thai text (`*_text`, "1,260 บาท").
"""
from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from shop import cart as carts
from shop import checkout, orders
from shop.db import Database
from shop.errors import ShopError
from shop.info import TOPICS, load_shop_info
from shop.models.catalog import Product
from shop.models.customers import Customer, StaffRequest
from shop.models.orders import OrderStatus
from shop.money import baht_words, format_baht
from shop.search import SearchFilters, search
from shop.search.spans import find_mentions
from shop.settings import Settings

log = logging.getLogger(__name__)

QR_TTL = timedelta(days=2)  # the QR image stays viewable a while after the order's own deadline


@dataclass(frozen=True)
class ToolContext:
    """What a tool call may touch: the database, the settings, and the customer the session acts for."""

    db: Database
    settings: Settings
    customer_id: int | None = None  # None: catalogue tools only
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


ToolFunction = Callable[..., dict]
TOOLS: dict[str, ToolFunction] = {}
CUSTOMER_TOOLS: set[str] = set()

NO_CUSTOMER = ShopError("no_customer", "ขออภัยค่ะ ทางร้านยังไม่ทราบว่าคุณลูกค้าคือใคร จึงทำรายการนี้ไม่ได้ค่ะ")
INVALID_ARGUMENTS_TH = "ขออภัยค่ะ ข้อมูลที่ส่งให้ระบบของทางร้านไม่ถูกต้อง รบกวนลองใหม่อีกครั้งนะคะ"
INTERNAL_ERROR = {"error": "internal_error",
                  "message_th": "ขออภัยค่ะ ระบบของทางร้านขัดข้องชั่วคราว รบกวนลองใหม่อีกครั้งในอีกสักครู่นะคะ"}


def tool(*, customer: bool = False) -> Callable[[ToolFunction], ToolFunction]:
    """Register a tool. `customer=True`: it acts on the bound customer's cart or orders.

    The wrapper turns a ShopError into its error dict (after the transaction rolled back) and any
    other exception into a generic error, logged with its traceback but never shown to the customer.
    """

    def register(fn: ToolFunction) -> ToolFunction:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def run(ctx: ToolContext, **arguments: Any) -> dict:
            try:
                signature.bind(ctx, **arguments)
            except TypeError as error:
                return {"error": "invalid_arguments", "message_th": INVALID_ARGUMENTS_TH, "detail": str(error)}
            try:
                if customer and ctx.customer_id is None:
                    raise NO_CUSTOMER
                return fn(ctx, **arguments)
            except ShopError as error:
                return error.to_json()
            except Exception:
                log.exception("tool %s failed", fn.__name__)
                return dict(INTERNAL_ERROR)

        TOOLS[fn.__name__] = run
        if customer:
            CUSTOMER_TOOLS.add(fn.__name__)
        return run

    return register


def call_tool(ctx: ToolContext, name: str, arguments: dict[str, Any] | None = None) -> dict:
    """Call a registered tool in-process without MCP (tests, benchmarks, scripts). Agents use MCP."""
    fn = TOOLS.get(name)
    if fn is None:
        return {"error": "unknown_tool", "message_th": "ขออภัยค่ะ ทางร้านไม่มีคำสั่งนี้ค่ะ", "tool": name}
    return fn(ctx, **(arguments or {}))


# --- shared helpers ------------------------------------------------------------------------------

Sku = Annotated[str | None, Field(description="SKU from a product card or a search result (preferred)",
                                  max_length=64)]
Name = Annotated[str | None, Field(description="Product name as the customer wrote it, Thai or English, "
                                               "when there is no SKU", max_length=200)]
Quantity = Annotated[int, Field(ge=1, le=carts.MAX_QUANTITY, description="Number of boxes")]
OrderNumber = Annotated[str | None, Field(description="Order number such as SB261126-0042; "
                                                      "omit for the customer's latest order", max_length=40)]


def _customer(session: Session, ctx: ToolContext) -> Customer:
    customer = session.get(Customer, ctx.customer_id)
    if customer is None:
        raise NO_CUSTOMER
    return customer


def _product(session: Session, sku: str | None, name: str | None) -> Product:
    text = (sku or "").strip() or (name or "").strip()
    return carts.find_product(session, text)


def product_json(product: Product, score: float | None = None) -> dict:
    """A product as cards and agents read it; prices from the row, never from anything said.

    Play facts missing from the shop's listing come from the linked BoardGameGeek game.
    """
    game = product.game

    def fact(own: int | None, from_game: str) -> int | None:
        return own if own is not None or game is None else getattr(game, from_game)

    data = {
        "kind": "product", "sku": product.sku, "product_id": product.id,
        "name": carts.product_label(product), "name_en": product.name_en, "name_th": product.name_th,
        "edition_lang": product.edition_lang, "listing_tag": product.listing_tag, "category": product.category_th,
        "price_satang": product.price_satang, "price_text": format_baht(product.price_satang),
        "list_price_satang": product.list_price_satang, "on_sale": product.price_satang < product.list_price_satang,
        "stock": max(product.stock, 0), "in_stock": product.stock > 0, "image_url": product.image_url,
        "min_players": fact(product.min_players, "min_players"),
        "max_players": fact(product.max_players, "max_players"),
        "min_minutes": product.min_minutes, "max_minutes": fact(product.max_minutes, "play_minutes"),
        "min_age": fact(product.min_age, "min_age"),
    }
    if score is not None:
        data["score"] = round(score, 3)
    return data


def _hits_json(session: Session, hits) -> list[dict]:
    """Search hits with product rows re-read, so price and stock are the database's current ones."""
    ids = [hit.product_id for hit in hits if hit.kind == "product" and hit.product_id is not None]
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids)))} if ids else {}
    results = []
    for hit in hits:
        if hit.kind == "product" and hit.product_id in products:
            results.append(product_json(products[hit.product_id], hit.score))
        elif hit.kind == "game":
            game = hit.to_json()
            game.update(kind="game", sold_here=False, score=round(hit.score, 3))
            results.append(game)
    return results


def _budget(budget_max_satang: int | None, budget_max_baht: int | None) -> int | None:
    if budget_max_satang is not None:
        return budget_max_satang
    return budget_max_baht * 100 if budget_max_baht is not None else None


# --- catalogue -----------------------------------------------------------------------------------

@tool()
def search_products(
    ctx: ToolContext,
    query: Annotated[str, Field(description="What the customer is looking for, Thai or English", max_length=200)],
    players: Annotated[int | None, Field(ge=1, le=20, description="Number of players")] = None,
    max_minutes: Annotated[int | None, Field(ge=5, le=600, description="Longest play time in minutes")] = None,
    age: Annotated[int | None, Field(ge=1, le=99, description="Youngest player's age")] = None,
    budget_max_baht: Annotated[int | None, Field(ge=1, description="Budget ceiling in baht")] = None,
    in_stock_only: Annotated[bool, Field(description="Only products with stock now")] = False,
    include_games: Annotated[bool, Field(description="Also list board games the shop does not sell")] = True,
    limit: Annotated[int, Field(ge=1, le=12, description="How many results at most")] = 5,
) -> dict:
    """Search the shop's board games by name (Thai or English, typos welcome) with optional filters.

    Results carry kind "product" (sold here: sku, price, stock) or "game" (known game, not sold here).
    """
    filters = SearchFilters(players=players, max_minutes=max_minutes, age=age,
                            max_price_satang=_budget(None, budget_max_baht),
                            in_stock=in_stock_only, include_games=include_games)
    with ctx.db.session() as session:
        results = _hits_json(session, search(session, query, filters, limit=limit))
    return {"query": query, "count": len(results), "results": results}


@tool()
def get_product_details(ctx: ToolContext, sku: Sku = None, name: Name = None) -> dict:
    """Everything the shop knows about one product: price, stock, players, time, age, game facts."""
    with ctx.db.session() as session:
        product = _product(session, sku, name)
        data = product_json(product)
        data["url"] = product.url
        data["image_url"] = product.image_url
        game = product.game
        if game is not None:
            data["game"] = {"bgg_id": game.id, "name": game.name, "name_th": game.name_th, "year": game.year,
                            "rating": game.rating, "rank": game.rank, "complexity": game.complexity,
                            "mechanics": game.mechanics, "domains": game.domains,
                            "thai_publisher": game.thai_publisher}
    return data


@tool()
def get_product_price(ctx: ToolContext, sku: Sku = None, name: Name = None) -> dict:
    """The current price of one product (the sale price when there is one)."""
    with ctx.db.session() as session:
        product = _product(session, sku, name)
        return {"sku": product.sku, "name": carts.product_label(product),
                "price_satang": product.price_satang, "price_text": format_baht(product.price_satang),
                "list_price_satang": product.list_price_satang, "list_price_text": format_baht(product.list_price_satang),
                "on_sale": product.price_satang < product.list_price_satang}


@tool()
def check_stock(ctx: ToolContext, sku: Sku = None, name: Name = None, quantity: Quantity = 1) -> dict:
    """Whether the shop has `quantity` boxes of a product free to sell right now (nothing is reserved)."""
    with ctx.db.session() as session:
        product = _product(session, sku, name)
        stock = max(product.stock, 0)
        label = carts.product_label(product)
        if stock == 0:
            message = f"{label} หมดชั่วคราวค่ะ"
        elif stock < quantity:
            message = f"{label} เหลือเพียง {stock} ชิ้นค่ะ"
        else:
            message = f"{label} มีสินค้าพร้อมส่งค่ะ"
        return {"sku": product.sku, "name": label, "stock": stock, "in_stock": stock > 0,
                "enough": stock >= quantity, "quantity": quantity, "message_th": message}


# Conditions a recommendation drops, one at a time in this order, when no game the shop has fits them all.
RELAXABLE = ("category", "minutes", "age", "budget", "players")


@tool()
def recommend_games(
    ctx: ToolContext,
    players: Annotated[int | None, Field(ge=1, le=20, description="Number of players")] = None,
    minutes: Annotated[int | None, Field(ge=5, le=600, description="Longest play time in minutes")] = None,
    age: Annotated[int | None, Field(ge=1, le=99, description="Youngest player's age")] = None,
    budget_max_baht: Annotated[int | None, Field(ge=1, description="Budget ceiling in baht")] = None,
    budget_max_satang: Annotated[int | None, Field(ge=100, description="Budget ceiling in satang "
                                                                      "(use this or budget_max_baht)")] = None,
    budget_min_satang: Annotated[int | None, Field(ge=0, description="Lowest price wanted, in satang")] = None,
    category: Annotated[str | None, Field(description="Style, e.g. ปาร์ตี้, วางแผน, ครอบครัว, party",
                                          max_length=60)] = None,
    limit: Annotated[int, Field(ge=1, le=12, description="How many results at most")] = 5,
) -> dict:
    """Suggest in-stock games the shop sells that fit every condition: players, play time, age, budget, style.

    When nothing fits them all, conditions are dropped one at a time (style, play time, age, budget,
    players) until something does; `relaxed` names the dropped ones, so the customer can be told.
    """
    wanted = {"category": category or None, "minutes": minutes, "age": age,
              "budget": (budget_min_satang, _budget(budget_max_satang, budget_max_baht)), "players": players}
    relaxed: list[str] = []
    with ctx.db.session() as session:
        while True:
            keep = {name: (None if name in relaxed else value) for name, value in wanted.items()}
            low, high = keep["budget"] or (None, None)
            filters = SearchFilters(players=keep["players"], max_minutes=keep["minutes"], age=keep["age"],
                                    min_price_satang=low, max_price_satang=high, category=keep["category"],
                                    in_stock=True, include_games=False)
            results = _hits_json(session, search(session, keep["category"] or "", filters, limit=limit))
            left = [name for name in RELAXABLE if name not in relaxed and wanted[name] not in (None, (None, None))]
            if results or not left:
                break
            relaxed.append(left[0])
    return {"count": len(results), "results": results, "relaxed": relaxed if results else [],
            "criteria": {"players": players, "minutes": minutes, "age": age, "category": category,
                         "budget_max_satang": _budget(budget_max_satang, budget_max_baht),
                         "budget_min_satang": budget_min_satang}}


@tool()
def find_products_in_text(
    ctx: ToolContext,
    text: Annotated[str, Field(description="A whole customer message, Thai or English", max_length=1000)],
    related: Annotated[list[str] | None, Field(description="SKUs already in the conversation (cart, cards "
                                                           "shown): their sibling titles are recognised",
                                               max_length=30)] = None,
) -> dict:
    """Every product of the shop named in a customer message, left to right, with its position.

    For a message naming several games ("เอา coup 2 กล่อง กับ skull 1"); a name of several editions
    gives all of their skus. Ordinary words are never read as products.
    """
    with ctx.db.session() as session:
        related_ids = tuple(session.scalars(select(Product.id).where(Product.sku.in_(related)))) if related else ()
        found = find_mentions(session, text, related_ids)
        ids = {pid for m in found for pid in m.product_ids}
        skus = dict(session.execute(select(Product.id, Product.sku).where(Product.id.in_(ids))).all()) if ids else {}
    return {"mentions": [{"text": m.text, "start": m.start, "end": m.end, "score": m.score, "exact": m.exact,
                          "skus": [skus[pid] for pid in m.product_ids if pid in skus]} for m in found]}


@tool()
def get_shop_info(
    ctx: ToolContext,
    topic: Annotated[Literal["delivery", "pickup", "payment", "returns", "hours", "address"] | None,
                     Field(description="What the customer asks about; omit for all the facts")] = None,
) -> dict:
    """The shop's own answers about delivery (fee, carriers), pickup (free, address, hours), payment methods,
    returns policy, opening hours and address, in Thai, from the shop's settings file."""
    info = load_shop_info(ctx.settings.shop_info_path)
    fee = ctx.settings.delivery_fee_satang
    answers = {t: info.answer(t, delivery_fee_satang=fee, shop_name=ctx.settings.shop_name) for t in TOPICS}
    facts = info.facts(delivery_fee_satang=fee)
    if topic:
        return {"topic": topic, "message_th": answers[topic], "facts": facts}
    return {"answers_th": answers, "facts": facts}


class PriceLine(BaseModel):
    name: Annotated[str, Field(description="Product name or SKU", max_length=200)]
    quantity: Annotated[int, Field(ge=1, le=carts.MAX_QUANTITY, description="Number of boxes")] = 1


@tool()
def sum_total_price(ctx: ToolContext, items: Annotated[list[PriceLine], Field(
        min_length=1, max_length=30, description="The products and quantities to price")]) -> dict:
    """Total price of a list of (product name, quantity) from the catalogue, without touching the cart.

    A name that matches no product, or several, is listed in `unresolved` and never priced at 0;
    `total_satang` is null until every line is known.
    """
    pairs = []
    for item in items:
        if isinstance(item, (tuple, list)):
            item = PriceLine(name=item[0], quantity=item[1] if len(item) > 1 else 1)
        elif isinstance(item, dict):
            item = PriceLine.model_validate(item)
        pairs.append((item.name, item.quantity))
    with ctx.db.session() as session:
        return carts.sum_total(session, pairs)


# --- cart ----------------------------------------------------------------------------------------

@tool(customer=True)
def add_to_cart(ctx: ToolContext, sku: Sku = None, name: Name = None, quantity: Quantity = 1) -> dict:
    """Put `quantity` boxes of a product in the customer's cart (adds to what is already there)."""
    with ctx.db.session() as session:
        product = _product(session, sku, name)
        line = carts.add_item(session, ctx.customer_id, product, quantity)
        cart = carts.cart_json(session, ctx.customer_id)
    return {"added": line.to_json(), "cart": cart,
            "message_th": f"ใส่ {line.to_json()['name']} {quantity} ชิ้นลงตะกร้าแล้วค่ะ "
                          f"ในตะกร้ารวม {cart['total_text']}ค่ะ"}


@tool(customer=True)
def update_cart_item(ctx: ToolContext, sku: Sku = None, name: Name = None, quantity: Quantity = 1) -> dict:
    """Set how many boxes of a product already in the cart the customer wants."""
    with ctx.db.session() as session:
        product = _product(session, sku, name)
        line = carts.set_quantity(session, ctx.customer_id, product, quantity)
        cart = carts.cart_json(session, ctx.customer_id)
    return {"updated": line.to_json(), "cart": cart,
            "message_th": f"แก้ {line.to_json()['name']} เป็น {quantity} ชิ้นแล้วค่ะ ในตะกร้ารวม {cart['total_text']}ค่ะ"}


@tool(customer=True)
def remove_cart_item(ctx: ToolContext, sku: Sku = None, name: Name = None) -> dict:
    """Take a product out of the customer's cart."""
    with ctx.db.session() as session:
        product = _product(session, sku, name)
        carts.remove_item(session, ctx.customer_id, product)
        cart = carts.cart_json(session, ctx.customer_id)
    removed = carts.product_brief(product)
    return {"removed": removed, "cart": cart, "message_th": f"นำ {removed['name']} ออกจากตะกร้าแล้วค่ะ"}


@tool(customer=True)
def view_cart(ctx: ToolContext) -> dict:
    """The customer's cart: lines, quantities, prices and the items' total (delivery fee not included)."""
    with ctx.db.session() as session:
        return carts.cart_json(session, ctx.customer_id)


# --- checkout and orders -------------------------------------------------------------------------

@tool(customer=True)
def set_shipping_details(
    ctx: ToolContext,
    fulfilment: Annotated[Literal["pickup", "delivery"], Field(description="pickup at the shop, or delivery")],
    name: Annotated[str | None, Field(description="Recipient's name (delivery)", max_length=200)] = None,
    phone: Annotated[str | None, Field(description="Thai phone number, mobile preferred (delivery)",
                                       max_length=40)] = None,
    address: Annotated[str | None, Field(description="Full delivery address with postcode", max_length=600)] = None,
) -> dict:
    """Choose pickup or delivery and give the delivery contact; returns the order summary to confirm.

    Details may come one at a time; `missing` lists what is still needed. Saved for next time.
    """
    with ctx.db.session() as session:
        customer = _customer(session, ctx)
        notes = checkout.set_shipping(session, customer, fulfilment, name=name, phone=phone, address=address)
        summary = checkout.checkout_summary(session, ctx.settings, customer)
    summary["notes_th"] = notes
    return summary


@tool(customer=True)
def preview_order(ctx: ToolContext) -> dict:
    """The order summary the customer must confirm: lines, delivery fee, total, contact, what is missing."""
    with ctx.db.session() as session:
        return checkout.checkout_summary(session, ctx.settings, _customer(session, ctx))


@tool(customer=True)
def create_order(
    ctx: ToolContext,
    confirmed: Annotated[bool, Field(description="True only after the customer explicitly confirmed the summary")],
    expected_total_satang: Annotated[int, Field(ge=0, description="total_satang of the summary the customer "
                                                                  "confirmed; checked, never used as a price")],
) -> dict:
    """Create the order from the cart after the customer confirmed the summary; reserves the stock.

    The order waits for payment until `expires_at`; then use create_payment_qr.
    """
    with ctx.db.session() as session:
        customer = _customer(session, ctx)
        if not confirmed:
            summary = checkout.checkout_summary(session, ctx.settings, customer)
            raise ShopError("not_confirmed", "รบกวนตรวจสอบสรุปคำสั่งซื้อ แล้วกดยืนยันก่อนนะคะ", summary=summary)
        order = orders.create_order(session, ctx.settings, customer,
                                    expected_total_satang=expected_total_satang, now=ctx.clock())
        data = orders.order_json(order)
    log.info("order %s created for customer %s: %s", data["number"], ctx.customer_id, data["total_text"])
    return {"order": data,
            "message_th": f"สร้างคำสั่งซื้อ {data['number']} แล้วค่ะ ยอดชำระ {data['total_text']} "
                          f"รบกวนชำระภายใน {data['pay_before_text']} นะคะ"}


@tool(customer=True)
def create_payment_qr(ctx: ToolContext, order_number: OrderNumber = None) -> dict:
    """PromptPay QR image for the exact total of an unpaid order (the latest one when no number is given)."""
    from payments.promptpay import build_payload
    from payments.qr_image import render_preview_png, render_qr_png
    from shop.media import media_url, store_image

    with ctx.db.session() as session:
        order = _unpaid_order(session, ctx, order_number)
        if order.expires_at <= ctx.clock():
            raise ShopError("order_expired", f"คำสั่งซื้อ {order.number} หมดเวลาชำระเงินแล้วค่ะ "
                                             "ถ้ายังต้องการสินค้า ทางร้านช่วยสั่งใหม่ให้ได้ค่ะ", number=order.number)
        words = baht_words(order.total_satang)
        payload = build_payload(ctx.settings.promptpay_id, order.total_satang)
        png = render_qr_png(payload, amount_satang=order.total_satang,
                            caption=f"{words} · {order.number}")
        media = store_image(session, png, kind="promptpay_qr", preview=render_preview_png(png), ttl=QR_TTL)
        data = {"order_number": order.number, "amount_satang": order.total_satang,
                "amount_text": format_baht(order.total_satang), "amount_words_th": words,
                "image_url": media_url(ctx.settings, media), "preview_url": media_url(ctx.settings, media, preview=True),
                "pay_before_text": orders.order_json(order)["pay_before_text"],
                "message_th": f"สแกน QR เพื่อชำระ {format_baht(order.total_satang)} ({words}) "
                              f"สำหรับคำสั่งซื้อ {order.number} แล้วส่งรูปสลิปกลับมาในแชทนี้ได้เลยค่ะ"}
    return data


def _unpaid_order(session: Session, ctx: ToolContext, number: str | None):
    if number:
        order = orders.find_order(session, ctx.customer_id, number)
    else:
        order = next((o for o in orders.recent_orders(session, ctx.customer_id, limit=10)
                      if o.status == OrderStatus.AWAITING_PAYMENT.value), None)
        if order is None:
            raise ShopError("no_unpaid_order", "ตอนนี้ไม่มีคำสั่งซื้อที่รอชำระเงินค่ะ")
    if order.status != OrderStatus.AWAITING_PAYMENT.value:
        status_th = orders.STATUS_TH.get(order.status, order.status)
        closed = order.status in (OrderStatus.CANCELLED.value, OrderStatus.EXPIRED.value)
        next_step = ("จึงชำระเงินไม่ได้แล้วค่ะ ถ้ายังต้องการสินค้า ทางร้านช่วยสั่งใหม่ให้ได้ค่ะ" if closed
                     else "จึงไม่ต้องชำระเงินเพิ่มค่ะ")
        raise ShopError("not_awaiting_payment", f"คำสั่งซื้อ {order.number} อยู่ในสถานะ “{status_th}” {next_step}",
                        number=order.number, status=order.status)
    return order


@tool(customer=True)
def get_order_status(ctx: ToolContext, order_number: OrderNumber = None) -> dict:
    """Status of one of the customer's orders, or their recent orders (newest first) without a number."""
    with ctx.db.session() as session:
        if order_number:
            return {"order": orders.order_json(orders.find_order(session, ctx.customer_id, order_number))}
        recent = [orders.order_json(o) for o in orders.recent_orders(session, ctx.customer_id)]
    if not recent:
        return {"orders": [], "message_th": "ยังไม่มีคำสั่งซื้อในบัญชีของคุณลูกค้าค่ะ"}
    return {"orders": recent}


@tool(customer=True)
def cancel_order(ctx: ToolContext, order_number: Annotated[str, Field(
        max_length=40, description="Number of the unpaid order to cancel, such as SB261126-0042")]) -> dict:
    """Cancel one of the customer's unpaid orders; the reserved stock goes back on sale."""
    with ctx.db.session() as session:
        order = orders.cancel_order(session, ctx.customer_id, order_number, now=ctx.clock())
        data = orders.order_json(order)
    log.info("order %s cancelled by customer %s", data["number"], ctx.customer_id)
    return {"order": data, "message_th": f"ยกเลิกคำสั่งซื้อ {data['number']} เรียบร้อยแล้วค่ะ"}


@tool(customer=True)
def handoff_to_staff(
    ctx: ToolContext,
    reason: Annotated[str, Field(description="What the customer needs, in their words", max_length=500)] = "",
    order_number: Annotated[str | None, Field(max_length=40, description="The order it is about, if any")] = None,
) -> dict:
    """Ask a staff member to take over the chat; staff see open requests in `salesbot orders`."""
    with ctx.db.session() as session:
        customer = _customer(session, ctx)
        open_request = session.scalar(select(StaffRequest).where(StaffRequest.customer_id == customer.id,
                                                                  StaffRequest.resolved_at.is_(None)))
        if open_request is None:
            open_request = StaffRequest(customer_id=customer.id, created_at=ctx.clock())
            session.add(open_request)
        open_request.reason = (reason or "").strip()[:500] or open_request.reason
        open_request.order_number = orders.normalise_number(order_number or "")[:20] or open_request.order_number
        session.flush()
        request_id = open_request.id
    log.warning("customer %s asked for staff (request %s)", ctx.customer_id, request_id)
    return {"request_id": request_id,
            "message_th": "ทางร้านแจ้งพนักงานแล้วค่ะ พนักงานจะตอบกลับในแชทนี้โดยเร็วที่สุดนะคะ"}
