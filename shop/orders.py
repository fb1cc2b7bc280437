"""Orders: created from the cart after the customer confirmed the summary, with an atomic stock
reservation; cancelled or expired (stock released in the same transaction); looked up by the
customer who owns them only.

Reservation is one conditional UPDATE per line (`stock = stock - q WHERE stock >= q`): the database
decides, so two customers buying the last copy cannot both succeed on PostgreSQL or SQLite.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from shop.cart import cart_lines, clear_cart, get_cart, product_label
from shop.checkout import checkout_summary
from shop.db import Database
from shop.errors import ShopError
from shop.models.catalog import Product
from shop.models.customers import Customer
from shop.models.orders import Order, OrderItem, OrderStatus
from shop.models.payments import Payment, SlipCheck
from shop.money import format_baht
from shop.settings import Settings

SHOP_TZ = timezone(timedelta(hours=7), "ICT")  # Thailand, no daylight saving

STATUS_TH = {
    OrderStatus.AWAITING_PAYMENT.value: "รอชำระเงิน",
    OrderStatus.PAYMENT_PENDING.value: "กำลังตรวจสอบการชำระเงิน",
    OrderStatus.NEEDS_REVIEW.value: "รอพนักงานตรวจสอบสลิป",
    OrderStatus.PAID.value: "ชำระเงินแล้ว",
    OrderStatus.PACKED.value: "แพ็กสินค้าแล้ว",
    OrderStatus.SHIPPED.value: "จัดส่งแล้ว",
    OrderStatus.DELIVERED.value: "ได้รับสินค้าแล้ว",
    OrderStatus.PICKED_UP.value: "รับสินค้าที่ร้านแล้ว",
    OrderStatus.CANCELLED.value: "ยกเลิกแล้ว",
    OrderStatus.EXPIRED.value: "หมดเวลาชำระเงิน",
}


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def order_number(order_id: int, created_at: datetime) -> str:
    """SB261126-0042: the shop's date and the order's id, unique without a counter to race on."""
    return f"SB{created_at.astimezone(SHOP_TZ):%y%m%d}-{order_id:04d}"


def normalise_number(number: str) -> str:
    return "".join((number or "").split()).upper()


# --- creating ------------------------------------------------------------------------------------

def _reserve(session: Session, wanted: dict[int, int]) -> Product | None:
    """Take stock for every line or none; returns the product that ran short (after undoing the rest).

    Lines go in product-id order so two orders lock rows in the same order (no deadlock). Undoing
    by hand, not by savepoint, keeps the stock right even if a caller swallows the error and commits.
    """
    taken: list[tuple[int, int]] = []
    for product_id in sorted(wanted):
        quantity = wanted[product_id]
        result = session.execute(
            update(Product).where(Product.id == product_id, Product.stock >= quantity)
            .values(stock=Product.stock - quantity).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            for taken_id, taken_quantity in taken:
                _give_back(session, taken_id, taken_quantity)
            return session.get(Product, product_id, populate_existing=True)
        taken.append((product_id, quantity))
    return None


def release_stock(session: Session, order: Order) -> None:
    """Put an order's lines back on sale (the caller has just closed the order in this transaction)."""
    for item in order.items:
        _give_back(session, item.product_id, item.quantity)


def _give_back(session: Session, product_id: int, quantity: int) -> None:
    session.execute(update(Product).where(Product.id == product_id)
                    .values(stock=Product.stock + quantity).execution_options(synchronize_session=False))


def create_order(session: Session, settings: Settings, customer: Customer, *, expected_total_satang: int,
                 now: datetime | None = None) -> Order:
    """Turn the cart into an order the customer confirmed at `expected_total_satang`.

    Raises ShopError: cart empty, details missing, total changed since the summary (re-confirm),
    or out of stock (nothing reserved). Unit prices are copied into the order lines.
    """
    now = _now(now)
    summary = checkout_summary(session, settings, customer)
    if not summary["items"]:
        raise ShopError("cart_empty", "ตะกร้ายังว่างอยู่ค่ะ เลือกสินค้าก่อนสั่งซื้อได้เลยค่ะ")
    if not summary["ready_to_confirm"]:
        raise ShopError("checkout_incomplete", summary["message_th"], missing=summary["missing"])
    if expected_total_satang != summary["total_satang"]:
        raise ShopError("total_changed",
                        f"ยอดชำระตอนนี้คือ {summary['total_text']} ซึ่งไม่ตรงกับยอดที่ยืนยันไว้ "
                        "รบกวนตรวจสอบสรุปคำสั่งซื้อแล้วยืนยันอีกครั้งนะคะ", summary=summary)
    _one_open_order(session, customer, now)
    lines = cart_lines(get_cart(session, customer.id))
    short = _reserve(session, {line.product.id: line.quantity for line in lines})
    if short is not None:
        available = max(short.stock, 0)
        message = (f"ขออภัยค่ะ {product_label(short)} หมดแล้วค่ะ" if available == 0 else
                   f"ขออภัยค่ะ {product_label(short)} เหลือเพียง {available} ชิ้นค่ะ")
        raise ShopError("out_of_stock", message + " รบกวนปรับจำนวนในตะกร้าแล้วยืนยันอีกครั้งนะคะ",
                        sku=short.sku, available=available)
    order = Order(number=f"tmp-{uuid.uuid4().hex[:16]}", customer_id=customer.id, status=OrderStatus.AWAITING_PAYMENT.value,
                  fulfilment=summary["fulfilment"], ship_name=summary["ship_name"], ship_phone=summary["ship_phone"],
                  ship_address=summary["ship_address"], subtotal_satang=summary["subtotal_satang"],
                  shipping_satang=summary["shipping_satang"], total_satang=summary["total_satang"],
                  created_at=now, expires_at=now + timedelta(minutes=settings.order_expiry_minutes))
    order.items = [OrderItem(product_id=line.product.id, name=product_label(line.product),
                             unit_price_satang=line.product.price_satang, quantity=line.quantity) for line in lines]
    session.add(order)
    session.flush()
    order.number = order_number(order.id, now)
    clear_cart(session, customer.id)
    session.flush()
    return order


def _one_open_order(session: Session, customer: Customer, now: datetime) -> None:
    """A customer holds at most one order awaiting payment, so one account cannot lock the stock with
    several: an earlier one past its deadline is expired now; one still open makes us ask first.
    The customer's row is locked (PostgreSQL) so two checkouts of one customer cannot both pass."""
    session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    for order in session.scalars(select(Order).options(selectinload(Order.items)).where(
            Order.customer_id == customer.id, Order.status == OrderStatus.AWAITING_PAYMENT.value)):
        if order.expires_at <= now and _close(session, order, OrderStatus.EXPIRED, now):
            continue
        raise ShopError("open_order_exists",
                        f"คุณลูกค้ามีคำสั่งซื้อ {order.number} ยอด {format_baht(order.total_satang)} "
                        "ที่ยังรอชำระเงินอยู่ค่ะ ทางร้านเปิดได้ทีละหนึ่งคำสั่งซื้อที่รอชำระ รบกวนชำระคำสั่งซื้อเดิม "
                        f"หรือยกเลิกคำสั่งซื้อ {order.number} ก่อน แล้วยืนยันคำสั่งซื้อใหม่อีกครั้งนะคะ",
                        number=order.number, total_satang=order.total_satang)


# --- finding (always scoped to the customer) -----------------------------------------------------

def find_order(session: Session, customer_id: int, number: str) -> Order:
    """The customer's own order by number; someone else's order is simply not found."""
    order = session.scalar(select(Order).options(selectinload(Order.items))
                           .where(Order.number == normalise_number(number), Order.customer_id == customer_id))
    if order is None:
        raise ShopError("order_not_found",
                        f"ไม่พบคำสั่งซื้อเลขที่ {normalise_number(number) or '-'} ในบัญชีของคุณลูกค้าค่ะ "
                        "รบกวนตรวจสอบเลขที่อีกครั้งนะคะ")
    return order


def recent_orders(session: Session, customer_id: int, limit: int = 5) -> list[Order]:
    return list(session.scalars(select(Order).options(selectinload(Order.items))
                                .where(Order.customer_id == customer_id)
                                .order_by(Order.created_at.desc(), Order.id.desc()).limit(limit)))


def order_json(order: Order) -> dict:
    """An order as the tools, the Flex summary/receipt and `salesbot orders` read it."""
    items = [{"product_id": item.product_id, "name": item.name, "quantity": item.quantity,
              "unit_price_satang": item.unit_price_satang, "unit_price_text": format_baht(item.unit_price_satang),
              "line_total_satang": item.line_total_satang, "line_total_text": format_baht(item.line_total_satang)}
             for item in order.items]
    data = {"number": order.number, "status": order.status, "status_th": STATUS_TH.get(order.status, order.status),
            "items": items,
            "subtotal_satang": order.subtotal_satang, "shipping_satang": order.shipping_satang,
            "total_satang": order.total_satang, "total_text": format_baht(order.total_satang),
            "fulfilment": order.fulfilment, "ship_name": order.ship_name, "ship_phone": order.ship_phone,
            "ship_address": order.ship_address,
            "created_at": order.created_at.isoformat(), "expires_at": order.expires_at.isoformat(),
            "paid_at": order.paid_at.isoformat() if order.paid_at else None}
    if order.status == OrderStatus.AWAITING_PAYMENT.value:
        data["pay_before_text"] = f"{order.expires_at.astimezone(SHOP_TZ):%d/%m/%Y %H:%M} น."
    if order.paid_at:
        data["paid_at_text"] = f"{order.paid_at.astimezone(SHOP_TZ):%d/%m/%Y %H:%M} น."
    if order.tracking_number:
        data["carrier"], data["tracking_number"] = order.carrier, order.tracking_number
    if order.shipped_at:
        data["shipped_at_text"] = f"{order.shipped_at.astimezone(SHOP_TZ):%d/%m/%Y %H:%M} น."
    if order.cancel_reason:
        data["cancel_reason"] = order.cancel_reason
    return data


# --- closing: cancel and expire (stock goes back in the same transaction) -------------------------

def _close(session: Session, order: Order, status: OrderStatus, now: datetime, *, reason: str = "",
           from_statuses: frozenset[str] = frozenset({OrderStatus.AWAITING_PAYMENT.value})) -> bool:
    """Move an order still in `from_statuses` (unpaid, by default) to `status` and release its stock;
    False if it had moved on meanwhile.

    The status change is conditional, so a payment landing at the same moment wins cleanly.
    """
    result = session.execute(update(Order).where(Order.id == order.id, Order.status.in_(from_statuses))
                             .values(status=status.value, closed_at=now, cancel_reason=reason[:500])
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    release_stock(session, order)
    return True


_CANNOT_CANCEL = {
    OrderStatus.PAID.value: "คำสั่งซื้อนี้ชำระเงินแล้วค่ะ หากต้องการยกเลิกหรือคืนเงิน ทางร้านจะให้พนักงานช่วยดูแลนะคะ",
    OrderStatus.PAYMENT_PENDING.value: "ทางร้านกำลังตรวจสอบการชำระเงินของคำสั่งซื้อนี้อยู่ค่ะ จึงยังยกเลิกไม่ได้ "
                                       "หากต้องการยกเลิก ทางร้านจะให้พนักงานช่วยดูแลนะคะ",
    OrderStatus.NEEDS_REVIEW.value: "พนักงานกำลังตรวจสอบสลิปของคำสั่งซื้อนี้อยู่ค่ะ จึงยังยกเลิกไม่ได้ "
                                    "หากต้องการยกเลิก ทางร้านจะให้พนักงานช่วยดูแลนะคะ",
    OrderStatus.PACKED.value: "ทางร้านแพ็กสินค้าของคำสั่งซื้อนี้แล้วค่ะ หากต้องการยกเลิกหรือคืนเงิน "
                              "ทางร้านจะให้พนักงานช่วยดูแลนะคะ",
    OrderStatus.SHIPPED.value: "คำสั่งซื้อนี้จัดส่งแล้วค่ะ จึงยกเลิกไม่ได้ หากมีปัญหาเรื่องสินค้า "
                               "ทางร้านจะให้พนักงานช่วยดูแลนะคะ",
    OrderStatus.DELIVERED.value: "คำสั่งซื้อนี้ส่งถึงคุณลูกค้าแล้วค่ะ หากมีปัญหาเรื่องสินค้า ทางร้านจะให้พนักงานช่วยดูแลนะคะ",
    OrderStatus.PICKED_UP.value: "คำสั่งซื้อนี้รับสินค้าไปแล้วค่ะ หากมีปัญหาเรื่องสินค้า ทางร้านจะให้พนักงานช่วยดูแลนะคะ",
    OrderStatus.CANCELLED.value: "คำสั่งซื้อนี้ถูกยกเลิกไปแล้วค่ะ",
    OrderStatus.EXPIRED.value: "คำสั่งซื้อนี้หมดเวลาชำระเงินและยกเลิกไปแล้วค่ะ",
}


def cancel_order(session: Session, customer_id: int, number: str, now: datetime | None = None) -> Order:
    """Cancel the customer's unpaid order; its stock is released in the same transaction."""
    order = find_order(session, customer_id, number)
    if order.status != OrderStatus.AWAITING_PAYMENT.value or not _close(session, order, OrderStatus.CANCELLED,
                                                                        _now(now)):
        session.refresh(order)
        raise ShopError("cannot_cancel", _CANNOT_CANCEL.get(order.status, "คำสั่งซื้อนี้ยกเลิกไม่ได้ค่ะ"),
                        number=order.number, status=order.status)
    session.refresh(order)
    return order


def expire_unpaid_orders(db: Database, settings: Settings, now: datetime | None = None) -> list[int]:
    """Expire unpaid orders whose time is up and release their stock; returns the ids it expired.

    Each order closes in its own short transaction, so one bad row cannot hold back the rest and a
    slip being checked (status payment_pending) is never expired. The worker calls this periodically;
    the deadline itself was fixed at creation from `settings.order_expiry_minutes`.
    """
    now = _now(now)
    with db.session() as session:
        due = list(session.scalars(select(Order.id).where(Order.status == OrderStatus.AWAITING_PAYMENT.value,
                                                           Order.expires_at <= now).order_by(Order.id)))
    expired = []
    for order_id in due:
        with db.session() as session:
            order = session.get(Order, order_id)
            if order is not None and _close(session, order, OrderStatus.EXPIRED, now):
                expired.append(order_id)
    return expired


# --- staff view ----------------------------------------------------------------------------------

def payment_outcome(session: Session, order: Order) -> dict:
    """What the payment checks last said about this order (for staff)."""
    payment = session.scalar(select(Payment).where(Payment.order_id == order.id))
    if payment is not None:
        return {"outcome": "paid", "reason": "", "amount_satang": payment.amount_satang}
    check = session.scalar(select(SlipCheck).where(SlipCheck.order_id == order.id)
                           .order_by(SlipCheck.created_at.desc(), SlipCheck.id.desc()).limit(1))
    if check is None:
        return {"outcome": "no_slip", "reason": "", "amount_satang": None}
    return {"outcome": check.outcome, "reason": check.reason, "amount_satang": check.amount_satang}


def staff_orders(session: Session, status: str | None = None, limit: int = 200) -> list[dict]:
    query = (select(Order).options(selectinload(Order.items), selectinload(Order.customer))
             .order_by(Order.created_at.desc(), Order.id.desc()).limit(limit))
    if status:
        query = query.where(Order.status == status)
    rows = []
    for order in session.scalars(query):
        data = order_json(order)
        data["customer"] = {"line_user_id": order.customer.line_user_id, "display_name": order.customer.display_name}
        data["payment"] = payment_outcome(session, order)
        rows.append(data)
    return rows
