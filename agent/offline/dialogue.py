"""The offline Thai agent's dialogue: the acts of a message applied in order, answered in one reply.

A message is read into dialogue acts (acts.py: greeting, add items, ask the price, a shop question, ...);
each act is handled by the method the policy table below names for the current state (what the bot
last asked), and the answers are joined. The state (state.py) remembers the cards last shown, what was
just added, the question asked and the checkout in progress, so "เอาอันนี้ 2 กล่อง", "ส่ง" or a bare
phone number make sense. Every price, total and stock figure said comes from a tool result of this turn.
"""
from __future__ import annotations

import re
from typing import Protocol

from agent.actions import Postback
from agent.offline import phrases as say
from agent.offline.acts import Act, ActKind, Item, read_acts
from agent.offline.nlu import Entities, looks_like_name
from agent.offline.state import DialogueState
from agent.reply import Suggestion, ToolCall, TurnReply
from shop.money import format_baht

K = ActKind

# ---------------------------------------------------------------------------------- the policy
# In the style of python-telegram-bot's ConversationHandler: for each state (what the bot has just
# asked, `DialogueState.expecting`), the acts that answer that question and the method handling them.
# Any other act is handled as it would be with nothing asked (ANYTIME), and the pending question is
# asked again after the answer, so a question in the middle of a checkout never loses the checkout.
POLICY: dict[str, dict[ActKind, str]] = {
    "quantity": {                      # "how many?" (after a count the shop could not take)
        K.ADD: "_add_items", K.SET_QUANTITY: "_add_items", K.CONFIRM: "_add_items",
    },
    "product_choice": {                # "which edition?": the quantity already said is kept
        K.ADD: "_add_items", K.ASK_PRODUCT: "_choice_or_question", K.CONFIRM: "_add_items",
    },
    "fulfilment": {                    # "pickup or delivery?"
        K.SHIPPING_CHOICE: "_fulfilment", K.SHIPPING_DETAILS: "_shipping_details",
    },
    "shipping_name": {K.SHIPPING_DETAILS: "_shipping_details", K.UNKNOWN: "_shipping_details",
                      K.ASK_PRODUCT: "_shipping_details", K.SHIPPING_CHOICE: "_fulfilment"},
    "shipping_phone": {K.SHIPPING_DETAILS: "_shipping_details", K.UNKNOWN: "_shipping_details",
                       K.ASK_PRODUCT: "_shipping_details", K.SHIPPING_CHOICE: "_fulfilment"},
    "shipping_address": {K.SHIPPING_DETAILS: "_shipping_details", K.UNKNOWN: "_shipping_details",
                         K.ASK_PRODUCT: "_shipping_details", K.SHIPPING_CHOICE: "_fulfilment"},
    "confirm_order": {                 # the summary is shown: yes creates the order, no edits it
        K.CONFIRM: "_confirm_summary", K.DENY: "_edit_order",
    },
    "confirm_cancel": {                # "cancel order SB…?"
        K.CONFIRM: "_cancel_confirmed", K.CANCEL: "_cancel_confirmed", K.DENY: "_keep_order",
    },
}
ANYTIME: dict[ActKind, str] = {
    K.GREETING: "_greeting", K.THANKS: "_thanks",
    K.ADD: "_add_items", K.SET_QUANTITY: "_set_quantities", K.REMOVE: "_remove_items", K.REPLACE: "_replace",
    K.ASK_PRICE: "_ask", K.ASK_PLAYERS: "_ask", K.ASK_TIME: "_ask", K.ASK_EDITION: "_ask", K.ASK_PRODUCT: "_ask",
    K.RECOMMEND: "_recommend", K.VIEW_CART: "_view_cart_act", K.CHECKOUT: "_checkout_act",
    K.SHIPPING_CHOICE: "_fulfilment", K.SHIPPING_DETAILS: "_shipping_details",
    K.CONFIRM: "_take_it", K.DENY: "_deny", K.CANCEL: "_cancel_asked", K.ORDER_STATUS: "_status_act",
    K.SHOP_QUESTION: "_shop_question", K.PAYMENT_CLAIM: "_payment_claim",
    K.STAFF_CLAIM: "_refuse", K.OTHERS_DATA: "_refuse", K.PRICE_CHANGE: "_refuse", K.INJECTION: "_refuse",
    K.TALK_TO_STAFF: "_handoff_act", K.UNKNOWN: "_unknown",
}
REFUSAL_TEXT = {K.STAFF_CLAIM: say.STAFF_CLAIM_REFUSED, K.OTHERS_DATA: say.OTHERS_PRIVATE,
                K.PRICE_CHANGE: say.PRICE_CHANGE_REFUSED, K.INJECTION: say.INJECTION_REFUSED}
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
        """Answer one message or button; `state` (the customer's stored dict) is updated in place."""
        self.s = DialogueState.from_dict(state)
        self.calls: list[ToolCall] = []
        self.added: list[str] = []
        self._cart: dict | None = None
        if action is not None:
            reply = self._on_postback(action)
        else:
            reply = self._on_text(text or "")
        self.s.last_added = self.added
        state.clear()
        state.update(self.s.to_dict())
        reply.tool_calls = self.calls
        return reply

    def after_other_agent(self, state: dict, summary_shown: dict | None) -> None:
        """Another agent (the LLM) answered this turn: drop the question this agent had asked, and if an
        order summary was shown, take a following "ยืนยันค่ะ" as its confirmation."""
        s = DialogueState.from_dict(state)
        s.forget_question()
        s.summary_total = None
        if summary_shown is not None:
            s.expecting = "confirm_order"
            s.summary_total = summary_shown["total_satang"]
        state.clear()
        state.update(s.to_dict())

    def greet(self, state: dict) -> TurnReply:
        s = DialogueState.from_dict(state)
        s.forget_question()
        state.clear()
        state.update(s.to_dict())
        self.calls = []
        return TurnReply(say.greeting(self.shop_name, self.customer_name), suggestions=say.MAIN_MENU)

    # ---- tools --------------------------------------------------------------------------------

    def _call(self, tool: str, /, **arguments) -> dict:
        arguments = {k: v for k, v in arguments.items() if v is not None}
        result = self.tools.call_tool(tool, arguments)
        self.calls.append(ToolCall(tool, arguments, result))
        if tool in ("add_to_cart", "update_cart_item", "remove_cart_item") and isinstance(result, dict) \
                and isinstance(result.get("cart"), dict):
            self._cart = result["cart"]
        elif tool == "view_cart" and isinstance(result, dict) and not result.get("error"):
            self._cart = result
        return result

    @staticmethod
    def _error(result: dict) -> str | None:
        if isinstance(result, dict) and result.get("error"):
            return result.get("message_th") or say.SYSTEM_BUSY
        return None

    def _cart_items(self) -> list[dict]:
        cart = self._cart if self._cart is not None else self._call("view_cart")
        return cart.get("items") or [] if isinstance(cart, dict) else []

    def _spot(self, text: str) -> list[dict]:
        related = list(dict.fromkeys([*self.s.last_added, *([self.s.pending_sku] if self.s.pending_sku else []),
                                      *self.s.last_skus]))[:30]
        found = self._call("find_products_in_text", text=text[:1000], related=related or None)
        self.calls.pop()   # spotting names is reading, not something the reply shows
        return found.get("mentions") or [] if isinstance(found, dict) else []

    # ---- postbacks: deterministic actions from buttons ----------------------------------------

    def _on_postback(self, action: Postback) -> TurnReply:
        sku = action.params.get("sku")
        handlers = {
            "details": lambda: self._details(sku),
            "add": lambda: self._add_button(sku, action.get_int("q", 1)),
            "inc": lambda: self._change(sku, delta=1),
            "dec": lambda: self._change(sku, delta=-1),
            "remove": lambda: self._remove(sku),
            "cart": self._view_cart,
            "checkout": self._checkout,
            "pickup": lambda: self._choose_fulfilment("pickup"),
            "delivery": lambda: self._choose_fulfilment("delivery"),
            "confirm": lambda: self._confirm(action.get_int("t")),
            "edit_order": self._edit_order_reply,
            "pay": lambda: self._pay(action.params.get("n")),
            "status": lambda: self._status(action.params.get("n")),
            "cancel": lambda: self._cancel(action.params.get("n"), confirmed=True),
            "staff": lambda: self._handoff("customer pressed the staff button"),
            "browse": lambda: self._recommend_with(Entities()),
            "recommend": lambda: self._recommend_with(Entities()),
            "menu": lambda: self.greet_reply(),
        }
        return handlers[action.action]()

    def greet_reply(self) -> TurnReply:
        self.s.forget_question()
        return TurnReply(say.greeting(self.shop_name, self.customer_name), suggestions=say.MAIN_MENU)

    def _add_button(self, sku: str | None, quantity: int) -> TurnReply:
        """A card's add button: after "which edition?", the quantity the customer already said."""
        if self.s.expecting == "product_choice" and self.s.pending_quantity and quantity == 1:
            quantity = self.s.pending_quantity
        return self._add_lines([(sku, quantity)])

    # ---- text: acts ---------------------------------------------------------------------------

    def _on_text(self, text: str) -> TurnReply:
        acts = read_acts(text, expecting=self.s.expecting, spot=self._spot)
        parts: list[tuple[Act, TurnReply]] = []
        for act in acts:
            handler = POLICY.get(self.s.expecting or "", {}).get(act.kind) or ANYTIME[act.kind]
            reply = getattr(self, handler)(act)
            if reply is not None:
                parts.append((act, reply))
        return self._join(parts)

    def _join(self, parts: list[tuple[Act, TurnReply]]) -> TurnReply:
        """One reply for all acts: greetings and thanks shortened when something else is answered."""
        polite = {K.GREETING, K.THANKS}
        substantive = [(a, r) for a, r in parts if a.kind not in polite]
        if not substantive:
            return parts[-1][1] if parts else self._unknown(Act(K.UNKNOWN))
        texts = []
        if any(a.kind is K.GREETING for a, _ in parts):
            texts.append(say.HELLO_SHORT)
        if any(a.kind is K.THANKS for a, _ in parts[:1]):
            texts.append(say.THANKS_SHORT)
        texts += [r.text for _, r in substantive if r.text]
        last = substantive[-1][1]
        reply = TurnReply("\n".join(dict.fromkeys(texts)), suggestions=last.suggestions,
                          show_cart=any(r.show_cart for _, r in substantive),
                          show_summary=next((r.show_summary for _, r in reversed(substantive) if r.show_summary), None))
        return self._ask_again(reply, substantive)

    def _ask_again(self, reply: TurnReply, parts: list[tuple[Act, TurnReply]]) -> TurnReply:
        """A side question answered in the middle of the delivery details: ask for the detail again."""
        asked = (self.s.expecting or "").removeprefix("shipping_")
        question = SHIPPING_QUESTIONS.get(asked)
        if question and question not in reply.text:
            reply.text = f"{reply.text}\n{question}"
            reply.suggestions = SHIPPING_CHOICES
        elif self.s.expecting == "fulfilment" and say.ASK_FULFILMENT not in reply.text:
            reply.text = f"{reply.text}\n{say.ASK_FULFILMENT}"
            reply.suggestions = say.FULFILMENT
        elif self.s.expecting == "confirm_order" and reply.show_summary is None and self.s.summary_total:
            reply.suggestions = self._summary_buttons(self.s.summary_total)
        return reply

    # ---- small acts ---------------------------------------------------------------------------

    def _greeting(self, act: Act) -> TurnReply:
        return self.greet_reply()

    def _thanks(self, act: Act) -> TurnReply:
        return TurnReply(say.THANKS, suggestions=say.MAIN_MENU)

    def _refuse(self, act: Act) -> TurnReply:
        return TurnReply(REFUSAL_TEXT[act.kind], suggestions=say.MAIN_MENU)

    def _deny(self, act: Act) -> TurnReply:
        return TurnReply(say.NO_PROBLEM, suggestions=say.MAIN_MENU)

    # ---- which product ------------------------------------------------------------------------

    def _shown(self, products: list[dict]) -> None:
        self.s.last_skus = [p["sku"] for p in products if p.get("sku")][:12]

    def _referred_sku(self, item: Item) -> str | None:
        """The card or product an "อันนี้", "ตัวที่สอง" or a bare count refers to."""
        last = self.s.last_skus
        if item.ordinal:
            return last[item.ordinal - 1] if 0 < item.ordinal <= len(last) else None
        return self.s.pending_sku or (last[0] if last else None)

    def _resolve(self, item: Item) -> tuple[dict | None, TurnReply | None]:
        """The product an item means (its details), or the reply to give instead (not found, which one?).

        Several catalogue matches (editions) and free words go through the shop's own name resolution
        (`get_product_details` by name): a close-but-unsure match comes back as candidates, never a guess.
        """
        if len(item.skus) == 1:
            details = self._call("get_product_details", sku=item.skus[0])
        elif item.named:
            details = self._call("get_product_details", name=item.query or item.skus[0])
        else:
            sku = self._referred_sku(item)
            if sku is None:
                return None, TurnReply(say.ASK_WHICH_PRODUCT, suggestions=say.MAIN_MENU)
            details = self._call("get_product_details", sku=sku)
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
        if details.get("error") == "product_ambiguous":
            self.s.expecting = "product_choice"
            self.s.pending_quantity = item.quantity if item.quantity_problem is None else None
        return None, TurnReply(details.get("message_th") or say.SYSTEM_BUSY, suggestions=suggestions)

    def _resolve_sku(self, item: Item) -> tuple[str | None, TurnReply | None]:
        if len(item.skus) == 1:
            return item.skus[0], None
        if not item.named:
            sku = self._referred_sku(item)
            return (sku, None) if sku else (None, TurnReply(say.ASK_WHICH_PRODUCT, suggestions=say.MAIN_MENU))
        product, instead = self._resolve(item)
        return (product["sku"] if product else None), instead

    # ---- questions about products -------------------------------------------------------------

    def _ask(self, act: Act) -> TurnReply:
        items = act.items or ([Item(refers_to_previous=True)] if self.s.pending_sku or self.s.last_skus else [])
        if not items:
            if _has_constraints(act.entities):
                return self._recommend(act)
            return TurnReply(say.ASK_WHICH_PRODUCT, suggestions=say.MAIN_MENU)
        texts, suggestions, shown = [], say.MAIN_MENU, []
        for item in _distinct(items):
            product, instead = self._resolve(item)
            if product is None:
                texts.append(instead.text)
                suggestions = instead.suggestions
                continue
            shown.append(product)
            answer = say.answer_about(act.kind.value, product, act.entities)
            texts.append(f"{answer}\n{say.product_facts(product)}" if answer else say.product_facts(product))
            suggestions = self._product_suggestions(product)
            if not product.get("stock"):
                texts.extend(self._alternatives(product["sku"], item.quantity))
        if shown and self.s.expecting != "product_choice":
            self._shown(shown)
            self.s.pending_sku = shown[-1]["sku"]
        return TurnReply("\n\n".join(texts), suggestions=suggestions)

    def _product_suggestions(self, details: dict) -> list[Suggestion]:
        name = details.get("name_en") or details.get("name_th")
        add = [Suggestion.do("ใส่ตะกร้า", "add", display=f"ใส่ {name} ลงตะกร้า", sku=details["sku"], q=1)] \
            if int(details.get("stock") or 0) > 0 else []
        return [*add, *say.MAIN_MENU[:3]]

    def _details(self, sku: str | None) -> TurnReply:
        details = self._call("get_product_details", sku=sku)
        if self._error(details):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(details)), suggestions=say.MAIN_MENU)
        return self._describe(details)

    def _describe(self, details: dict) -> TurnReply:
        self._shown([details])
        self.s.pending_sku = details["sku"]
        return TurnReply(say.product_facts(details), suggestions=self._product_suggestions(details))

    def _recommend(self, act: Act) -> TurnReply:
        return self._recommend_with(act.entities)

    def _recommend_with(self, e: Entities) -> TurnReply:
        found = self._call("recommend_games", players=e.players, minutes=e.max_minutes, age=e.age,
                           budget_max_satang=e.budget_max_satang, budget_min_satang=e.budget_min_satang,
                           category=e.category, limit=6)
        if self._error(found):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(found)), suggestions=say.MAIN_MENU)
        products = [p for p in found.get("results", []) if p.get("kind", "product") == "product"]
        if not products:
            return TurnReply(say.RECOMMEND_NONE, suggestions=say.MAIN_MENU)
        self._shown(products)
        self.s.pending_sku = None
        relaxed = found.get("relaxed") or []
        criteria = say.criteria(e, skip=relaxed)
        if relaxed:
            return TurnReply(say.RECOMMEND_RELAXED.format(dropped=say.relaxed_names(e, relaxed), criteria=criteria),
                             suggestions=say.MAIN_MENU)
        return TurnReply(say.RECOMMEND_INTRO.format(criteria=criteria), suggestions=say.MAIN_MENU)

    # ---- cart ---------------------------------------------------------------------------------

    def _add_items(self, act: Act) -> TurnReply:
        items = act.items
        if not items:
            pending = self.s.pending_sku
            if self.s.expecting == "product_choice":
                return TurnReply(say.ASK_WHICH_PRODUCT, suggestions=say.MAIN_MENU)
            line = self._cart_line(pending) if pending else None
            if line and re.search(r"สั่ง|ซื้อ|order|checkout|buy", act.text.lower()):
                # "สั่งซื้อ" right after adding means "place the order", not "add it once more"
                return self._checkout()
            if line:   # "ใส่ตะกร้าให้หน่อย" about the box already put in
                return TurnReply(say.ALREADY_IN_CART.format(name=line["name"], quantity=line["quantity"]),
                                 suggestions=say.AFTER_ADD)
            if pending:
                return self._add_lines([(pending, 1)])
            return TurnReply(say.ASK_WHICH_PRODUCT, suggestions=say.MAIN_MENU)
        lines: list[tuple[str, int | None]] = []
        notes: list[str] = []
        for item in items:
            if self.s.expecting == "product_choice" and not item.named and item.ordinal is None \
                    and item.quantity is None:
                return TurnReply(say.ASK_WHICH_PRODUCT, suggestions=say.MAIN_MENU)
            quantity = item.quantity
            if self.s.expecting == "product_choice" and quantity is None:
                quantity = self.s.pending_quantity
            sku, instead = self._resolve_sku(item)
            if sku is None:
                notes.append(instead.text)
                continue
            if item.quantity_problem:
                return self._bad_quantity(sku, item)
            in_cart = self._cart_line(sku)
            swapped = None if in_cart or act.more or item.quantity else self._edition_of_last_added(sku)
            if swapped is not None:
                reply = self._replace(Act(K.REPLACE, items=[Item(skus=(swapped,)), Item(skus=(sku,))]))
                notes.append(reply.text)
                continue
            if in_cart and not act.more and sku in self.s.last_added:
                # "เอา X" / "ใส่ตะกร้า" right after X went in: that same box, not one more
                if quantity is None or quantity == in_cart["quantity"]:
                    notes.append(say.ALREADY_IN_CART.format(name=in_cart["name"], quantity=in_cart["quantity"]))
                    self.added.append(sku)
                    continue
                result = self._set_quantity(sku, quantity)
                notes.append(result.text)
                self.added.append(sku)
                continue
            lines.append((sku, quantity))
        if not lines:
            reply = TurnReply("\n".join(notes) or say.ASK_WHICH_PRODUCT,
                              suggestions=say.AFTER_ADD if self.added else say.MAIN_MENU)
            return reply
        reply = self._add_lines(lines)
        if notes:
            reply.text = "\n".join([*notes, reply.text])
        return reply

    def _edition_of_last_added(self, sku: str) -> str | None:
        """The line the previous turn added that is another edition of `sku` ("เอาแบบกล่องบุบก็ได้")."""
        candidates = [a for a in self.s.last_added if a != sku and self._cart_line(a)]
        if not candidates:
            return None
        mine = self._call("get_product_details", sku=sku)
        self.calls.pop()
        for other in candidates:
            theirs = self._call("get_product_details", sku=other)
            self.calls.pop()
            if not (self._error(mine) or self._error(theirs)) and say.same_title(mine, theirs):
                return other
        return None

    def _choice_or_question(self, act: Act) -> TurnReply:
        """After "which edition?": a bare name picks it, a question about a game is answered."""
        from agent.offline.acts import is_question

        return self._ask(act) if is_question(act.text) else self._add_items(act)

    def _bad_quantity(self, sku: str, item: Item) -> TurnReply:
        """"-5" or "1000000": say what the shop can do and ask again, changing nothing."""
        details = self._call("get_product_details", sku=sku)
        name = (details.get("name_th") or details.get("name_en") or sku) if not self._error(details) else sku
        self.s.pending_sku = sku
        self.s.expecting = "quantity"
        template = say.QUANTITY_TOO_MANY if item.quantity_problem == "too_many" else say.QUANTITY_NOT_POSITIVE
        return TurnReply(template.format(name=name, quantity=item.quantity, most=say.MAX_QUANTITY),
                         suggestions=[Suggestion.say("1 ชิ้น", "1 ชิ้นค่ะ"), Suggestion.say("2 ชิ้น", "2 ชิ้นค่ะ"),
                                      Suggestion.do("คุยกับแอดมิน", "staff", display="ขอคุยกับแอดมิน")])

    def _add_lines(self, lines: list[tuple[str | None, int | None]]) -> TurnReply:
        """Put each (sku, quantity) in the cart; one reply listing what went in and the new total."""
        done, errors = [], []
        total = None
        for sku, quantity in lines:
            if not sku:
                errors.append(say.ASK_WHICH_PRODUCT)
                continue
            result = self._call("add_to_cart", sku=sku, quantity=quantity or 1)
            if self._error(result):
                errors.append(say.TOOL_ERROR.format(message=self._error(result)))
                self.s.pending_sku = sku          # "งั้นเอา 1 กล่องก็ได้" is about this one
                self.s.pending_quantity = quantity
                if result.get("error") == "out_of_stock" or "หมด" in (result.get("message_th") or ""):
                    errors.extend(self._alternatives(sku, quantity))
                continue
            line = next((i for i in result["cart"]["items"] if i["sku"] == sku), None)
            done.append(say.ADDED_LINE.format(name=line["name"] if line else sku, quantity=quantity or 1))
            total = result["cart"]["total_satang"]
            self.added.append(sku)
            self.s.pending_sku = sku
        if done:
            self.s.forget_question()
        text = "\n".join(done + errors)
        if total is not None:
            text += "\n" + say.CART_TOTAL.format(total=format_baht(total))
        return TurnReply(text, suggestions=say.AFTER_ADD)

    def _alternatives(self, sku: str, quantity: int | None) -> list[str]:
        """Other editions of a sold-out title that are in stock: offered as cards, the quantity kept."""
        details = self._call("get_product_details", sku=sku)
        name = details.get("name_en") if not self._error(details) else None
        if not name:
            return []
        found = self._call("search_products", query=name, in_stock_only=True, include_games=False, limit=4)
        others = [p for p in found.get("results", []) if p.get("sku") not in (None, sku) and p.get("in_stock")
                  and (p.get("score") or 0) >= 0.75]
        if not others:
            self.calls.pop()
            return []
        self._shown(others)
        self.s.expecting = "product_choice"
        self.s.pending_quantity = quantity
        names = ", ".join(say.display_name(p) for p in others[:3])
        return [say.OTHER_EDITIONS.format(names=names)]

    def _in_cart(self, sku: str) -> bool:
        return self._cart_line(sku) is not None

    def _cart_line(self, sku: str) -> dict | None:
        return next((i for i in self._cart_items() if i["sku"] == sku), None)

    def _cart_sku(self, item: Item) -> str | None:
        """Which cart line an edit refers to: named, the n-th line, the product in hand, or the only line."""
        items = self._cart_items()
        if item.named:   # a named game that is not in the cart never stands for another line
            skus = set(item.skus)
            if not skus:
                product, _ = self._resolve(item)
                skus = {product["sku"]} if product else set()
            return next((i["sku"] for i in items if i["sku"] in skus), None)
        if item.ordinal and 0 < item.ordinal <= len(items):
            return items[item.ordinal - 1]["sku"]
        for sku in (*self.s.last_added, self.s.pending_sku):
            if any(i["sku"] == sku for i in items):
                return sku
        return items[-1]["sku"] if len(items) == 1 else None

    def _set_quantities(self, act: Act) -> TurnReply:
        items = act.items or [Item(refers_to_previous=True)]
        texts, reply = [], None
        for item in items:
            sku = self._cart_sku(item)
            if sku is None or item.quantity is None:
                return self._cart_instead(item)
            if item.quantity_problem == "not_positive" and item.quantity == 0:
                reply = self._remove(sku)
            elif item.quantity_problem:
                return self._bad_quantity(sku, item)
            else:
                reply = self._set_quantity(sku, item.quantity)
            texts.append(reply.text)
        reply.text = "\n".join(texts)
        return reply

    def _change(self, sku: str | None, delta: int) -> TurnReply:
        line = self._cart_line(sku) if sku else None
        if line is None:
            return self._view_cart()
        quantity = line["quantity"] + delta
        return self._remove(sku) if quantity <= 0 else self._set_quantity(sku, quantity)

    def _set_quantity(self, sku: str, quantity: int) -> TurnReply:
        result = self._call("update_cart_item", sku=sku, quantity=quantity)
        if self._error(result):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(result)), suggestions=say.AFTER_ADD)
        self.s.pending_sku = sku
        line = next((i for i in result["cart"]["items"] if i["sku"] == sku), {"name": sku})
        return TurnReply(say.UPDATED.format(name=line["name"], quantity=quantity,
                                            total=format_baht(result["cart"]["total_satang"])),
                         suggestions=say.AFTER_ADD)

    def _remove_items(self, act: Act) -> TurnReply:
        if act.whole_cart:
            lines = self._cart_items()
            for line in lines:
                self._call("remove_cart_item", sku=line["sku"])
            self.s.pending_sku = None
            return TurnReply(say.CART_CLEARED if lines else say.CART_EMPTY, suggestions=say.MAIN_MENU)
        items = act.items or [Item(refers_to_previous=True)]
        texts, reply = [], None
        for item in items:
            sku = self._cart_sku(item)
            if sku is None:
                return self._cart_instead(item)
            if item.quantity and item.quantity > 0:   # "ลบ X ออก 1 กล่อง": that many, not the whole line
                reply = self._change(sku, -item.quantity)
            else:
                reply = self._remove(sku)
            texts.append(reply.text)
        reply.text = "\n".join(dict.fromkeys(texts))
        return reply

    def _replace(self, act: Act) -> TurnReply:
        """"พิมพ์ผิด เอา B แทน A": A leaves the cart, B goes in with A's quantity (or the one said)."""
        old, new = (act.items + [Item()])[:2] if len(act.items) >= 2 else (Item(refers_to_previous=True),
                                                                            (act.items or [Item()])[0])
        old_sku = self._cart_sku(old)
        new_sku, instead = self._resolve_sku(new)
        if new_sku is None:
            return instead or TurnReply(say.ASK_WHICH_PRODUCT, suggestions=say.MAIN_MENU)
        line = self._cart_line(old_sku) if old_sku else None
        quantity = new.quantity or (line["quantity"] if line else None)
        removed = ""
        if line is not None and old_sku != new_sku:
            result = self._call("remove_cart_item", sku=old_sku)
            if not self._error(result):
                removed = say.REMOVED.format(name=line["name"])
        if old_sku == new_sku and line is not None:
            return self._set_quantity(new_sku, quantity or line["quantity"])
        reply = self._add_lines([(new_sku, quantity)])
        if removed:
            reply.text = f"{removed}\n{reply.text}"
        return reply

    def _cart_instead(self, item: Item) -> TurnReply:
        """The change named no line of the cart: show the cart, saying so when a game was named."""
        reply = self._view_cart()
        if item.named and reply.show_cart:
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

    def _view_cart_act(self, act: Act) -> TurnReply:
        return self._view_cart()

    def _view_cart(self) -> TurnReply:
        cart = self._call("view_cart")
        if self._error(cart):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(cart)), suggestions=say.MAIN_MENU)
        if not cart.get("items"):
            return TurnReply(say.CART_EMPTY, suggestions=say.MAIN_MENU)
        return TurnReply(say.CART_SHOWN.format(count=len(cart["items"]), total=format_baht(cart["total_satang"])),
                         suggestions=say.AFTER_ADD, show_cart=True)

    # ---- checkout -----------------------------------------------------------------------------

    def _checkout_act(self, act: Act) -> TurnReply:
        return self._checkout()

    def _checkout(self) -> TurnReply:
        if not self._cart_items():
            if self.s.pending_sku and self.s.expecting is None:
                # "สั่งซื้อเลย" right after a game was shown: that game, then the checkout
                added = self._add_lines([(self.s.pending_sku, self.s.pending_quantity or 1)])
                if self._cart_items():
                    self.s.expecting = "fulfilment"
                    return TurnReply(f"{added.text}\n{say.ASK_FULFILMENT}", suggestions=say.FULFILMENT)
                return added
            return TurnReply(say.CART_EMPTY, suggestions=say.MAIN_MENU)
        self.s.expecting = "fulfilment"
        return TurnReply(say.ASK_FULFILMENT, suggestions=say.FULFILMENT)

    def _fulfilment(self, act: Act) -> TurnReply:
        how = act.entities.fulfilment or "delivery"
        checking_out = self.s.expecting == "fulfilment" or self.s.fulfilment or self.s.expecting
        if not checking_out and not self._cart_items():
            return self._shop_question(Act(K.SHOP_QUESTION, topics=["pickup" if how == "pickup" else "delivery"]))
        return self._choose_fulfilment(how)

    def _choose_fulfilment(self, how: str) -> TurnReply:
        self.s.fulfilment = how
        return self._save_shipping()

    def _shipping_details(self, act: Act) -> TurnReply:
        """Delivery details, all at once or one answer at a time; the shop's tool validates and keeps them."""
        e, raw = act.entities, act.text
        if self.s.fulfilment is None and not (e.name or e.phone or e.address):
            return self._fulfilment(act)
        if self.s.fulfilment is None:   # details given before checking out: start the checkout first
            if not self._cart_items():
                return TurnReply(say.CART_EMPTY, suggestions=say.MAIN_MENU)
            self.s.fulfilment = e.fulfilment or "delivery"
        fields = {"name": e.name, "phone": e.phone, "address": e.address}
        asked = (self.s.expecting or "").removeprefix("shipping_")
        if asked in fields and not fields[asked] and raw.strip() and not any(fields.values()):
            if asked == "phone":
                return TurnReply(say.BAD_PHONE, suggestions=SHIPPING_CHOICES)
            if asked == "name" and not looks_like_name(raw):
                return TurnReply(say.NOT_A_NAME, suggestions=SHIPPING_CHOICES)
            fields[asked] = raw.strip()   # a bare answer to the question just asked
        return self._save_shipping(**fields)

    def _save_shipping(self, **fields) -> TurnReply:
        summary = self._call("set_shipping_details", fulfilment=self.s.fulfilment or "pickup", **fields)
        if self._error(summary):
            return TurnReply(summary["message_th"], suggestions=SHIPPING_CHOICES)
        notes = "\n".join(summary.get("notes_th") or [])
        missing = [m for m in summary.get("missing", []) if m in SHIPPING_QUESTIONS]
        if "items" in summary.get("missing", []):
            self.s.forget_question()
            return TurnReply(say.CART_EMPTY, suggestions=say.MAIN_MENU)
        if missing:
            self.s.expecting = f"shipping_{missing[0]}"
            question = SHIPPING_QUESTIONS[missing[0]]
            return TurnReply(f"{notes}\n{question}".strip(), suggestions=SHIPPING_CHOICES)
        self.s.expecting = "confirm_order"
        self.s.summary_total = summary["total_satang"]
        text = say.SUMMARY.format(total=format_baht(summary["total_satang"]))
        return TurnReply(f"{notes}\n{text}".strip(), show_summary=summary,
                         suggestions=self._summary_buttons(summary["total_satang"]))

    @staticmethod
    def _summary_buttons(total: int) -> list[Suggestion]:
        return [Suggestion.do("ยืนยันคำสั่งซื้อ", "confirm", t=total),
                Suggestion.do("แก้ไข", "edit_order", display="ขอแก้ไขคำสั่งซื้อ")]

    def _confirm_summary(self, act: Act) -> TurnReply:
        return self._confirm(self.s.summary_total)

    def _confirm(self, total_seen: int | None) -> TurnReply:
        created = self._call("create_order", confirmed=True, expected_total_satang=total_seen)
        if self._error(created):
            # sold out meanwhile: checking out again would fail the same way, so offer the cart to edit
            choices = say.AFTER_ADD[1:] if created.get("error") == "out_of_stock" else say.AFTER_ADD
            return TurnReply(say.TOOL_ERROR.format(message=self._error(created)), suggestions=choices)
        self.s.forget_question()
        self.s.fulfilment = self.s.summary_total = None
        number = created["order"]["number"]
        self.s.open_order = number
        qr = self._call("create_payment_qr", order_number=number)
        if self._error(qr):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(qr)))
        return TurnReply(say.order_created(number, created["order"]["total_satang"], self.order_expiry_minutes),
                         suggestions=[Suggestion.do("ยกเลิกคำสั่งซื้อ", "cancel", n=number,
                                                    display=f"ยกเลิกคำสั่งซื้อ {number}"),
                                      Suggestion.do("คุยกับแอดมิน", "staff", display="ขอคุยกับแอดมิน")])

    def _edit_order(self, act: Act) -> TurnReply:
        return self._edit_order_reply()

    def _edit_order_reply(self) -> TurnReply:
        self.s.forget_question()
        self.s.summary_total = None
        reply = self._view_cart()
        reply.text = say.ORDER_NOT_CONFIRMED
        return reply

    # ---- shop facts, payments, orders ---------------------------------------------------------

    def _shop_question(self, act: Act) -> TurnReply:
        if act.topics[:1] == ["payment"] and re.search(r"qr|คิวอาร์|สแกน|อีกที|อีกครั้ง|ส่ง|ขอ", act.text.lower()):
            order = self._latest_order(None, unpaid_only=True)
            if order is not None:     # "ขอ QR อีกทีได้ไหม": the order waiting to be paid
                return self._pay(order["number"])
        texts = []
        for topic in act.topics or ["delivery"]:
            info = self._call("get_shop_info", topic=topic)
            self.calls.pop()
            texts.append(info.get("message_th") or say.SYSTEM_BUSY)
        if "delivery" in act.topics:
            items = self._cart_items()
            if self.calls and self.calls[-1].name == "view_cart":
                self.calls.pop()   # read for the total only: no cart card under a delivery answer
            if items:
                subtotal = sum(i["line_total_satang"] for i in items)
                texts.append(say.DELIVERY_TOTAL.format(total=format_baht(subtotal + self.delivery_fee_satang),
                                                       subtotal=format_baht(subtotal)))
        return TurnReply("\n".join(texts), suggestions=say.MAIN_MENU)

    def _payment_claim(self, act: Act) -> TurnReply:
        """"โอนแล้ว" without a slip: the slip decides, so ask for it (never "your cart is empty")."""
        order = self._latest_order(None, unpaid_only=True)
        if order is None:
            return TurnReply(say.PAID_NO_OPEN_ORDER, suggestions=say.MAIN_MENU)
        return TurnReply(say.SEND_THE_SLIP.format(number=order["number"], total=format_baht(order["total_satang"])),
                         suggestions=[Suggestion.do("ขอ QR อีกครั้ง", "pay", n=order["number"], display="ขอ QR ชำระเงิน"),
                                      Suggestion.do("คุยกับแอดมิน", "staff", display="ขอคุยกับแอดมิน")])

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
            return TurnReply(say.NO_OPEN_ORDER, suggestions=say.MAIN_MENU)
        qr = self._call("create_payment_qr", order_number=order["number"])
        if self._error(qr):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(qr)))
        return TurnReply(say.PAY_AGAIN.format(number=order["number"], total=format_baht(order["total_satang"])))

    def _status_act(self, act: Act) -> TurnReply:
        return self._status(act.entities.order_number)

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

    def _cancel_asked(self, act: Act) -> TurnReply:
        return self._cancel(act.entities.order_number, confirmed=False)

    def _cancel_confirmed(self, act: Act) -> TurnReply:
        return self._cancel(self.s.cancel_number, confirmed=True)

    def _keep_order(self, act: Act) -> TurnReply:
        number = self.s.cancel_number
        self.s.forget_question()
        return TurnReply(say.KEEP_ORDER.format(number=number), suggestions=say.MAIN_MENU)

    def _cancel(self, number: str | None, confirmed: bool) -> TurnReply:
        order = self._latest_order(number, unpaid_only=True)
        if order is None:
            self.s.forget_question()
            return TurnReply(say.NO_OPEN_ORDER, suggestions=say.MAIN_MENU)
        if not confirmed:
            self.s.expecting = "confirm_cancel"
            self.s.cancel_number = order["number"]
            return TurnReply(say.CONFIRM_CANCEL.format(number=order["number"],
                                                       total=format_baht(order["total_satang"])),
                             suggestions=say.YES_NO)
        result = self._call("cancel_order", order_number=order["number"])
        self.s.forget_question()
        self.s.cancel_number = self.s.open_order = None
        if self._error(result):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(result)), suggestions=say.MAIN_MENU)
        return TurnReply(say.CANCELLED.format(number=order["number"]), suggestions=say.MAIN_MENU)

    def _handoff_act(self, act: Act) -> TurnReply:
        return self._handoff(act.text)

    def _handoff(self, reason: str) -> TurnReply:
        result = self._call("handoff_to_staff", reason=(reason or "")[:500])
        if self._error(result):
            return TurnReply(say.TOOL_ERROR.format(message=self._error(result)))
        return TurnReply(say.HANDOFF)

    def _take_it(self, act: Act) -> TurnReply:
        """"เอาค่ะ" after a game was shown (and is not in the cart yet): put it in the cart."""
        pending = self.s.pending_sku
        if pending and any(word in act.text for word in ("เอา", "ซื้อ", "สั่ง")) and not self._in_cart(pending):
            return self._add_lines([(pending, 1)])
        if act.items:
            return self._add_items(act)
        return TurnReply(say.NO_PROBLEM if act.text else say.NOT_UNDERSTOOD, suggestions=say.MAIN_MENU)

    def _unknown(self, act: Act) -> TurnReply:
        """Last try: the whole message may be a product name the span search did not know."""
        from agent.offline.nlu import is_ordinary_word

        name = (act.entities.product_query or act.text).strip()
        if name and len(name) <= 60 and not is_ordinary_word(name):
            product, instead = self._resolve(Item(query=name))
            if product is not None:
                return self._describe(product)
            if self.calls[-1].result.get("error") in ("product_not_sold", "product_ambiguous"):
                return instead   # it did name a game: say what the shop knows about it
            self.calls.pop()     # only a guess: its "similar products" are not worth showing
            self.s.last_skus = []
        return TurnReply(say.NOT_UNDERSTOOD, suggestions=say.MAIN_MENU)


def _has_constraints(e: Entities) -> bool:
    return any(getattr(e, name) is not None for name in
               ("players", "max_minutes", "age", "budget_max_satang", "budget_min_satang", "category"))


def _distinct(items: list[Item]) -> list[Item]:
    seen, out = set(), []
    for item in items:
        key = (item.skus, item.query, item.ordinal, item.refers_to_previous)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out
