"""What the customer is told about a slip: the checks' Thai sentence, and the receipt once paid.

Used by the turn (a slip photo just sent) and by housekeeping (a slip re-checked after the provider
was down), so both say the same thing.
"""
from __future__ import annotations

from agent.offline import phrases
from bot.replies import flex
from bot.replies.messages import text, with_quick_replies
from shop.db import Database
from shop.models import Order
from shop.orders import order_json


def slip_messages(db: Database, result) -> list[dict]:
    """LINE messages for a `payments.checks.SlipResult`."""
    messages = [text(result.message_th)]
    if result.outcome == "paid" and result.order_id is not None:
        with db.session() as session:
            order = session.get(Order, result.order_id)
            if order is not None:
                messages.append(flex.receipt(order_json(order)))
    return with_quick_replies(messages, phrases.MAIN_MENU)
