"""Orders and slips in the states the back office works on, for the staff tests (on top of shop_data)."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from PIL import Image
from sqlalchemy import select

from payments.checks import check_slip
from shop.media import store_customer_image
from shop.models import Order, OrderItem, Payment, Product
from shop.orders import order_number

NOW = datetime.now(UTC).replace(microsecond=0)


def make_order(db, customer_id: int, *, sku: str = "SPL-TH", quantity: int = 1, status: str = "awaiting_payment",
               fulfilment: str = "delivery", created: datetime | None = None, paid: bool | None = None) -> str:
    """An order with its stock reserved as checkout does; returns its number. `status` paid and later
    get a Payment row too (so they look like orders the checks accepted)."""
    created = created or NOW - timedelta(minutes=10)
    with db.session() as session:
        product = session.scalar(select(Product).where(Product.sku == sku))
        product.stock -= quantity
        total = product.price_satang * quantity + (5000 if fulfilment == "delivery" else 0)
        order = Order(number="tmp", customer_id=customer_id, status=status, fulfilment=fulfilment,
                      ship_name="สมชาย ใจดี" if fulfilment == "delivery" else "",
                      ship_phone="0812345678" if fulfilment == "delivery" else "",
                      ship_address="99/1 ถนนสุขุมวิท กรุงเทพฯ 10110" if fulfilment == "delivery" else "",
                      subtotal_satang=product.price_satang * quantity,
                      shipping_satang=5000 if fulfilment == "delivery" else 0, total_satang=total,
                      created_at=created, expires_at=created + timedelta(hours=1))
        order.items = [OrderItem(product_id=product.id, name=product.name_th or product.name_en,
                                 unit_price_satang=product.price_satang, quantity=quantity)]
        session.add(order)
        session.flush()
        order.number = order_number(order.id, created)
        if paid if paid is not None else status not in ("awaiting_payment", "payment_pending", "needs_review",
                                                        "cancelled", "expired"):
            order.paid_at = created + timedelta(minutes=2)
            session.add(Payment(order_id=order.id, amount_satang=total, sending_bank="004",
                                trans_ref=f"REF{order.id:08d}", paid_at=order.paid_at))
        return order.number


def order_row(db, number: str) -> Order:
    with db.session() as session:
        return session.scalar(select(Order).where(Order.number == number))


def photo_png(color=(200, 180, 160)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 500), color).save(out, format="PNG")
    return out.getvalue()


def slip_for_review(db, settings, customer_id: int, number: str) -> int:
    """The customer sends a photo with no readable QR for the order: the checks refer it to staff."""
    image = photo_png()
    with db.session() as session:
        order_id = session.scalar(select(Order.id).where(Order.number == number))
        media = store_customer_image(session, line_message_id=f"m{order_id}", data=image, content_type="image/png")
        media_id = media.id
    result = check_slip(db, settings, customer_id=customer_id, order_id=order_id, image=image, media_id=media_id)
    assert result.outcome == "needs_review" and result.reason == "no_qr"
    return result.slip_check_id


def status(db, number: str) -> str:
    return order_row(db, number).status

