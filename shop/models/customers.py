"""LINE customers, their cart, and the recent conversation kept for the agents."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.models.base import Base, JSONType, UTCDateTime, utcnow


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_user_id: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")  # LINE profile name (bot.profiles)
    profile_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when display_name was read
    followed: Mapped[bool] = mapped_column(default=True)
    # Saved shipping details, reused at the next checkout.
    ship_name: Mapped[str] = mapped_column(String(200), default="")
    ship_phone: Mapped[str] = mapped_column(String(20), default="")
    ship_address: Mapped[str] = mapped_column(Text, default="")
    # Dialogue state of the offline agent (last products shown, checkout step, ...).
    state: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cart: Mapped[Cart | None] = relationship(back_populates="customer", uselist=False)


class Cart(Base):
    """One open cart per customer."""

    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), unique=True)
    fulfilment: Mapped[str] = mapped_column(String(10), default="")  # "", pickup or delivery (checkout choice)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="cart")
    items: Mapped[list[CartItem]] = relationship(back_populates="cart", cascade="all, delete-orphan",
                                                   order_by="CartItem.id")


class CartItem(Base):
    __tablename__ = "cart_items"
    __table_args__ = (UniqueConstraint("cart_id", "product_id"), CheckConstraint("quantity > 0"))

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int]

    cart: Mapped[Cart] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()  # noqa: F821


class ChatMessage(Base):
    """A line of the conversation (customer or bot), for the LLM agent's memory and for staff."""

    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # user | assistant
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Who wrote an assistant line (llm | offline) and the tool calls behind it
    # ([{"name", "arguments", "result"}]): what `salesbot export sft` learns from.
    agent: Mapped[str] = mapped_column(String(16), default="", server_default="")
    tool_calls: Mapped[list | None] = mapped_column(JSONType, default=None)


class StaffRequest(Base):
    """A customer asked for a person (handoff_to_staff): a handoff while unresolved (shop/handoff.py)."""

    __tablename__ = "staff_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    order_number: Mapped[str] = mapped_column(String(20), default="")
    reason: Mapped[str] = mapped_column(Text, default="")  # the customer's words or the agent's summary
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    staff_replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # keeps the handoff from timing out

    customer: Mapped[Customer] = relationship()


from shop.models.catalog import Product  # noqa: E402  (relationship target)
