"""Turn an agent's reply into LINE messages: the text, then at most one attachment decided by the
tool calls of the turn (never by the model's prose), then quick replies on the last message."""
from __future__ import annotations

from agent.reply import Suggestion, ToolCall, TurnReply
from bot.replies import flex
from bot.replies.messages import image, text, with_quick_replies

LISTING_TOOLS = {"search_products", "recommend_games", "get_product_details"}
CART_CHANGES = {"add_to_cart", "update_cart_item", "remove_cart_item"}
SUMMARY_TOOLS = {"preview_order", "set_shipping_details"}


def _last(calls: list[ToolCall], names: set[str]) -> ToolCall | None:
    return next((c for c in reversed(calls) if c.name in names and c.ok), None)


def _products(call: ToolCall, calls: list[ToolCall] | None = None) -> list[dict]:
    """Products a listing call showed; for a name the shop was unsure of, the candidates it offered.
    Several products looked up one by one in the turn ("มี A กับ B ไหม") are shown together."""
    if not call.ok:
        return call.result.get("candidates") or call.result.get("similar") or []
    if call.name == "get_product_details":
        looked_up = [c.result for c in (calls or [call]) if c.name == "get_product_details" and c.ok]
        return list({p["sku"]: p for p in looked_up if p.get("sku")}.values())[-10:] or [call.result]
    return [p for p in call.result.get("results", []) if p.get("kind", "product") == "product" and p.get("sku")]


def summary_to_confirm(reply: TurnReply) -> dict | None:
    """The order summary this turn left awaiting the customer's confirmation, if any."""
    if reply.show_summary:
        return reply.show_summary
    summary = _last(reply.tool_calls, SUMMARY_TOOLS)
    if (summary is not None and summary.result.get("ready_to_confirm")
            and summary is _last(reply.tool_calls, SUMMARY_TOOLS | {"create_order"})):
        return summary.result   # the LLM showed a complete summary: the customer confirms by button or words
    return None


def attachment(reply: TurnReply, hero: flex.HeroUrl | None = None) -> dict | None:
    calls = reply.tool_calls
    qr = _last(calls, {"create_payment_qr"})
    if qr is not None:
        return image(qr.result["image_url"], qr.result.get("preview_url"))
    summary = summary_to_confirm(reply)
    if summary is not None:
        return flex.order_summary(summary)
    cart = _last(calls, {"view_cart"})
    if cart is not None and (reply.show_cart or calls[-1] is cart) and cart.result.get("items"):
        return flex.cart_bubble(cart.result)
    if _last(calls, CART_CHANGES | {"create_order", "cancel_order"}) is not None:
        return None
    listing = next((c for c in reversed(calls) if c.name in LISTING_TOOLS), None)
    if listing is not None:
        products = _products(listing, calls)
        if products:
            return flex.product_carousel(products, hero=hero)
    return None


def default_suggestions(reply: TurnReply) -> list[Suggestion]:
    """Next steps when the agent offered none (the LLM agent): from what the turn did."""
    from agent.offline import phrases

    if _last(reply.tool_calls, CART_CHANGES) is not None:
        return phrases.AFTER_ADD
    return phrases.MAIN_MENU


def compose(reply: TurnReply, extra: list[dict] | None = None, hero: flex.HeroUrl | None = None) -> list[dict]:
    """`hero(product)`: the URL of a product card's picture (None: cards without pictures)."""
    messages = [text(reply.text)] if reply.text else []
    extra_attachment = attachment(reply, hero)
    if extra_attachment is not None:
        messages.append(extra_attachment)
    messages.extend(extra or [])
    suggestions = reply.suggestions or default_suggestions(reply)
    return with_quick_replies(messages[:5], suggestions)
