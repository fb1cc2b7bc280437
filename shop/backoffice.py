"""What the back office reads: today's figures, the filtered and paged orders list, one order with
everything staff need to decide about it. Read-only; changes go through shop.fulfilment and
payments.review."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from shop.models import Customer, Order, OrderStatus, Payment, Product, SlipCheck, SlipOutcome
from shop.orders import SHOP_TZ, STATUS_TH, normalise_number, order_json

S = OrderStatus
PAID_STATUSES = (S.PAID.value, S.PACKED.value, S.SHIPPED.value, S.DELIVERED.value, S.PICKED_UP.value)
LOW_STOCK = 2
PER_PAGE = 30
MAX_QUERY = 100


def _shop_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), SHOP_TZ).astimezone(UTC)


def _sales(session: Session, since: datetime) -> dict:
    total, count = session.execute(select(func.coalesce(func.sum(Order.total_satang), 0), func.count())
                                   .where(Order.paid_at >= since, Order.status.in_(PAID_STATUSES))).one()
    return {"total_satang": int(total), "orders": int(count)}


def today(session: Session, now: datetime | None = None) -> dict:
    """Sales today and this week (Monday to now, shop time), what waits for staff, low stock."""
    now = now or datetime.now(UTC)
    local = now.astimezone(SHOP_TZ).date()
    counts = dict(session.execute(select(Order.status, func.count()).group_by(Order.status)).all())
    review = session.scalar(select(func.count()).select_from(SlipCheck)
                            .where(SlipCheck.outcome == SlipOutcome.NEEDS_REVIEW.value)) or 0
    low = session.scalars(select(Product).where(Product.stock <= LOW_STOCK)
                          .order_by(Product.stock, Product.name_en).limit(20)).all()
    return {"today": _sales(session, _shop_midnight(local)),
            "week": _sales(session, _shop_midnight(local - timedelta(days=local.weekday()))),
            "awaiting_payment": counts.get(S.AWAITING_PAYMENT.value, 0),
            "payment_pending": counts.get(S.PAYMENT_PENDING.value, 0),
            "slips_to_review": review,
            "to_pack": counts.get(S.PAID.value, 0),
            "to_ship": counts.get(S.PACKED.value, 0),
            "low_stock": [{"sku": p.sku, "name": p.name_th or p.name_en, "stock": p.stock} for p in low]}


@dataclass
class OrderFilter:
    """The orders list's filters, read from the query string; bad values are dropped, not errors."""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""
    page: int = 1
    problems: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> OrderFilter:
        result = cls()
        status = args.get("status", "")
        if status in STATUS_TH:
            result.status = status
        for name in ("date_from", "date_to"):
            value = (args.get(name) or "").strip()
            if value:
                try:
                    setattr(result, name, date.fromisoformat(value))
                except ValueError:
                    result.problems.append(f"วันที่ “{value[:20]}” ไม่ถูกต้อง (ใช้รูปแบบ ปปปป-ดด-วว)")
        result.text = " ".join((args.get("q") or "").split())[:MAX_QUERY]
        try:
            result.page = max(1, min(int(args.get("page", 1)), 100_000))
        except ValueError:
            result.page = 1
        return result

    def query_args(self, **override) -> dict:
        args = {"status": self.status, "date_from": self.date_from.isoformat() if self.date_from else "",
                "date_to": self.date_to.isoformat() if self.date_to else "", "q": self.text, "page": self.page}
        args.update(override)
        return {name: value for name, value in args.items() if value not in ("", None) and (name != "page" or value != 1)}


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _contains(column, text: str):
    """Substring match; case-insensitive only when the text has Latin letters (Thai has no case, and a
    plain LIKE is several times cheaper than ILIKE on PostgreSQL)."""
    if any("a" <= c.lower() <= "z" for c in text):
        return column.ilike(_like(text), escape="\\")
    return column.like(_like(text), escape="\\")


def _text_condition(text: str):
    number = normalise_number(text)
    return or_(Order.number.like(_like(number), escape="\\"), _contains(Customer.display_name, text),
               _contains(Order.ship_name, text), Order.ship_phone.like(_like(text.replace("-", "")), escape="\\"),
               _contains(Order.tracking_number, number))


def orders_page(session: Session, flt: OrderFilter, per_page: int = PER_PAGE) -> dict:
    """One page of orders, newest first, and how many match."""
    conditions = []
    if flt.status:
        conditions.append(Order.status == flt.status)
    if flt.date_from:
        conditions.append(Order.created_at >= _shop_midnight(flt.date_from))
    if flt.date_to:
        conditions.append(Order.created_at < _shop_midnight(flt.date_to + timedelta(days=1)))
    if flt.text:
        conditions.append(_text_condition(flt.text))
    counted = select(func.count()).select_from(Order)
    if flt.text:
        counted = counted.join(Customer, Customer.id == Order.customer_id)
    total = session.scalar(counted.where(*conditions)) or 0  # status and dates alone: answered from indexes
    page = min(flt.page, max(1, -(-total // per_page)))
    rows = session.execute(select(Order, Customer).join(Customer, Customer.id == Order.customer_id)
                           .where(*conditions).order_by(Order.created_at.desc(), Order.id.desc())
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return {"total": total, "page": page, "pages": max(1, -(-total // per_page)),
            "orders": [{"number": o.number, "status": o.status, "status_th": STATUS_TH.get(o.status, o.status),
                        "created_at": o.created_at, "total_satang": o.total_satang, "fulfilment": o.fulfilment,
                        "customer": c.display_name or c.line_user_id[:9] + "…", "ship_name": o.ship_name,
                        "tracking_number": o.tracking_number}
                       for o, c in rows]}


def order_detail(session: Session, number: str) -> dict | None:
    """One order for its page: lines, customer, delivery, payment, every slip sent for it."""
    order = session.scalar(select(Order).options(selectinload(Order.items), selectinload(Order.customer))
                           .where(Order.number == normalise_number(number)))
    if order is None:
        return None
    payment = session.scalar(select(Payment).where(Payment.order_id == order.id))
    checks = session.scalars(select(SlipCheck).where(SlipCheck.order_id == order.id)
                             .order_by(SlipCheck.created_at.desc(), SlipCheck.id.desc())).all()
    data = order_json(order)
    data.update(id=order.id, created=order.created_at, order=order,
                customer={"display_name": order.customer.display_name,
                          "line_user_id": order.customer.line_user_id},
                payment=None if payment is None else {"amount_satang": payment.amount_satang,
                                                      "sending_bank": payment.sending_bank,
                                                      "trans_ref": payment.trans_ref, "paid_at": payment.paid_at,
                                                      "slip_check_id": payment.slip_check_id},
                slip_checks=checks)
    return data
