"""The LLM agent as the turn pipeline sees it: one customer message in, a TurnReply out, or None
when the offline agent must answer instead (LLM down, too slow, garbage, a guardrail tripped)."""
from __future__ import annotations

import logging
import threading

from sqlalchemy import select

from agent.llm.history import trim_history
from agent.llm.loop import ToolSession, run_llm_turn
from agent.llm.setup import chat_client_from_settings
from agent.reply import ToolCall, TurnReply
from inference.client import ChatClient
from shop.db import Database
from shop.models import ChatMessage
from shop.settings import Settings

log = logging.getLogger(__name__)
HISTORY_MESSAGES = 20

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
        return trim_history([{"role": r.role, "content": r.text} for r in reversed(rows)],
                            self.settings.llm_history_tokens)

    def answer(self, customer_id: int, *, text: str | None, image_jpeg: bytes | None,
               summary_awaiting_confirmation: bool = False) -> TurnReply | None:
        """`summary_awaiting_confirmation`: the previous reply showed an order summary; only then may the
        model create the order (the customer can only confirm what they have seen)."""
        settings = self.settings
        reply = run_llm_turn(self.client, self.tools, history=self.history(customer_id), user_text=text,
                             image_jpeg=image_jpeg, tool_mode=settings.llm_tool_mode,
                             deadline_s=settings.llm_turn_deadline_seconds, shop_name=settings.shop_name,
                             max_visual_tokens=settings.llm_max_visual_tokens,
                             order_confirmable=summary_awaiting_confirmation)
        log.info("llm turn: calls=%d prompt_tokens=%d visual_tokens=%d fallback=%s", reply.llm_calls,
                 reply.prompt_tokens, reply.visual_tokens, reply.fallback_reason)
        if reply.fallback_reason:
            return None
        calls = [ToolCall(name, arguments, result) for name, arguments, result in reply.tool_results]
        return TurnReply(reply.text, tool_calls=calls, agent="llm")


def llm_agent_for(db: Database, settings: Settings, tools: ToolSession) -> LLMAgent | None:
    """The LLM agent when one is configured and its circuit is closed; None means: use the offline agent."""
    client = shared_client(settings)
    if client is None or not client.available():
        return None
    return LLMAgent(db, settings, client, tools)
