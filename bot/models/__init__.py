"""Every table of the service. One module per area; importing this package registers them all."""
from bot.models.catalog import Game, Product, ProductAlias
from bot.models.customers import Cart, CartItem, ChatMessage, Customer
from bot.models.orders import Order, OrderItem, OrderStatus
from bot.models.payments import Payment, SlipCheck, SlipOutcome
from bot.models.inbox import InboxEvent, InboxStatus, OutboundMessage
from bot.models.media import Media
from bot.models.notifications import Notification

__all__ = [
    "Game", "Product", "ProductAlias",
    "Customer", "Cart", "CartItem", "ChatMessage",
    "Order", "OrderItem", "OrderStatus",
    "Payment", "SlipCheck", "SlipOutcome",
    "InboxEvent", "InboxStatus", "OutboundMessage",
    "Media", "Notification",
]
