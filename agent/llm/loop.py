"""One customer turn with the LLM: ask, run the tools it calls, ask again, check the final reply.

The loop only knows two interfaces: a chat client (inference.client.ChatClient or anything with the same
`chat`/`available`) and a `ToolSession` bound to the current customer. Whatever goes wrong (server down,
deadline, garbage, a made-up price twice, a leaked prompt) ends in an `AgentReply` with `fallback_reason`
set, and the caller answers with the offline agent: the customer never waits in silence.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.llm.guardrails import garbage_reason, leaks_prompt, unsupported_prices
from agent.llm.history import message_tokens
from agent.llm.prompts import (
    IDENTITY_ARGUMENTS,
    IMAGE_ONLY_TEXT,
    build_system_prompt,
    openai_tools,
    price_correction,
    rules_text,
)
from agent.llm.tool_calls import (
    ParsedReply,
    ToolCall,
    parse_native_tool_calls,
    parse_tool_calls,
    render_tool_calls,
    render_tool_responses,
    to_json,
)
from inference.client import ChatResult, LLMError
from inference.images import DEFAULT_MAX_VISUAL_TOKENS, VISION_FRAME_TOKENS, ImageError, prepare_image

log = logging.getLogger(__name__)

DEFAULT_TEMPERATURE = 0.2   # stock Qwen2.5-7B drifts out of Thai at high temperature

# The customer can only have confirmed a summary they saw in an earlier message: an order is never
# created in the same turn as a change to the cart or the delivery details.
CONFIRMED_TOOLS = frozenset({"create_order"})
CART_CHANGING_TOOLS = frozenset({"add_to_cart", "update_cart_item", "remove_cart_item", "set_shipping_details"})
NOT_CONFIRMED = {"error": "not_confirmed",
                 "message_th": "ตะกร้าหรือข้อมูลจัดส่งเพิ่งเปลี่ยนในข้อความนี้ ต้องแสดงสรุปให้ลูกค้ายืนยันก่อนสร้างคำสั่งซื้อ"}
NO_SUMMARY_SHOWN = {"error": "not_confirmed",
                    "message_th": "ลูกค้ายังไม่ได้เห็นสรุปคำสั่งซื้อล่าสุด ให้เรียก preview_order "
                                  "แล้วแสดงสรุปให้ลูกค้ายืนยันในข้อความถัดไปก่อนสร้างคำสั่งซื้อ"}


class ToolSession(Protocol):
    """The shop tools, already bound to the customer of this chat (an MCP client session in production)."""

    def list_tools(self) -> list[dict]:
        """[{"name", "description", "input_schema"}]"""

    def call_tool(self, name: str, arguments: dict) -> dict:
        """A JSON-serialisable result; {"error": "..."} on failure."""


class ChatBackend(Protocol):
    def available(self) -> bool: ...

    def chat(self, messages: list[dict], *, tools: list[dict] | None = None, temperature: float = ...,
             max_tokens: int = ..., deadline: float | None = None,
             extra_body: dict | None = None) -> ChatResult: ...


@dataclass
class AgentReply:
    text: str                                       # final Thai reply ("" when falling back)
    tool_results: list[tuple[str, dict, dict]] = field(default_factory=list)  # (name, arguments, result)
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    fallback_reason: str | None = None              # set: answer with the offline agent instead
    visual_tokens: int = 0                          # of the customer's photo, after resizing


@dataclass
class _Turn:
    client: ChatBackend
    tools: ToolSession
    tool_mode: str
    deadline: float
    temperature: float
    max_tokens: int
    messages: list[dict] = field(default_factory=list)
    tool_names: set[str] = field(default_factory=set)
    openai_tools: list[dict] | None = None
    reply: AgentReply = field(default_factory=lambda: AgentReply(text=""))
    done_calls: dict[str, Any] = field(default_factory=dict)
    order_confirmable: bool = True   # the reply before this message showed the customer an order summary

    def fallback(self, reason: str, detail: str = "") -> AgentReply:
        log.warning("LLM turn falls back to the offline agent: %s %s", reason, detail)
        self.reply.text = ""
        self.reply.fallback_reason = reason
        return self.reply

    def estimated_prompt_tokens(self) -> int:
        return sum(message_tokens(message) for message in self.messages) + (
            self.reply.visual_tokens + VISION_FRAME_TOKENS if self.reply.visual_tokens else 0)

    def ask(self) -> ChatResult:
        estimate = self.estimated_prompt_tokens()
        log.info("LLM call %d: %d messages, ~%d prompt tokens (%d visual)", self.reply.llm_calls + 1,
                 len(self.messages), estimate, self.reply.visual_tokens)
        self.reply.llm_calls += 1
        result = self.client.chat(self.messages, tools=self.openai_tools, temperature=self.temperature,
                                  max_tokens=self.max_tokens, deadline=self.deadline)
        self.reply.prompt_tokens += result.prompt_tokens if result.prompt_tokens is not None else estimate
        self.reply.completion_tokens += (result.completion_tokens if result.completion_tokens is not None
                                         else message_tokens({"content": result.content or ""}))
        return result

    def read(self, result: ChatResult) -> ParsedReply:
        """Tool calls from either place they can arrive, whatever the mode: vLLM's parser gives up on
        a whole reply when one block is bad and returns it as text, so text is always searched too."""
        native = parse_native_tool_calls(result.tool_calls) if result.tool_calls else None
        from_text = parse_tool_calls(result.content)
        if native is not None and native.calls:
            native.text = from_text.text
            native.errors += from_text.errors
            return native
        if native is not None:
            from_text.errors += native.errors
        return from_text

    def run_calls(self, result: ChatResult, parsed: ParsedReply) -> None:
        outputs: list[tuple[ToolCall, Any]] = []
        for call in parsed.calls:
            outputs.append((call, self.run_one(call)))
        if self.tool_mode == "native":
            self.messages.append({"role": "assistant", "content": parsed.text or None, "tool_calls": [
                {"id": call.id, "type": "function",
                 "function": {"name": call.name, "arguments": to_json(call.arguments)}} for call, _ in outputs]})
            for call, output in outputs:
                self.messages.append({"role": "tool", "tool_call_id": call.id, "content": to_json(output)})
        else:
            said = result.content if (result.content and "<tool_call>" in result.content) else (
                (parsed.text + "\n" if parsed.text else "") + render_tool_calls(parsed.calls))
            self.messages.append({"role": "assistant", "content": said})
            self.messages.append({"role": "user", "content": render_tool_responses([o for _, o in outputs])})

    def run_one(self, call: ToolCall) -> Any:
        if call.name not in self.tool_names:
            return {"error": f"unknown tool {call.name!r}; available: {', '.join(sorted(self.tool_names))}"}
        stripped = sorted(key for key in call.arguments if key.lower() in IDENTITY_ARGUMENTS)
        if stripped:
            log.warning("ignored identity arguments %s in a call to %s", stripped, call.name)
        arguments = {key: value for key, value in call.arguments.items() if key.lower() not in IDENTITY_ARGUMENTS}
        cart_changed = any(name in CART_CHANGING_TOOLS for name, _, _ in self.reply.tool_results)
        if call.name in CONFIRMED_TOOLS and cart_changed:
            log.info("refused %s in the turn that changed the cart", call.name)
            return NOT_CONFIRMED
        if call.name in CONFIRMED_TOOLS and not self.order_confirmable:
            log.info("refused %s: no summary was shown to the customer before this message", call.name)
            return NO_SUMMARY_SHOWN
        key = call.name + to_json(arguments)
        if key in self.done_calls:   # the same call again in one turn: a loop, never a second side effect
            return self.done_calls[key]
        try:
            output = self.tools.call_tool(call.name, arguments)
        except Exception as error:  # a tool session must not break the turn
            log.exception("tool %s failed", call.name)
            output = {"error": f"{call.name} failed: {type(error).__name__}"}
        self.done_calls[key] = output
        self.reply.tool_results.append((call.name, arguments, output))
        return output


def _user_message(user_text: str | None, image_jpeg: bytes | None, max_visual_tokens: int) -> tuple[dict, int]:
    text = (user_text or "").strip()
    if image_jpeg is None:
        return {"role": "user", "content": text}, 0
    image = prepare_image(image_jpeg, max_visual_tokens=max_visual_tokens)
    parts = [image.content_part(), {"type": "text", "text": text or IMAGE_ONLY_TEXT}]
    return {"role": "user", "content": parts}, image.visual_tokens


def run_llm_turn(client: ChatBackend, tools: ToolSession, *, history: list[dict], user_text: str | None,
                 image_jpeg: bytes | None, tool_mode: str, max_rounds: int = 5, deadline_s: float,
                 shop_name: str | None = None, max_visual_tokens: int = DEFAULT_MAX_VISUAL_TOKENS,
                 temperature: float = DEFAULT_TEMPERATURE, max_tokens: int = 800,
                 order_confirmable: bool = True) -> AgentReply:
    """Answer one customer message (text and/or a photo) with the LLM and the shop tools.

    `history` is already trimmed (see agent.llm.history.trim_history). At most `max_rounds` LLM calls
    may ask for tools; one more call is allowed to correct a reply that quoted a price no tool returned.
    `order_confirmable=False` (the caller knows no order summary was awaiting confirmation) refuses
    create_order whatever the model believes the customer said.
    """
    if tool_mode not in ("prompt", "native"):
        raise ValueError("tool_mode must be 'prompt' or 'native'")
    if not (user_text and user_text.strip()) and image_jpeg is None:
        raise ValueError("a turn needs text or an image")
    turn = _Turn(client=client, tools=tools, tool_mode=tool_mode, deadline=time.monotonic() + deadline_s,
                 temperature=temperature, max_tokens=max_tokens, order_confirmable=order_confirmable)
    try:
        return _run(turn, history=history, user_text=user_text, image_jpeg=image_jpeg, max_rounds=max_rounds,
                    shop_name=shop_name, max_visual_tokens=max_visual_tokens)
    except Exception as error:  # a bug here must still end in an answer from the offline agent
        log.exception("LLM turn failed unexpectedly")
        return turn.fallback("internal_error", type(error).__name__)


def _run(turn: _Turn, *, history: list[dict], user_text: str | None, image_jpeg: bytes | None,
         max_rounds: int, shop_name: str | None, max_visual_tokens: int) -> AgentReply:
    client, tools, tool_mode, deadline = turn.client, turn.tools, turn.tool_mode, turn.deadline
    if not client.available():
        return turn.fallback("llm_unavailable", "(circuit open)")
    try:
        specs = tools.list_tools()
    except Exception as error:
        log.exception("listing the shop tools failed")
        return turn.fallback("tools_unavailable", type(error).__name__)
    turn.tool_names = {spec["name"] for spec in specs}
    turn.openai_tools = openai_tools(specs) if (tool_mode == "native" and specs) else None
    try:
        user_message, turn.reply.visual_tokens = _user_message(user_text, image_jpeg, max_visual_tokens)
    except ImageError as error:
        return turn.fallback("bad_image", str(error))
    system = build_system_prompt(specs, tool_mode=tool_mode, shop_name=shop_name)
    turn.messages = [{"role": "system", "content": system}, *history, user_message]
    secret = rules_text(shop_name)

    corrected = False
    tool_rounds = 0
    while True:
        if time.monotonic() >= deadline:
            return turn.fallback("llm_timeout", "turn deadline reached")
        try:
            result = turn.ask()
        except LLMError as error:
            return turn.fallback(error.reason, str(error))
        parsed = turn.read(result)
        if parsed.calls:
            tool_rounds += 1
            if tool_rounds > max_rounds:
                return turn.fallback("too_many_tool_rounds", f"after {max_rounds} rounds")
            turn.run_calls(result, parsed)
            continue
        if parsed.errors:
            return turn.fallback("llm_garbage", "; ".join(parsed.errors))
        text = parsed.text
        problem = garbage_reason(text)
        if problem:
            return turn.fallback("llm_garbage", problem)
        if leaks_prompt(text, secret):
            return turn.fallback("prompt_leak", "the reply repeats the system prompt")
        made_up = unsupported_prices(text, [output for _, _, output in turn.reply.tool_results])
        if made_up:
            if corrected:
                return turn.fallback("price_guardrail", f"figures {made_up} not returned by a tool")
            corrected = True
            log.info("reply quoted prices no tool returned (%s): asking once more", made_up)
            turn.messages.append({"role": "assistant", "content": text})
            turn.messages.append({"role": "system", "content": price_correction(made_up)})
            continue
        turn.reply.text = text
        return turn.reply


__all__ = ["ToolSession", "AgentReply", "ChatBackend", "run_llm_turn", "DEFAULT_TEMPERATURE"]
