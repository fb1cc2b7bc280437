"""Every table of the service. One module per area; importing this package registers them all."""
from shop.models.catalog import Game, Product, ProductAlias
from shop.models.customers import Cart, CartItem, ChatMessage, Customer
from shop.models.inbox import InboxEvent, InboxStatus, OutboundMessage, WorkerHeartbeat
from shop.models.media import Media
from shop.models.notifications import Notification
from shop.models.orders import Order, OrderItem, OrderStatus
from shop.models.payments import Payment, SlipCheck, SlipOutcome
from shop.models.staff import AuditEntry, SignInFailures, StaffAccount
from shop.models.turns import TurnStep


def create_all(database) -> None:
    """Create every table straight from the models (tests and benchmarks; the service uses Alembic)."""
    from shop.models.base import Base

    Base.metadata.create_all(database.engine)


__all__ = [
    "create_all",
    "Game", "Product", "ProductAlias",
    "Customer", "Cart", "CartItem", "ChatMessage",
    "Order", "OrderItem", "OrderStatus",
    "Payment", "SlipCheck", "SlipOutcome",
    "InboxEvent", "InboxStatus", "OutboundMessage", "WorkerHeartbeat",
    "Media", "Notification", "TurnStep",
    "StaffAccount", "SignInFailures", "AuditEntry",
]
