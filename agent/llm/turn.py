"""The LLM agent as the turn pipeline sees it: one customer message in, a TurnReply out, or None
when the offline agent must answer instead (LLM down, too slow, garbage, a guardrail tripped)."""
from __future__ import annotations

import logging
import threading

from sqlalchemy import func, select

from agent.llm.history import trim_history
from agent.llm.loop import ToolSession, run_llm_turn
from agent.llm.setup import chat_client_from_settings
from agent.offline.intents import Intent
from agent.offline.nlu import understand
from agent.reply import ToolCall, TurnReply
from inference.client import ChatClient
from shop.db import Database
from shop.models import ChatMessage
from shop.settings import Settings

log = logging.getLogger(__name__)
HISTORY_MESSAGES = 40   # read at most this many; the token budget decides how many are sent

_clients: dict[str, ChatClient] = {}
_clients_lock = threading.Lock()


def shared_client(settings: Settings) -> ChatClient | None:
    """One client per process and endpoint, so its circuit breaker remembers an outage across turns."""
    if not settings.llm_base_url:
        return None
    key = f"{settings.llm_base_url}|{settings.llm_model}"
    with _clients_lock:
        if key not in _clients:
            _clients[key] = chat_client_from_settings(settings)
        return _clients[key]


def circuit_status(settings: Settings) -> dict | None:
    """This process's view of the LLM (None without LLM_BASE_URL): "ok", or "degraded"/"probing" after a
    failed turn until a request succeeds again. Only turns update it; /readyz reads it."""
    client = shared_client(settings)
    return client.status() if client is not None else None


class LLMAgent:
    def __init__(self, db: Database, settings: Settings, client: ChatClient, tools: ToolSession):
        self.db, self.settings, self.client, self.tools = db, settings, client, tools

    def history(self, customer_id: int) -> list[dict]:
        with self.db.session() as session:
            rows = session.scalars(select(ChatMessage).where(ChatMessage.customer_id == customer_id)
                                   .order_by(ChatMessage.id.desc()).limit(HISTORY_MESSAGES)).all()
            total = session.scalar(select(func.count()).select_from(ChatMessage)
                                   .where(ChatMessage.customer_id == customer_id)) or 0
        return trim_history([{"role": r.role, "content": r.text} for r in reversed(rows)],
                            self.settings.llm_history_tokens, offset=max(0, total - len(rows)))

    def answer(self, customer_id: int, *, text: str | None, image_jpeg: bytes | None,
               summary_awaiting_confirmation: bool = False) -> TurnReply | None:
        """`summary_awaiting_confirmation`: the previous reply showed an order summary. The model may create
        the order only when, in addition, this message is the customer's yes to it."""
        settings = self.settings
        reply = run_llm_turn(self.client, self.tools, history=self.history(customer_id), user_text=text,
                             image_jpeg=image_jpeg, tool_mode=settings.llm_tool_mode,
                             deadline_s=settings.llm_turn_deadline_seconds, shop_name=settings.shop_name,
                             max_visual_tokens=settings.llm_max_visual_tokens,
                             customer_confirmed=summary_awaiting_confirmation and customer_says_yes(text),
                             awaiting_confirmation=summary_awaiting_confirmation, shop_context=True)
        log.info("llm turn: calls=%d prompt_tokens=%d visual_tokens=%d fallback=%s", reply.llm_calls,
                 reply.prompt_tokens, reply.visual_tokens, reply.fallback_reason)
        if reply.fallback_reason:
            return None
        # the shop search read for the prompt counts as a call: its products become the cards
        calls = [ToolCall(name, arguments, result)
                 for name, arguments, result in [*reply.context_calls, *reply.tool_results]]
        return TurnReply(reply.text, tool_calls=calls, agent="llm")


def customer_says_yes(text: str | None) -> bool:
    """The offline understanding reads the customer's message as a yes to the order summary.

    The same reading the offline agent uses before it creates an order, so "ยังไม่ยืนยันนะคะ
    อย่าเพิ่งสั่ง" is a no here too, whatever the model makes of it."""
    if not text or not text.strip():
        return False
    return understand(text, expecting="confirm_order").intent == Intent.CONFIRM


def llm_agent_for(db: Database, settings: Settings, tools: ToolSession) -> LLMAgent | None:
    """The LLM agent when one is configured and its circuit is closed; None means: use the offline agent."""
    client = shared_client(settings)
    if client is None or not client.available():
        return None
    return LLMAgent(db, settings, client, tools)
