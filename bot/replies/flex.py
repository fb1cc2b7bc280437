"""Flex bubbles and carousels: product cards, cart, order summary, receipt.

Inputs are plain dicts as the shop tools return them (keys such as sku, name_th, name_en,
price_satang, stock, min_players ...), so cards look the same whichever agent answered.
Sizes stay inside LINE's limits: ≤ 12 bubbles per carousel, labels ≤ 40 characters.
Product bubbles get a hero picture when the caller says where it is (`hero(product) -> URL`, see
bot.product_images): one aspect ratio for all of them, so the cards of a carousel line up.
"""
from __future__ import annotations

from collections.abc import Callable

from agent import actions
from agent.offline.phrases import facts_line
from bot.replies.messages import flex
from shop.covers import ASPECT_RATIO
from shop.money import format_baht

GREEN, ORANGE, RED, GREY, BRAND = "#1DB446", "#E08A00", "#D93025", "#888888", "#06C755"
MAX_BUBBLES = 12


def _text(value: str, **style) -> dict:
    return {"type": "text", "text": value or " ", "wrap": True, **style}


def _button(label: str, action: str, display: str, style: str = "secondary", **params) -> dict:
    return {"type": "button", "style": style, "height": "sm",
            "action": {"type": "postback", "label": label[:40], "data": actions.encode(action, **params),
                       "displayText": display[:300]}}


def stock_line(product: dict) -> dict:
    stock = int(product.get("stock") or 0)
    if stock <= 0:
        return _text("สินค้าหมดชั่วคราว", size="sm", color=RED)
    if stock <= 2:
        return _text(f"เหลือ {stock} ชิ้นสุดท้าย", size="sm", color=ORANGE)
    return _text("มีสินค้าพร้อมส่ง", size="sm", color=GREEN)


HeroUrl = Callable[[dict], str]


def hero_image(url: str) -> dict:
    """The card's picture: full width, 4:3, the whole picture shown (a box photo is never cropped)."""
    return {"type": "image", "url": url, "size": "full", "aspectRatio": ASPECT_RATIO, "aspectMode": "fit",
            "backgroundColor": "#FFFFFF"}


def product_bubble(product: dict, hero: HeroUrl | None = None) -> dict:
    name_th, name_en = (product.get("name_th") or "").strip(), (product.get("name_en") or "").strip()
    body = [_text(name_th or name_en, weight="bold", size="md")]
    if name_th and name_en:
        body.append(_text(name_en, size="xs", color=GREY))
    price = [_text(format_baht(product["price_satang"]), weight="bold", size="lg", color=BRAND, flex=0)]
    list_price = product.get("list_price_satang")
    if list_price and list_price > product["price_satang"]:
        price.append(_text(format_baht(list_price), size="sm", color=GREY, decoration="line-through",
                           flex=0, gravity="bottom"))
    body.append({"type": "box", "layout": "baseline", "spacing": "sm", "margin": "md", "contents": price})
    facts = facts_line(product)
    if facts:
        body.append(_text(facts, size="sm", color="#555555", margin="sm"))
    body.append(stock_line(product))
    sku, short = product["sku"], (name_en or name_th)[:60]
    footer = [_button("ดูรายละเอียด", "details", f"ขอดูรายละเอียด {short}", sku=sku)]
    if int(product.get("stock") or 0) > 0:
        footer.insert(0, _button("ใส่ตะกร้า", "add", f"ใส่ {short} ลงตะกร้า", style="primary", sku=sku, q=1))
    bubble = {"type": "bubble", "size": "kilo",
              "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body},
              "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": footer}}
    if hero is not None:
        bubble["hero"] = hero_image(hero(product))
    return bubble


def products_alt_text(products: list[dict]) -> str:
    """What the chat list and notifications show instead of the cards: the games and prices, not a
    generic "recommended" (a search result or a sold-out game is no recommendation)."""
    def one(product: dict) -> str:
        name = (product.get("name_th") or product.get("name_en") or "").strip()
        return f"{name} {format_baht(product['price_satang'])}"

    if len(products) == 1:
        return one(products[0])[:400]
    return f"สินค้า {len(products)} รายการ: " + ", ".join(one(p) for p in products[:5])[:380]


def product_carousel(products: list[dict], alt_text: str | None = None, hero: HeroUrl | None = None) -> dict:
    alt_text = alt_text or products_alt_text(products[:MAX_BUBBLES])
    bubbles = [product_bubble(p, hero) for p in products[:MAX_BUBBLES]]
    if len(bubbles) == 1:
        return flex(alt_text, bubbles[0])
    return flex(alt_text, {"type": "carousel", "contents": bubbles})


def _line_rows(lines: list[dict]) -> list[dict]:
    rows = []
    for line in lines:
        rows.append({"type": "box", "layout": "horizontal", "spacing": "sm", "contents": [
            _text(f"{line['name']} × {line['quantity']}", size="sm", flex=5),
            _text(format_baht(line["line_total_satang"]), size="sm", align="end", flex=3),
        ]})
    return rows


def _total_row(label: str, satang: int, bold: bool = True) -> dict:
    return {"type": "box", "layout": "horizontal", "contents": [
        _text(label, size="sm", weight="bold" if bold else "regular", flex=5),
        _text(format_baht(satang), size="sm", align="end", weight="bold" if bold else "regular", flex=3),
    ]}


def cart_bubble(cart: dict) -> dict:
    """cart: {"items": [{"sku","name","quantity","unit_price_satang","line_total_satang"}], "total_satang"}."""
    body = [_text("ตะกร้าสินค้า", weight="bold", size="lg"), {"type": "separator", "margin": "md"},
            *_line_rows(cart["items"]), {"type": "separator", "margin": "md"},
            _total_row("รวม", cart["total_satang"])]
    buttons = [_button("ชำระเงิน", "checkout", "สั่งซื้อสินค้าในตะกร้า", style="primary"),
               _button("เลือกดูเกมเพิ่ม", "browse", "ขอดูเกมเพิ่มเติม")]
    bubble = {"type": "bubble",
              "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body},
              "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": buttons}}
    return flex(f"ตะกร้าสินค้า รวม {format_baht(cart['total_satang'])}", bubble)


def _order_body(title: str, order: dict) -> list[dict]:
    rows = [_text(title, weight="bold", size="lg")]
    if order.get("number"):
        rows.append(_text(f"เลขที่คำสั่งซื้อ {order['number']}", size="xs", color=GREY))
    rows += [{"type": "separator", "margin": "md"}, *_line_rows(order["items"]),
             {"type": "separator", "margin": "md"}]
    if order.get("shipping_satang"):
        rows.append(_total_row("ค่าจัดส่ง", order["shipping_satang"], bold=False))
    rows.append(_total_row("ยอดชำระ", order["total_satang"]))
    if order.get("fulfilment") == "delivery":
        rows.append(_text(f"จัดส่งถึง {order.get('ship_name', '')} {order.get('ship_phone', '')}\n"
                          f"{order.get('ship_address', '')}", size="xs", color="#555555", margin="md"))
    elif order.get("fulfilment") == "pickup":
        rows.append(_text("รับสินค้าเองที่ร้าน", size="xs", color="#555555", margin="md"))
    return rows


def order_summary(order: dict) -> dict:
    """The summary the customer confirms before the order is created."""
    buttons = [_button("ยืนยันคำสั่งซื้อ", "confirm", "ยืนยันคำสั่งซื้อ", style="primary",
                       t=order["total_satang"]),
               _button("แก้ไข", "edit_order", "ขอแก้ไขคำสั่งซื้อ")]
    bubble = {"type": "bubble",
              "body": {"type": "box", "layout": "vertical", "spacing": "sm",
                       "contents": _order_body("สรุปคำสั่งซื้อ", order)},
              "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": buttons}}
    return flex(f"สรุปคำสั่งซื้อ ยอดชำระ {format_baht(order['total_satang'])}", bubble)


def receipt(order: dict) -> dict:
    body = [_text("ชำระเงินเรียบร้อย ✓", weight="bold", size="sm", color=GREEN),
            *_order_body("ใบเสร็จรับเงิน", order)]
    if order.get("paid_at_text"):
        body.append(_text(f"ชำระเมื่อ {order['paid_at_text']}", size="xs", color=GREY, margin="md"))
    bubble = {"type": "bubble", "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body}}
    return flex(f"ใบเสร็จ {order.get('number', '')} ชำระแล้ว {format_baht(order['total_satang'])}", bubble)


def shipment(order: dict) -> dict:
    """The card a customer gets when staff ship an order: carrier and tracking number, with a button
    that copies the number (to paste into the carrier's tracking page)."""
    rows = [_text("จัดส่งสินค้าแล้ว 🚚", weight="bold", size="lg", color=BRAND),
            _text(f"เลขที่คำสั่งซื้อ {order['number']}", size="xs", color=GREY),
            {"type": "separator", "margin": "md"},
            _text(order.get("carrier", ""), size="sm", color="#555555", margin="md"),
            _text(order["tracking_number"], weight="bold", size="xl")]
    if order.get("ship_name"):
        rows.append(_text(f"ผู้รับ {order['ship_name']}", size="xs", color=GREY, margin="md"))
    copy = {"type": "button", "style": "primary", "height": "sm",
            "action": {"type": "clipboard", "label": "คัดลอกเลขพัสดุ", "clipboardText": order["tracking_number"]}}
    bubble = {"type": "bubble",
              "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": rows},
              "footer": {"type": "box", "layout": "vertical", "contents": [copy]}}
    return flex(f"จัดส่งคำสั่งซื้อ {order['number']} แล้ว เลขพัสดุ {order['tracking_number']} "
                f"({order.get('carrier', '')})", bubble)
