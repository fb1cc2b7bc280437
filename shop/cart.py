"""The customer's cart: add, change, remove, view; and pricing a list of (product name, quantity).

Prices always come from the product rows. Stock is checked here so the customer hears about it early,
but nothing is reserved until an order is created (`shop.orders.create_order`).
"""
from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from shop.errors import ShopError
from shop.models.catalog import Product, ProductAlias
from shop.models.customers import Cart, CartItem
from shop.money import format_baht
from shop.search import search
from shop.text import fold_thai, normalize

MAX_QUANTITY = 99  # per line; a bigger order is a wholesale enquiry for staff
CANDIDATES_SHOWN = 5
# Search scores (0..1): a hit at least this good means the customer named that product, and a lead
# this large over the next product means they meant that one rather than a sibling edition.
NAME_MATCH_SCORE = 0.80
CLEAR_LEAD = 0.05
SPELLING_MATCH = 80  # rapidfuzz 0..100: the words look like the product's name


def product_label(product: Product) -> str:
    """How a product is named in chat: Thai title when there is one, else the English one."""
    name = (product.name_th or "").strip() or product.name_en
    if product.edition_lang:
        name = f"{name} ({product.edition_lang})"
    return name


def product_brief(product: Product) -> dict:
    return {"sku": product.sku, "product_id": product.id, "name": product_label(product),
            "name_en": product.name_en, "name_th": product.name_th,
            "price_satang": product.price_satang, "price_text": format_baht(product.price_satang),
            "stock": max(product.stock, 0), "in_stock": product.stock > 0}


# --- finding the product a customer means ---------------------------------------------------------

def _exact_matches(session: Session, text: str) -> list[Product]:
    key = text.casefold()
    by_sku = session.scalar(select(Product).where(Product.active, func.lower(Product.sku) == key))
    if by_sku is not None:
        return [by_sku]
    by_name = select(Product).where(Product.active,
                                    or_(func.lower(Product.name_en) == key, func.lower(Product.name_th) == key))
    by_alias = select(Product).join(ProductAlias).where(Product.active, func.lower(ProductAlias.alias) == key)
    found = {p.id: p for p in session.scalars(by_name)}
    found.update({p.id: p for p in session.scalars(by_alias)})
    return sorted(found.values(), key=lambda p: p.id)


def find_product(session: Session, text: str) -> Product:
    """The one product `text` names (SKU, title, alias, or a search query), else a ShopError.

    Unknown → `product_not_found`; several equally good → `product_ambiguous` with candidates, so
    the customer is asked which one instead of the shop guessing (and never pricing it at 0).
    """
    text = " ".join((text or "").split())
    if not text:
        raise ShopError("product_required", "รบกวนบอกชื่อสินค้าที่ต้องการด้วยค่ะ")
    exact = _exact_matches(session, text)
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        raise _ambiguous(text, exact)
    hits = search(session, text, limit=CANDIDATES_SHOWN + 3)
    rows = {p.id: p for p in session.scalars(select(Product).options(selectinload(Product.aliases))
                                             .where(Product.id.in_([h.product_id for h in hits if h.product_id])))}
    named = [h for h in hits if h.kind == "product" and h.score >= NAME_MATCH_SCORE and h.product_id in rows
             and _resembles(text, rows[h.product_id])]
    if named:
        if len(named) == 1 or named[0].score - named[1].score >= CLEAR_LEAD:
            return rows[named[0].product_id]
        raise _ambiguous(text, [rows[h.product_id] for h in named])
    game = next((h for h in hits if h.kind == "game" and h.score >= NAME_MATCH_SCORE
                 and _resembles_names(text, [h.name_en, h.name_th])), None)
    if game is not None:
        name = game.name_th or game.name_en
        raise ShopError("product_not_sold",
                        f"ทางร้านยังไม่มี {name} จำหน่ายค่ะ ถ้าสนใจ ทางร้านช่วยแนะนำเกมแนวใกล้เคียงให้ได้นะคะ",
                        query=text, game={"game_id": game.game_id, "name_en": game.name_en, "name_th": game.name_th})
    similar = [product_brief(rows[h.product_id]) for h in hits if h.kind == "product" and h.product_id in rows]
    raise ShopError("product_not_found",
                    f"ทางร้านไม่พบสินค้าชื่อ “{text}” ค่ะ รบกวนตรวจสอบชื่ออีกครั้ง หรือพิมพ์ชื่อภาษาอังกฤษได้ค่ะ",
                    query=text, similar=similar[:CANDIDATES_SHOWN])


def _resembles_names(text: str, names: list[str]) -> bool:
    """The text is spelled like one of the names, not merely about the same kind of game.

    Search also ranks by meaning ("เกมปาร์ตี้" finds party games); picking a product for the customer
    needs more: the words must look like its name (typos and Thai spelling variants allowed).
    """
    query = normalize(text)
    for name in names:
        candidate = normalize(name or "")
        if candidate and max(fuzz.WRatio(query, candidate),
                             fuzz.ratio(fold_thai(query), fold_thai(candidate))) >= SPELLING_MATCH:
            return True
    return False


def _resembles(text: str, product: Product) -> bool:
    return _resembles_names(text, [product.name_en, product.name_th, *(a.alias for a in product.aliases)])


def _ambiguous(text: str, products: list[Product]) -> ShopError:
    names = ", ".join(product_label(p) for p in products[:CANDIDATES_SHOWN])
    return ShopError("product_ambiguous", f"“{text}” ตรงกับสินค้าหลายรายการค่ะ: {names} ต้องการรายการไหนคะ",
                     query=text, candidates=[product_brief(p) for p in products[:CANDIDATES_SHOWN]])


# --- the cart -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def line_total_satang(self) -> int:
        return self.product.price_satang * self.quantity

    def to_json(self) -> dict:
        product = self.product
        line = {"sku": product.sku, "product_id": product.id, "name": product_label(product),
                "quantity": self.quantity,
                "unit_price_satang": product.price_satang, "unit_price_text": format_baht(product.price_satang),
                "line_total_satang": self.line_total_satang, "line_total_text": format_baht(self.line_total_satang),
                "stock": max(product.stock, 0)}
        if product.stock <= 0:
            line["stock_note"] = "สินค้าหมดชั่วคราวค่ะ"
        elif self.quantity > product.stock:
            line["stock_note"] = f"ตอนนี้เหลือเพียง {product.stock} ชิ้นค่ะ"
        return line


def _quantity(quantity: int) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ShopError("invalid_quantity", "รบกวนระบุจำนวนเป็นตัวเลขค่ะ")
    if quantity < 1:
        raise ShopError("invalid_quantity", "จำนวนต้องอย่างน้อย 1 ชิ้นค่ะ ถ้าต้องการเอาออก ทางร้านลบออกจากตะกร้าให้ได้ค่ะ")
    if quantity > MAX_QUANTITY:
        raise ShopError("invalid_quantity",
                        f"สั่งได้ครั้งละไม่เกิน {MAX_QUANTITY} ชิ้นต่อรายการค่ะ ถ้าต้องการมากกว่านี้ ทางร้านให้พนักงานติดต่อกลับได้ค่ะ")
    return quantity


def _check_stock(product: Product, wanted: int, in_cart: int = 0) -> None:
    if product.stock <= 0:
        raise ShopError("out_of_stock", f"ขออภัยค่ะ {product_label(product)} หมดชั่วคราวค่ะ",
                        product=product_brief(product), available=0)
    if wanted > product.stock:
        extra = f" และอยู่ในตะกร้าของคุณลูกค้าแล้ว {in_cart} ชิ้น" if in_cart else ""
        raise ShopError("insufficient_stock",
                        f"ขออภัยค่ะ {product_label(product)} เหลือเพียง {product.stock} ชิ้น{extra}ค่ะ",
                        product=product_brief(product), available=product.stock, in_cart=in_cart)


def get_cart(session: Session, customer_id: int, create: bool = False) -> Cart | None:
    cart = session.scalar(select(Cart).where(Cart.customer_id == customer_id))
    if cart is None and create:
        cart = Cart(customer_id=customer_id, fulfilment="")
        session.add(cart)
        session.flush()
    return cart


def _item(cart: Cart | None, product: Product) -> CartItem | None:
    if cart is None:
        return None
    return next((item for item in cart.items if item.product_id == product.id), None)


def add_item(session: Session, customer_id: int, product: Product, quantity: int = 1) -> CartLine:
    """Add `quantity` more of `product` (a second add of the same product adds up)."""
    quantity = _quantity(quantity)
    cart = get_cart(session, customer_id, create=True)
    item = _item(cart, product)
    in_cart = item.quantity if item else 0
    _quantity(in_cart + quantity)
    _check_stock(product, in_cart + quantity, in_cart)
    if item is None:
        item = CartItem(product_id=product.id, quantity=quantity, product=product)
        cart.items.append(item)
    else:
        item.quantity = in_cart + quantity
    session.flush()
    return CartLine(product, item.quantity)


def set_quantity(session: Session, customer_id: int, product: Product, quantity: int) -> CartLine:
    """Set the quantity of a product already in the cart."""
    quantity = _quantity(quantity)
    cart = get_cart(session, customer_id)
    item = _item(cart, product)
    if item is None:
        raise ShopError("not_in_cart", f"ในตะกร้ายังไม่มี {product_label(product)} ค่ะ ต้องการเพิ่มลงตะกร้าไหมคะ",
                        product=product_brief(product))
    if quantity > item.quantity:  # only asking for more can run out; fewer is always fine
        _check_stock(product, quantity, item.quantity)
    item.quantity = quantity
    session.flush()
    return CartLine(product, quantity)


def remove_item(session: Session, customer_id: int, product: Product) -> None:
    cart = get_cart(session, customer_id)
    item = _item(cart, product)
    if item is None:
        raise ShopError("not_in_cart", f"ในตะกร้าไม่มี {product_label(product)} ค่ะ", product=product_brief(product))
    cart.items.remove(item)
    session.flush()


def clear_cart(session: Session, customer_id: int) -> None:
    cart = get_cart(session, customer_id)
    if cart is not None:
        cart.items.clear()
        cart.fulfilment = ""
        session.flush()


def cart_lines(cart: Cart | None) -> list[CartLine]:
    if cart is None:
        return []
    return [CartLine(item.product, item.quantity) for item in cart.items]


def lines_subtotal(lines: list[CartLine]) -> int:
    return sum(line.line_total_satang for line in lines)


def cart_json(session: Session, customer_id: int) -> dict:
    """The cart as the tools and the Flex cart card read it. `total_satang` is the items' total."""
    cart = get_cart(session, customer_id)
    lines = cart_lines(cart)
    total = lines_subtotal(lines)
    rows = (cart_line.to_json() for cart_line in lines)
    warnings = [f"{row['name']}: {row['stock_note']}" for row in rows if "stock_note" in row]
    return {"items": [line.to_json() for line in lines],
            "item_count": sum(line.quantity for line in lines),
            "total_satang": total, "total_text": format_baht(total),
            "fulfilment": cart.fulfilment if cart else "",
            "warnings": warnings}


# --- pricing a list without touching the cart -----------------------------------------------------

def sum_total(session: Session, items: list[tuple[str, int]]) -> dict:
    """Price (product name, quantity) pairs from the catalogue.

    A name that matches no product, or several, is reported in `unresolved` and never priced at 0;
    `total_satang` is given only when every line was priced (else `priced_subtotal_satang`).
    """
    if not items:
        raise ShopError("items_required", "รบกวนบอกชื่อสินค้าและจำนวนที่ต้องการคำนวณด้วยค่ะ")
    priced, unresolved = [], []
    for name, quantity in items:
        try:
            quantity = _quantity(quantity)
            product = find_product(session, name)
        except ShopError as error:
            unresolved.append({"name": name, "quantity": quantity, **error.to_json()})
            continue
        priced.append(CartLine(product, quantity).to_json())
    subtotal = sum(line["line_total_satang"] for line in priced)
    result = {"lines": priced, "unresolved": unresolved, "complete": not unresolved}
    if unresolved:
        result["total_satang"] = None
        result["priced_subtotal_satang"] = subtotal
        result["priced_subtotal_text"] = format_baht(subtotal)
        names = ", ".join(f"“{u['name']}”" for u in unresolved)
        result["message_th"] = f"ทางร้านยังคำนวณยอดรวมไม่ได้ค่ะ เพราะไม่แน่ใจว่า {names} คือสินค้าใด รบกวนระบุชื่อให้ชัดเจนอีกครั้งนะคะ"
    else:
        result["total_satang"] = subtotal
        result["total_text"] = format_baht(subtotal)
        result["message_th"] = f"รวมทั้งหมด {format_baht(subtotal)} (ยังไม่รวมค่าจัดส่ง) ค่ะ"
    return result
