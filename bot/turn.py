"""One turn: a LINE webhook event in, the LINE messages to send back out.

    follow            → greeting with quick replies
    postback          → the deterministic action the button carries (add to cart, pay, ...)
    text              → the LLM agent when one is configured and healthy, else the offline Thai agent
    image             → slip QR found? payments decide : box photo → LLM vision, or ask for the name
    sticker, location, audio, video, file, the rich menu's postbacks → bot.events
    any event from a group or room → bot.groups (catalogue answers only, nothing personal)

The customer is always the event's LINE user; agents get tools already bound to that customer.
"""
from __future__ import annotations

import logging
import time
from functools import partial

from agent import actions
from agent.mcp_client import ToolSession
from agent.offline import phrases
from agent.offline.dialogue import OfflineAgent
from agent.reply import TurnReply
from agent.tools import ToolContext
from bot import events, profiles
from bot.compose import compose, summary_to_confirm
from bot.groups import run_group_turn
from bot.product_images import hero_url
from bot.slip_replies import slip_messages
from bot.turn_steps import ANSWER, RecordedTools, TurnJournal, event_key
from shop.customers import get_or_create_customer
from shop.db import Database, StepDatabase
from shop.handoff import active_handoff
from shop.metrics import SLIP_OUTCOMES, TURNS
from shop.settings import Settings

log = logging.getLogger(__name__)

IMAGE_MISSING = "ได้รับรูปแล้วค่ะ แต่ทางร้านเปิดรูปไม่สำเร็จ รบกวนส่งรูปอีกครั้งนะคะ"


def run_turn(db: Database, settings: Settings, event: dict) -> list[dict]:
    """Return LINE message objects (plain JSON dicts, as in the Messaging API) answering `event`."""
    source = event.get("source") or {}
    hero = partial(hero_url, settings)   # a product card's picture
    if source.get("type") in ("group", "room"):
        if settings.staff_line_target and settings.staff_line_target in (source.get("groupId"), source.get("roomId")):
            return []  # the staff's own chat (it receives the alerts): the shop assistant stays quiet there
        return run_group_turn(db, settings, event, hero=hero)
    user_id = source.get("userId")
    if not user_id:
        return []
    journal = TurnJournal(db, event_key(event))
    answered = journal.recorded(ANSWER)
    if answered is not None:  # a retry after the answer was stored: the same messages, nothing done again
        return answered
    kind = event.get("type")
    with db.session() as session:
        customer = get_or_create_customer(session, user_id)
        if kind == "unfollow":
            customer.followed = False
            return []
        if kind == "follow":
            customer.followed = True
        customer_id, state = customer.id, dict(customer.state or {})
        known_name, fetched_at = customer.display_name, customer.profile_fetched_at
    name = profiles.display_name(db, settings, user_id, cached=known_name, fetched_at=fetched_at,
                                 wait=profiles.FOLLOW_WAIT_SECONDS if kind == "follow" else 0.0)

    steps = StepDatabase(db)  # each changing tool call commits together with its record
    with ToolSession(ToolContext(steps, settings, customer_id)) as session_tools:
        turn = Turn(db, settings, customer_id, state, RecordedTools(session_tools, journal, steps),
                    customer_name=name, hero=hero)
        messages = turn.answer(event)
    with db.session() as session:
        from shop.models import ChatMessage, Customer

        session.get(Customer, customer_id).state = turn.state
        said = _customer_words(event)
        if said:
            session.add(ChatMessage(customer_id=customer_id, role="user", text=said[:2000]))
        if turn.reply_text:
            session.add(ChatMessage(customer_id=customer_id, role="assistant", text=turn.reply_text[:2000],
                                    agent=turn.reply_agent, tool_calls=turn.reply_tools or None))
        journal.add(session, ANSWER, messages)
    return messages


def _customer_words(event: dict) -> str:
    message = event.get("message") or {}
    kind = message.get("type")
    if kind == "text":
        return message.get("text", "")
    if kind == "sticker":
        return f"[สติกเกอร์: {', '.join(message.get('keywords') or [])}]" + (f" {message['text']}" if message.get("text") else "")
    if kind == "location":
        return f"[ตำแหน่ง] {message.get('title') or ''} {message.get('address') or ''}".strip()
    if kind in WORDS_FOR:
        return WORDS_FOR[kind]
    if event.get("type") == "postback":
        return f"[ปุ่ม] {event.get('postback', {}).get('data', '')}"
    return ""


WORDS_FOR = {"image": "[รูปภาพ]", "audio": "[ข้อความเสียง]", "video": "[วิดีโอ]", "file": "[ไฟล์]"}
MESSAGE_HANDLERS = {"sticker": events.answer_sticker, "location": events.answer_location,
                    "audio": events.answer_media, "video": events.answer_media, "file": events.answer_media}


class Turn:
    """Answers one event for one customer; holds the customer's dialogue state while it does."""

    def __init__(self, db: Database, settings: Settings, customer_id: int, state: dict, tools: RecordedTools,
                 customer_name: str = "", hero=None):
        self.db, self.settings, self.customer_id, self.state, self.tools = db, settings, customer_id, state, tools
        self.customer_name, self.hero = customer_name, hero
        self.offline = OfflineAgent(self.tools, shop_name=settings.shop_name,
                                    order_expiry_minutes=settings.order_expiry_minutes,
                                    delivery_fee_satang=settings.delivery_fee_satang, customer_name=customer_name)
        self.reply_text = ""
        self.reply_agent = "offline"     # who answered, and the tool calls behind it (kept for `export sft`)
        self.reply_tools: list[dict] = []

    def answer(self, event: dict) -> list[dict]:
        kind = event.get("type")
        message = event.get("message") or {}
        if kind == "follow":
            return self.send(self.offline.greet(self.state))
        if kind == "postback":
            return self._answer_postback((event.get("postback") or {}).get("data", ""))
        if kind != "message":
            return []
        if message.get("type") != "image" and self._taken_over_by_staff():
            return []  # a person is answering this chat; the customer's words are kept for them
        if message.get("type") == "text":
            return self.answer_text(message.get("text", ""))
        if message.get("type") == "image":
            return self._answer_image(message.get("id", ""))
        handler = MESSAGE_HANDLERS.get(message.get("type"))
        if handler is not None:
            return handler(self, message)
        return self.send(TurnReply(phrases.NOT_UNDERSTOOD, suggestions=phrases.MAIN_MENU))

    def _taken_over_by_staff(self) -> bool:
        with self.db.session() as session:
            return active_handoff(session, self.customer_id, self.settings.handoff_timeout_minutes) is not None

    def send(self, reply: TurnReply, extra: list[dict] | None = None) -> list[dict]:
        self.reply_text = reply.text
        self.reply_agent = reply.agent
        self.reply_tools = [{"name": call.name, "arguments": call.arguments, "result": call.result}
                            for call in reply.tool_calls]
        return compose(reply, extra, hero=self.hero)

    def _answer_postback(self, data: str) -> list[dict]:
        own = events.answer_bot_postback(self, data)
        if own is not None:
            return own
        action = actions.decode(data)
        if action is None:
            return self.send(TurnReply(phrases.NOT_UNDERSTOOD, suggestions=phrases.MAIN_MENU))
        return self.send(self.offline.respond(self.state, action=action))

    # ---- text -------------------------------------------------------------------------------

    def answer_text(self, text: str) -> list[dict]:
        settled = events.answer_pending_proposal(self, text)
        if settled is not None:
            return settled
        return self.send(self._answer_text(text))

    def _answer_text(self, text: str) -> TurnReply:
        llm = self._llm()
        if llm is not None:
            reply = llm.answer(self.customer_id, text=text, image_jpeg=None,
                               summary_awaiting_confirmation=self.state.get("expecting") == "confirm_order")
            if reply is not None:
                TURNS.labels("llm", "").inc()
                self._hand_over_to_offline(reply)
                return reply
        reason = "no_llm" if not self.settings.llm_base_url else ("llm_unavailable" if llm is None else "llm_failed")
        TURNS.labels("offline", reason).inc()
        return self.offline.respond(self.state, text=text)

    def _hand_over_to_offline(self, reply: TurnReply) -> None:
        """Whichever agent answers the next message knows whether a summary awaits confirmation."""
        self.offline.after_other_agent(self.state, summary_to_confirm(reply))

    def _llm(self):
        if not self.settings.llm_base_url:
            return None
        from agent.llm.turn import llm_agent_for

        return llm_agent_for(self.db, self.settings, self.tools)

    # ---- images -----------------------------------------------------------------------------

    def _answer_image(self, line_message_id: str) -> list[dict]:
        from payments.slip_qr import read_slip_image
        from shop.media import customer_image

        with self.db.session() as session:
            media = customer_image(session, line_message_id)
            data = media.data if media is not None else None
            media_id = media.id if media is not None else None
        if not data:
            return self.send(TurnReply(IMAGE_MISSING))
        reading = read_slip_image(data)
        if reading.kind == "promptpay":
            return self.send(TurnReply(phrases.IMAGE_IS_PAYMENT_QR))
        if reading.kind == "slip" or (reading.kind != "invalid_image" and self._awaiting_payment()):
            return self._check_slip(data, reading, media_id)
        llm = self._llm()
        if llm is not None and reading.kind != "invalid_image":
            reply = llm.answer(self.customer_id, text=None, image_jpeg=data)
            if reply is not None:
                self._hand_over_to_offline(reply)
                return self.send(reply)
        return self.send(TurnReply(phrases.IMAGE_NOT_SLIP, suggestions=phrases.MAIN_MENU))

    def _awaiting_payment(self) -> bool:
        status = self.tools.call_tool("get_order_status", {})
        orders = status.get("orders") or []
        return any(o.get("status") == "awaiting_payment" for o in orders)

    def _check_slip(self, data: bytes, reading, media_id: int | None) -> list[dict]:
        from payments.checks import check_slip

        result = check_slip(self.db, self.settings, customer_id=self.customer_id, order_id=None, image=data,
                            payload=reading.payload if reading.kind == "slip" else None, media_id=media_id)
        SLIP_OUTCOMES.labels(result.outcome, result.reason or "").inc()
        if result.outcome == "paid":
            self.state.pop("open_order", None)
        self.reply_text = result.message_th
        return slip_messages(self.db, result)


def warm_up(db: Database) -> float:
    """Load now what the first turn would otherwise load while a customer waits (about 15 s on a
    small machine): the Thai word list, the sentence encoder and the catalogue's search index.
    Returns the seconds it took. Called before a process takes events (worker start, gunicorn hook)."""
    from agent.offline import warm_up as warm_understanding
    from shop.search import search

    started = time.perf_counter()
    warm_understanding()
    with db.session() as session:
        search(session, "บอร์ดเกมสนุก ๆ สำหรับ 4 คน")
    seconds = time.perf_counter() - started
    log.info("turn warmed up in %.1f s (word list, sentence encoder, search index)", seconds)
    return seconds


def llm_status(settings: Settings) -> dict | None:
    """This process's view of the LLM for /readyz (None when no LLM is configured)."""
    if not settings.llm_base_url:
        return None
    from agent.llm.turn import circuit_status

    return circuit_status(settings)
