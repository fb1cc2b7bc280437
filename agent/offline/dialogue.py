"""The offline Thai agent's dialogue: what to do with an understood message, using the shop tools.

It keeps a little state per customer (the cards last shown, what it just asked, the checkout in
progress) so short answers such as "เอาอันนี้ 2 กล่อง", "ส่ง" or a bare phone number make sense.
Every price, total and stock figure it says comes from a tool result of this turn.
"""
from __future__ import annotations

from typing import Protocol

from agent.actions import Postback
from agent.offline import phrases as say
from agent.offline.nlu import Entities, Intent, Understanding, looks_like_name, understand
from agent.reply import Suggestion, ToolCall, TurnReply
from shop.money import format_baht

SHIPPING_QUESTIONS = {"name": say.ASK_NAME, "phone": say.ASK_PHONE, "address": say.ASK_ADDRESS}
SHIPPING_CHOICES = [Suggestion.do("รับเองที่ร้านแทน", "pickup", display="ขอรับสินค้าเองที่ร้าน"),
                    Suggestion.do("ดูตะกร้า", "cart", display="ดูตะกร้าสินค้า")]


class ToolSession(Protocol):
    def call_tool(self, name: str, arguments: dict) -> dict: ...


class OfflineAgent:
    """One turn at a time: `respond(state, text=...)` or `respond(state, action=...)`."""

    def __init__(self, tools: ToolSession, *, shop_name: str = "ร้านบอร์ดเกม", order_expiry_minutes: int = 60,
                 delivery_fee_satang: int = 5000, customer_name: str = ""):
        self.tools = tools
        self.shop_name = shop_name
        self.customer_name = customer_name  # the LINE display name, for greetings ("" when unknown)
        self.order_expiry_minutes = order_expiry_minutes
        self.delivery_fee_satang = delivery_fee_satang

    # ---- entry points -------------------------------------------------------------------------

    def respond(self, state: dict, *, text: str | None = None, action: Postback | None = None) -> TurnReply:
        self.state = state
        self.calls: list[ToolCall] = []
        if action is not None:
            reply = self._on_postback(action)
        else:
            understood = understand(text or "", expecting=state.get("expecting"))
            reply = self._on_understanding(understood, text or "")
        reply.tool_calls = self.calls
        return reply

    def after_other_agent(self, state: dict, summary_shown: dict | None) -> None:
        """Another agent (the LLM) answered this turn: drop the question this agent had asked, and if an
        order summary was shown, take a following "ยืนยันค่ะ" as its confirmation."""
        for key in ("expecting", "summary_total"):
            state.pop(key, None)
        if summary_shown is not None:
            state["expecting"] = "confirm_order"
            state["summary_total"] = summary_shown["total_satang"]

    def greet(self, state: dict) -> TurnReply:
        self.state, self.calls = state, []
        state.pop("expecting", None)
        return TurnReply(say.greeting(self.shop_name, self.customer_name), suggestions=say.MAIN_MENU)

    # ---- tools --------------------------------------------------------------------------------

    def _call(self, tool: str, /, **arguments) -> dict:
        arguments = {k: v for k, v in arguments.items() if v is not None}
        result = self.tools.call_tool(tool, arguments)
        self.calls.append(ToolCall(tool, arguments, result))
        return result

    @staticmethod
    def _error(result: dict) -> str | None:
        if isinstance(result, dict) and result.get("error"):
            return result.get("message_th") or say.SYSTEM_BUSY
        return None

    # ---- postbacks: deterministic actions from buttons ----------------------------------------

    def _on_postback(self, action: Postback) -> TurnReply:
        sku = action.params.get("sku")
        handlers = {
            "details": lambda: self._details(sku),
            "add": lambda: self._add(sku, action.get_int("q", 1)),
            "inc": lambda: self._change(sku, delta=1),
            "dec": lambda: self._change(sku, delta=-1),
            "remove": lambda: self._remove(sku),
            "cart": self._view_cart,
            "checkout": self._checkout,
            "pickup": lambda: self._fulfilment("pickup"),
            "delivery": lambda: self._fulfilment("delivery"),
            "confirm": lambda: self._confirm(action.get_int("t")),
            "edit_order": self._edit_order,
            "pay": lambda: self._pay(action.params.get("n")),
            "status": lambda: self._status(action.params.get("n")),
            "cancel": lambda: self._cancel(action.params.get("n"), confirmed=True),
            "staff": lambda: self._handoff("customer pressed the staff button"),
            "browse": lambda: self._recommend(Entities()),
            "recommend": lambda: self._recommend(Entities()),
            "menu": lambda: self.greet(self.state),
        }
        return handlers[action.action]()

    # ---- text: intents ------------------------------------------------------------------------

    def _on_understanding(self, u: Understanding, text: str) -> TurnReply:
        e = u.entities
        expecting = self.state.get("expecting")
        refusal = (say.PRICE_CHANGE_REFUSED if self._asks_for_discount(text) else
                   say.OTHERS_PRIVATE if self._asks_about_others(text) else None)
        if refusal:  # before anything else: such a message is never an answer to a question
            question = SHIPPING_QUESTIONS.get((expecting or "").removeprefix("shipping_"))
            if question:  # still in the middle of the delivery details: ask again
                return TurnReply(f"{refusal}\n{question}", suggestions=SHIPPING_CHOICES)
            return TurnReply(refusal, suggestions=say.MAIN_MENU)
        step = self._answer_to_question(expecting, u, text)
        if step is not None:
            return step
        handlers = {
            Intent.GREETING: lambda: self.greet(self.state),
            Intent.PRODUCT_QUESTION: lambda: self._about_product(e, text),
            Intent.PRICE: lambda: self._delivery_info() if _about_delivery(text) and not e.product_query
            else self._about_product(e, text),
            Intent.AVAILABILITY: lambda: self._about_product(e, text),
            Intent.RECOMMENDATION: lambda: self._recommend(e),
            Intent.ADD_TO_CART: lambda: self._add_from_text(e),
            Intent.CHANGE_CART: lambda: self._change_from_text(e),
            Intent.REMOVE_FROM_CART: lambda: self._remove_from_text(e),
            Intent.VIEW_CART: self._view_cart,
            Intent.CHECKOUT: self._checkout,
            Intent.SHIPPING_DETAILS: lambda: self._shipping_details(e),
            Intent.PAYMENT_QUESTION: lambda: self._pay(None, explain=True),
            Intent.ORDER_STATUS: lambda: self._status(e.order_number),
            Intent.CANCEL: lambda: self._cancel(e.order_number, confirmed=False),
            Intent.TALK_TO_STAFF: lambda: self._handoff(text),
            Intent.THANKS_BYE: lambda: TurnReply(say.THANKS, suggestions=say.MAIN_MENU),
            Intent.CONFIRM: lambda: self._take_it(e, text),
            Intent.DENY: lambda: self._unknown(e, text),
            Intent.UNKNOWN: lambda: self._unknown(e, text),
        }
        return handlers[u.intent]()

    def _answer_to_question(self, expecting: str | None, u: Understanding, text: str) -> TurnReply | None:
        """Short answers to what the bot just asked; None when the message is about something else."""
        e = u.entities
        if expecting == "quantity" and (e.quantity or u.intent in (Intent.ADD_TO_CART, Intent.CONFIRM)):
            return self._add(self.state.get("pending_sku"), e.quantity or 1)
        if expecting == "fulfilment" and e.fulfilment:
            return self._fulfilment(e.fulfilment)
        if expecting in ("shipping_name", "shipping_phone", "shipping_address") and u.intent in (
                Intent.SHIPPING_DETAILS, Intent.UNKNOWN, Intent.PRODUCT_QUESTION):
            return self._shipping_details(e, raw=text)
        if expecting == "confirm_order" and u.intent in (Intent.CONFIRM, Intent.DENY):
            if u.intent == Intent.CONFIRM:
                return self._confirm(self.state.get("summary_total"))
            return self._edit_order()
        if expecting == "confirm_cancel" and u.intent in (Intent.CONFIRM, Intent.DENY, Intent.CANCEL):
            number = self.state.get("cancel_number")
            if u.intent == Intent.DENY:
                self.state.pop("expecting", None)
                return TurnReply(say.KEEP_ORDER.format(number=number), suggestions=say.MAIN_MENU)
            return self._cancel(number, confirmed=True)
        return None

    @staticmethod
    def _asks_about_others(text: str) -> bool:
        """Another customer's orders or details: never shown, whatever the wording."""
        lowered = text.lower()
        return (any(word in lowered for word in ("คนอื่น", "ลูกค้าอื่น", "ลูกค้าท่านอื่น", "ของคุณลูกค้าคนอื่น",
                                                 "other customer", "someone else", "another customer"))
                and any(word in lowered for word in ("ออเดอร์", "คำสั่งซื้อ", "order", "ข้อมูล", "ที่อยู่",
                                                     "เบอร์", "ชื่อ", "สลิป", "ประวัติ")))

    @staticmethod
    def _asks_for_discount(text: str) -> bool:
        lowered = text.lower()
        return any(word in lowered for word in ("ลดราคาให้", "ลดให้เหลือ", "เปลี่ยนราคา", "ราคาเหลือ 1", "ให้ฟรี"))

    # ---- products -----------------------------------------------------------------------------

    def _shown(self, products: list[dict]) -> None:
        self.state["last_skus"] = [p["sku"] for p in products if p.get("sku")][:12]

    def _resolve(self, e: Entities) -> tuple[dict | None, TurnReply | None]:
        """The product the customer means, or the reply to give instead (not found, which one?).

        Name resolution is the shop's own (`get_product_details` by name): the same rules whichever
        agent asks, and a close-but-unsure match comes back as candidates, never as a guess.
        """
        last = self.state.get("last_skus") or []
        if (e.refers_to_previous or e.ordinal) and last and not e.product_query:
            index = (e.ordinal or 1) - 1
            details = self._call("get_product_details", sku=last[index] if 0 <= index < len(last) else last[0])
        elif e.product_query:
            details = self._call("get_product_details", name=e.product_query)
        else:
            return None, None
        if not self._error(details):
            return details, None
        candidates = details.get("candidates") or details.get("similar") or []
        self._shown(candidates)
        suggestions = say.MAIN_MENU
        if details.get("error") == "product_not_sold":
            name = details["game"].get("name_th") or details["game"].get("name_en")
            suggestions = [Suggestion.do("ให้แอดมินช่วยหา", "staff", display=f"ช่วยหาเกม {name} ให้หน่อย"),
                           Suggestion.do("แนะนำเกมอื่น", "recommend", display="ช่วยแนะนำเกมอื่นหน่อย"),
                           *say.MAIN_MENU[3:]]
        return None, TurnReply(details["message_th"], suggestions=suggestions)

    def _about_product(self, e: Entities, text: str) -> TurnReply:
        if not e.product_query and not (e.refers_to_previous and self.state.get("last_skus")):
            if e.players or e.category or e.budget_max_satang or e.max_minutes or e.age:
                return self._recommend(e)
            return TurnReply(say.ASK_WHICH_PRODUCT, suggestions=say.MAIN_MENU)
        product, instead = self._resolve(e)
        return instead if product is None else self._describe(product)

    def _details(self, sku: str | None) -> TurnReply:
        details = self._call("get_product_details", sku=sku)
        if self._error(details):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(details)), suggestions=say.MAIN_MENU)
        return self._describe(details)

    def _describe(self, details: dict) -> TurnReply:
        self._shown([details])
        self.state["pending_sku"] = details["sku"]
        name = details.get("name_en") or details.get("name_th")
        suggestions = [Suggestion.do("ใส่ตะกร้า", "add", display=f"ใส่ {name} ลงตะกร้า", sku=details["sku"], q=1)] \
            if int(details.get("stock") or 0) > 0 else []
        return TurnReply(say.product_facts(details), suggestions=[*suggestions, *say.MAIN_MENU[:3]])

    def _recommend(self, e: Entities) -> TurnReply:
        found = self._call("recommend_games", players=e.players, minutes=e.max_minutes, age=e.age,
                           budget_max_satang=e.budget_max_satang, category=e.category, limit=6)
        if self._error(found):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(found)), suggestions=say.MAIN_MENU)
        products = [p for p in found.get("results", []) if p.get("kind", "product") == "product"]
        if not products:
            return TurnReply(say.RECOMMEND_NONE, suggestions=say.MAIN_MENU)
        self._shown(products)
        return TurnReply(say.RECOMMEND_INTRO.format(criteria=self._criteria(e)), suggestions=say.MAIN_MENU)

    @staticmethod
    def _criteria(e: Entities) -> str:
        parts = []
        if e.category:
            parts.append(f"แนว{e.category}")
        if e.players:
            parts.append(f"เล่น {e.players} คน")
        if e.max_minutes:
            parts.append(f"ไม่เกิน {e.max_minutes} นาที")
        if e.age:
            parts.append(f"อายุ {e.age} ปีขึ้นไป")
        if e.budget_max_satang:
            parts.append(f"งบไม่เกิน {format_baht(e.budget_max_satang)}")
        return (" (" + " ".join(parts) + ")") if parts else ""

    # ---- cart ---------------------------------------------------------------------------------

    def _add_from_text(self, e: Entities) -> TurnReply:
        if not e.product_query and not (e.refers_to_previous and self.state.get("last_skus")):
            pending = self.state.get("pending_sku")
            if pending and not e.quantity and self._in_cart(pending):
                # "สั่งซื้อ" right after adding means "place the order", not "add it once more"
                return self._checkout()
            if pending:
                return self._add(pending, e.quantity or 1)
            return TurnReply(say.ASK_WHICH_PRODUCT, suggestions=say.MAIN_MENU)
        product, instead = self._resolve(e)
        return instead if product is None else self._add(product["sku"], e.quantity or 1)

    def _in_cart(self, sku: str) -> bool:
        cart = self._call("view_cart")
        return any(item["sku"] == sku for item in (cart.get("items") or [] if isinstance(cart, dict) else []))

    def _add(self, sku: str | None, quantity: int | None) -> TurnReply:
        if not sku:
            return TurnReply(say.ASK_WHICH_PRODUCT, suggestions=say.MAIN_MENU)
        result = self._call("add_to_cart", sku=sku, quantity=quantity or 1)
        self.state.pop("expecting", None)
        if self._error(result):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(result)), suggestions=say.AFTER_ADD)
        line = next((i for i in result["cart"]["items"] if i["sku"] == sku), None)
        self.state["pending_sku"] = sku
        return TurnReply(say.ADDED.format(name=line["name"] if line else sku, quantity=quantity or 1,
                                          total=format_baht(result["cart"]["total_satang"])),
                         suggestions=say.AFTER_ADD)

    def _cart_sku(self, e: Entities) -> str | None:
        """Which cart line a change refers to: named, or the only/last one."""
        cart = self._call("view_cart")
        items = cart.get("items", []) if isinstance(cart, dict) else []
        if e.product_query:  # a named game that is not in the cart never stands for another line
            product, _ = self._resolve(e)
            found = product is not None and any(i["sku"] == product["sku"] for i in items)
            return product["sku"] if found else None
        if e.ordinal and 0 < e.ordinal <= len(items):
            return items[e.ordinal - 1]["sku"]
        pending = self.state.get("pending_sku")
        if any(i["sku"] == pending for i in items):
            return pending
        return items[-1]["sku"] if len(items) == 1 else None

    def _change_from_text(self, e: Entities) -> TurnReply:
        sku = self._cart_sku(e)
        if sku is None or not e.quantity:
            return self._cart_instead(e)
        return self._set_quantity(sku, e.quantity)

    def _change(self, sku: str | None, delta: int) -> TurnReply:
        cart = self._call("view_cart")
        line = next((i for i in cart.get("items", []) if i["sku"] == sku), None)
        if line is None:
            return self._view_cart()
        quantity = line["quantity"] + delta
        return self._remove(sku) if quantity <= 0 else self._set_quantity(sku, quantity)

    def _set_quantity(self, sku: str, quantity: int) -> TurnReply:
        result = self._call("update_cart_item", sku=sku, quantity=quantity)
        if self._error(result):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(result)), suggestions=say.AFTER_ADD)
        line = next((i for i in result["cart"]["items"] if i["sku"] == sku), {"name": sku})
        return TurnReply(say.UPDATED.format(name=line["name"], quantity=quantity,
                                            total=format_baht(result["cart"]["total_satang"])),
                         suggestions=say.AFTER_ADD)

    def _remove_from_text(self, e: Entities) -> TurnReply:
        sku = self._cart_sku(e)
        if sku and e.quantity:  # "ลบ X ออก 1 กล่อง": take that many out, not the whole line
            return self._change(sku, -e.quantity)
        return self._remove(sku) if sku else self._cart_instead(e)

    def _cart_instead(self, e: Entities) -> TurnReply:
        """The change named no line of the cart: show the cart, saying so when a game was named."""
        reply = self._view_cart()
        if e.product_query and reply.show_cart:
            reply.text = f"{say.NOT_IN_CART}\n{reply.text}"
        return reply

    def _remove(self, sku: str | None) -> TurnReply:
        result = self._call("remove_cart_item", sku=sku)
        if self._error(result):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(result)), suggestions=say.MAIN_MENU)
        name = result.get("removed", {}).get("name", sku)
        reply = TurnReply(say.REMOVED.format(name=name), suggestions=say.AFTER_ADD)
        if result["cart"]["items"]:
            self._call("view_cart")
            reply.show_cart = True
        return reply

    def _view_cart(self) -> TurnReply:
        cart = self._call("view_cart")
        if self._error(cart):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(cart)), suggestions=say.MAIN_MENU)
        if not cart.get("items"):
            return TurnReply(say.CART_EMPTY, suggestions=say.MAIN_MENU)
        return TurnReply(say.CART_SHOWN.format(count=len(cart["items"]), total=format_baht(cart["total_satang"])),
                         suggestions=say.AFTER_ADD, show_cart=True)

    # ---- checkout -----------------------------------------------------------------------------

    def _checkout(self) -> TurnReply:
        cart = self._call("view_cart")
        if not cart.get("items"):
            return TurnReply(say.CART_EMPTY, suggestions=say.MAIN_MENU)
        self.state["expecting"] = "fulfilment"
        return TurnReply(say.ASK_FULFILMENT, suggestions=say.FULFILMENT)

    def _fulfilment(self, how: str) -> TurnReply:
        self.state["fulfilment"] = how
        return self._save_shipping()

    def _delivery_info(self) -> TurnReply:
        return TurnReply(say.DELIVERY_INFO.format(fee=format_baht(self.delivery_fee_satang)),
                         suggestions=say.MAIN_MENU)

    def _shipping_details(self, e: Entities, raw: str = "") -> TurnReply:
        """Delivery details, all at once or one answer at a time; the shop's tool validates and keeps them."""
        if "fulfilment" not in self.state and not (e.name or e.phone or e.address):
            return self._delivery_info()  # "ส่งต่างจังหวัดไหม": a question about delivery, not a checkout step
        if "fulfilment" not in self.state:  # details given before checking out: start the checkout first
            cart = self._call("view_cart")
            if not cart.get("items"):
                return TurnReply(say.CART_EMPTY, suggestions=say.MAIN_MENU)
            self.state["fulfilment"] = e.fulfilment or "delivery"
        fields = {"name": e.name, "phone": e.phone, "address": e.address}
        asked = (self.state.get("expecting") or "").removeprefix("shipping_")
        if asked in fields and not fields[asked] and raw.strip() and not any(fields.values()):
            if asked == "phone":
                return TurnReply(say.BAD_PHONE, suggestions=SHIPPING_CHOICES)
            if asked == "name" and not looks_like_name(raw):
                return TurnReply(say.NOT_A_NAME, suggestions=SHIPPING_CHOICES)
            fields[asked] = raw.strip()  # a bare answer to the question just asked
        return self._save_shipping(**fields)

    def _save_shipping(self, **fields) -> TurnReply:
        summary = self._call("set_shipping_details", fulfilment=self.state.get("fulfilment", "pickup"), **fields)
        if self._error(summary):
            return TurnReply(summary["message_th"], suggestions=SHIPPING_CHOICES)
        notes = "\n".join(summary.get("notes_th") or [])
        missing = [m for m in summary.get("missing", []) if m in SHIPPING_QUESTIONS]
        if "items" in summary.get("missing", []):
            self.state.pop("expecting", None)
            return TurnReply(say.CART_EMPTY, suggestions=say.MAIN_MENU)
        if missing:
            self.state["expecting"] = f"shipping_{missing[0]}"
            question = SHIPPING_QUESTIONS[missing[0]]
            return TurnReply(f"{notes}\n{question}".strip(), suggestions=SHIPPING_CHOICES)
        self.state["expecting"] = "confirm_order"
        self.state["summary_total"] = summary["total_satang"]
        text = say.SUMMARY.format(total=format_baht(summary["total_satang"]))
        return TurnReply(f"{notes}\n{text}".strip(), show_summary=summary,
                         suggestions=[Suggestion.do("ยืนยันคำสั่งซื้อ", "confirm", t=summary["total_satang"]),
                                      Suggestion.do("แก้ไข", "edit_order", display="ขอแก้ไขคำสั่งซื้อ")])

    def _confirm(self, total_seen: int | None) -> TurnReply:
        created = self._call("create_order", confirmed=True, expected_total_satang=total_seen)
        if self._error(created):
            # sold out meanwhile: checking out again would fail the same way, so offer the cart to edit
            choices = say.AFTER_ADD[1:] if created.get("error") == "out_of_stock" else say.AFTER_ADD
            return TurnReply(say.TOOL_ERROR.format(message=self._error(created)), suggestions=choices)
        for key in ("expecting", "fulfilment", "summary_total"):
            self.state.pop(key, None)
        number = created["order"]["number"]
        self.state["open_order"] = number
        qr = self._call("create_payment_qr", order_number=number)
        if self._error(qr):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(qr)))
        return TurnReply(say.order_created(number, created["order"]["total_satang"], self.order_expiry_minutes),
                         suggestions=[Suggestion.do("ยกเลิกคำสั่งซื้อ", "cancel", n=number,
                                                    display=f"ยกเลิกคำสั่งซื้อ {number}"),
                                      Suggestion.do("คุยกับแอดมิน", "staff", display="ขอคุยกับแอดมิน")])

    def _edit_order(self) -> TurnReply:
        for key in ("expecting", "summary_total"):
            self.state.pop(key, None)
        reply = self._view_cart()
        reply.text = say.ORDER_NOT_CONFIRMED
        return reply

    # ---- orders -------------------------------------------------------------------------------

    def _latest_order(self, number: str | None, unpaid_only: bool) -> dict | None:
        status = self._call("get_order_status", order_number=number)
        if self._error(status):
            return None
        orders = status.get("orders") or ([status["order"]] if status.get("order") else [])
        if unpaid_only:
            orders = [o for o in orders if o.get("status") == "awaiting_payment"]
        return orders[0] if orders else None

    def _pay(self, number: str | None, explain: bool = False) -> TurnReply:
        order = self._latest_order(number, unpaid_only=True)
        if order is None:
            return TurnReply(say.PAY_HOW if explain else say.NO_OPEN_ORDER, suggestions=say.MAIN_MENU)
        qr = self._call("create_payment_qr", order_number=order["number"])
        if self._error(qr):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(qr)))
        return TurnReply(say.PAY_AGAIN.format(number=order["number"], total=format_baht(order["total_satang"])))

    def _status(self, number: str | None) -> TurnReply:
        order = self._latest_order(number, unpaid_only=False)
        if order is None:
            not_found = self._error(self.calls[-1].result) if number else None
            return TurnReply(not_found or say.NO_ORDERS, suggestions=say.MAIN_MENU)
        suggestions = list(say.MAIN_MENU[:2])
        if order.get("status") == "awaiting_payment":
            suggestions = [Suggestion.do("ชำระเงิน", "pay", n=order["number"], display="ขอ QR ชำระเงิน"),
                           Suggestion.do("ยกเลิกคำสั่งซื้อ", "cancel", n=order["number"],
                                         display=f"ยกเลิกคำสั่งซื้อ {order['number']}")]
        return TurnReply(say.order_status(order), suggestions=suggestions)

    def _cancel(self, number: str | None, confirmed: bool) -> TurnReply:
        order = self._latest_order(number, unpaid_only=True)
        if order is None:
            self.state.pop("expecting", None)
            return TurnReply(say.NO_OPEN_ORDER, suggestions=say.MAIN_MENU)
        if not confirmed:
            self.state["expecting"] = "confirm_cancel"
            self.state["cancel_number"] = order["number"]
            return TurnReply(say.CONFIRM_CANCEL.format(number=order["number"],
                                                       total=format_baht(order["total_satang"])),
                             suggestions=say.YES_NO)
        result = self._call("cancel_order", order_number=order["number"])
        for key in ("expecting", "cancel_number", "open_order"):
            self.state.pop(key, None)
        if self._error(result):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(result)), suggestions=say.MAIN_MENU)
        return TurnReply(say.CANCELLED.format(number=order["number"]), suggestions=say.MAIN_MENU)

    def _handoff(self, reason: str) -> TurnReply:
        result = self._call("handoff_to_staff", reason=(reason or "")[:500])
        if self._error(result):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(result)))
        return TurnReply(say.HANDOFF)

    def _take_it(self, e: Entities, text: str) -> TurnReply:
        """"เอาค่ะ" after a game was shown (and is not in the cart yet): put it in the cart."""
        pending = self.state.get("pending_sku")
        if pending and any(word in text for word in ("เอา", "ซื้อ", "สั่ง")) and not self._in_cart(pending):
            return self._add(pending, 1)
        return self._unknown(e, text)

    def _unknown(self, e: Entities, text: str) -> TurnReply:
        """Last try: the whole message may be a product name."""
        name = (e.product_query or text).strip()
        if name and len(name) <= 60:
            product, instead = self._resolve(Entities(product_query=name))
            if product is not None:
                return self._describe(product)
            if self.calls[-1].result.get("error") in ("product_not_sold", "product_ambiguous"):
                return instead  # it did name a game: say what the shop knows about it
            self.calls.pop()  # only a guess: its "similar products" are not worth showing
        return TurnReply(say.NOT_UNDERSTOOD, suggestions=say.MAIN_MENU)


def _about_delivery(text: str) -> bool:
    return any(word in text for word in ("ค่าส่ง", "ค่าจัดส่ง", "ค่าขนส่ง", "ส่งฟรี", "shipping"))
