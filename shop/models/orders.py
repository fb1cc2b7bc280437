"""Orders and their lines. Unit prices are copied from the product when the order is created."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.models.base import Base, UTCDateTime, utcnow


class OrderStatus(str, enum.Enum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAYMENT_PENDING = "payment_pending"      # slip received, provider unreachable: being checked
    NEEDS_REVIEW = "needs_review"            # staff must look at the slip
    PAID = "paid"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (CheckConstraint("total_satang >= 0"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # shown to customer and staff
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.AWAITING_PAYMENT.value, index=True)
    fulfilment: Mapped[str] = mapped_column(String(10))  # pickup | delivery
    ship_name: Mapped[str] = mapped_column(String(200), default="")
    ship_phone: Mapped[str] = mapped_column(String(20), default="")
    ship_address: Mapped[str] = mapped_column(Text, default="")
    subtotal_satang: Mapped[int]
    shipping_satang: Mapped[int] = mapped_column(default=0)
    total_satang: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # cancelled or expired
    closed_reason: Mapped[str] = mapped_column(String(500), default="")  # why staff cancelled it

    customer: Mapped[Customer] = relationship()  # noqa: F821
    items: Mapped[list[OrderItem]] = relationship(back_populates="order", cascade="all, delete-orphan",
                                                    order_by="OrderItem.id")


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity > 0"), CheckConstraint("unit_price_satang >= 0"))

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    name: Mapped[str] = mapped_column(String(300))  # snapshot for receipts
    unit_price_satang: Mapped[int]
    quantity: Mapped[int]

    order: Mapped[Order] = relationship(back_populates="items")

    @property
    def line_total_satang(self) -> int:
        return self.unit_price_satang * self.quantity


from shop.models.customers import Customer  # noqa: E402
