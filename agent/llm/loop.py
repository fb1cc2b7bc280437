"""One customer turn with the LLM: ask, run the tools it calls, ask again, check the final reply.

The loop only knows two interfaces: a chat client (inference.client.ChatClient or anything with the same
`chat`/`available`) and a `ToolSession` bound to the current customer. Whatever goes wrong (server down,
deadline, garbage, a made-up price twice, a leaked prompt) ends in an `AgentReply` with `fallback_reason`
set, and the caller answers with the offline agent: the customer never waits in silence.

What the server says is acted on only when it is whole: a reply cut by `max_tokens` (`finish_reason:
"length"`) is never executed or sent (asked once more with twice the room, then the offline agent); a
prompt over the server's context is sent once more without the conversation history, then the offline
agent answers.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.llm.guardrails import garbage_reason, leaks_prompt, unsupported_numbers, unsupported_prices
from agent.llm.history import message_tokens
from agent.llm.prompts import (
    IDENTITY_ARGUMENTS,
    IMAGE_ONLY_TEXT,
    build_system_prompt,
    named_tools,
    openai_tools,
    price_correction,
    rules_text,
    shop_facts_text,
    stage_tools,
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
from agent.offline.nlu import clean, extract_entities, product_query
from inference.client import ChatResult, LLMContextOverflow, LLMError
from inference.images import DEFAULT_MAX_VISUAL_TOKENS, VISION_FRAME_TOKENS, ImageError, prepare_image

log = logging.getLogger(__name__)

DEFAULT_TEMPERATURE = 0.2   # stock Qwen2.5-7B drifts out of Thai at high temperature

DEFAULT_MAX_TOKENS = 512      # a chat reply or a few tool calls; a longer reply is asked again once
TRUNCATION_RETRY_FACTOR = 2

# An order is created only on the customer's word: the caller decides from the customer's own message
# (the offline understanding reads it as a yes to the summary shown just before), never from the
# model's `confirmed=true`. It is also never created in the same turn as a change to the cart or the
# delivery details.
CONFIRMED_TOOLS = frozenset({"create_order"})
CART_CHANGING_TOOLS = frozenset({"add_to_cart", "update_cart_item", "remove_cart_item", "set_shipping_details"})
NOT_CONFIRMED = {"error": "not_confirmed",
                 "message_th": "ตะกร้าหรือข้อมูลจัดส่งเพิ่งเปลี่ยนในข้อความนี้ ต้องแสดงสรุปให้ลูกค้ายืนยันก่อนสร้างคำสั่งซื้อ"}
NOT_CONFIRMED_BY_CUSTOMER = {"error": "not_confirmed",
                             "message_th": "ลูกค้ายังไม่ได้ตอบยืนยันสรุปคำสั่งซื้อในข้อความนี้ ห้ามสร้างคำสั่งซื้อ "
                                           "ให้เรียก preview_order แล้วแสดงสรุปให้ลูกค้าตอบยืนยันก่อน"}


# Tools whose result carries a finished Thai answer (`message_th`, wording reviewed in the tools): when a
# round calls only these and all succeed, that text is the reply, without another model request.
# (create_order is not one: the model goes on to create the payment QR.)
SELF_ANSWERING_TOOLS = frozenset({"add_to_cart", "update_cart_item", "remove_cart_item", "cancel_order",
                                  "create_payment_qr", "handoff_to_staff"})
FACT_PRODUCTS = 3          # products from the shop search put in front of the model
FACT_MIN_SCORE = 0.75      # a weaker hit is a guess, not the game the customer named


# Result fields the model never needs to answer (ids, links, timestamps it has in words, bookkeeping):
# left out of what it reads, kept in the results the guardrails and the reply cards use.
NOT_FOR_THE_MODEL = frozenset({"product_id", "game_id", "list_price_satang", "edition_lang", "listing_tag",
                               "score", "image_url", "preview_url", "created_at", "expires_at", "paid_at",
                               "unit_price_satang", "line_total_satang", "subtotal_satang", "shipping_satang",
                               "sold_here", "query"})


def model_view(value: Any) -> Any:
    """A tool result as the model reads it: the same, without NOT_FOR_THE_MODEL fields and empty values
    (the `*_text` fields carry the money in words the customer reads)."""
    if isinstance(value, dict):
        return {key: model_view(child) for key, child in value.items()
                if key not in NOT_FOR_THE_MODEL and child not in (None, "", [], {})}
    if isinstance(value, list):
        return [model_view(item) for item in value]
    return value


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
    context_calls: list[tuple[str, dict, dict]] = field(default_factory=list)  # shop facts read for the prompt


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
    fact_results: list[dict] = field(default_factory=list)   # what the prompt's shop facts came from
    done_calls: dict[str, Any] = field(default_factory=dict)
    customer_confirmed: bool = False   # this message is the customer's yes to the summary shown before it
    history_messages: int = 0          # how many of `messages` (after the system prompt) are history
    max_tokens_now: int = 0            # raised once after a reply cut by max_tokens

    def fallback(self, reason: str, detail: str = "") -> AgentReply:
        log.warning("LLM turn falls back to the offline agent: %s %s", reason, detail)
        self.reply.text = ""
        self.reply.fallback_reason = reason
        return self.reply

    def all_results(self) -> list[Any]:
        """Every tool output the model saw this turn: its own calls and the shop facts."""
        return [output for _, _, output in self.reply.tool_results] + self.fact_results

    def customer_words(self) -> str:
        """Everything the customer wrote in the messages sent (a phone number they gave may be repeated)."""
        texts = []
        for message in self.messages:
            if message.get("role") != "user":
                continue
            content = message.get("content")
            parts = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
            texts += [part.get("text", "") for part in parts if isinstance(part, dict)]
        return "\n".join(texts)

    def estimated_prompt_tokens(self) -> int:
        return sum(message_tokens(message) for message in self.messages) + (
            self.reply.visual_tokens + VISION_FRAME_TOKENS if self.reply.visual_tokens else 0)

    def ask(self) -> ChatResult:
        estimate = self.estimated_prompt_tokens()
        log.info("LLM call %d: %d messages, ~%d prompt tokens (%d visual)", self.reply.llm_calls + 1,
                 len(self.messages), estimate, self.reply.visual_tokens)
        self.reply.llm_calls += 1
        result = self.client.chat(self.messages, tools=self.openai_tools, temperature=self.temperature,
                                  max_tokens=self.max_tokens_now or self.max_tokens, deadline=self.deadline)
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
                self.messages.append({"role": "tool", "tool_call_id": call.id, "content": to_json(model_view(output))})
        else:
            said = result.content if (result.content and "<tool_call>" in result.content) else (
                (parsed.text + "\n" if parsed.text else "") + render_tool_calls(parsed.calls))
            self.messages.append({"role": "assistant", "content": said})
            self.messages.append({"role": "user", "content": render_tool_responses([model_view(o) for _, o in outputs])})

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
        if call.name in CONFIRMED_TOOLS and not self.customer_confirmed:
            log.info("refused %s: the customer's message is not a confirmation of the summary", call.name)
            return NOT_CONFIRMED_BY_CUSTOMER
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


def _self_answer(turn: _Turn, parsed: ParsedReply) -> str | None:
    """The reply when every call of this round was an action whose tool wrote the answer itself."""
    names = {call.name for call in parsed.calls}
    if not names or not names <= SELF_ANSWERING_TOOLS:
        return None
    done = turn.reply.tool_results[-len(parsed.calls):] if len(turn.reply.tool_results) >= len(parsed.calls) else []
    if len(done) != len(parsed.calls):
        return None   # a repeated or refused call: let the model see what happened
    texts = [output.get("message_th") for _, _, output in done if isinstance(output, dict)]
    if any(not isinstance(text, str) or not text for text in texts) or any("error" in o for _, _, o in done):
        return None
    return "\n".join(dict.fromkeys(texts))


def named_product(text: str | None) -> str | None:
    """The game the customer's message names, as the offline understanding's entity reader finds it
    (None: no search; a fuzzy search of "ดูตะกร้า" would find a game called Tikal). Only the entity
    reader runs, not the intent scoring or the sentence encoder."""
    if not text or not text.strip():
        return None
    _, _, words, _ = extract_entities(clean(text), None)
    return product_query(words)


def _shop_facts(turn: _Turn, user_text: str | None, customer_confirmed: bool,
                awaiting_confirmation: bool) -> tuple[str, str]:
    """(facts text for the customer's message, dialogue stage): the shop search for the message, the
    cart and any order awaiting payment, read through the same tool session before the first request."""
    def read(name: str, arguments: dict) -> dict:
        if name not in turn.tool_names:
            return {}
        try:
            output = turn.tools.call_tool(name, arguments)
        except Exception:   # facts are a shortcut; without them the model calls the tools itself
            log.exception("reading %s for the prompt failed", name)
            return {}
        if isinstance(output, dict) and "error" not in output:
            turn.fact_results.append(output)
            return output
        return {}

    query = named_product(user_text)
    found = read("search_products", {"query": query, "limit": FACT_PRODUCTS}) if query else {}
    products = [hit for hit in found.get("results") or []
                if hit.get("kind", "product") == "product" and hit.get("sku") is not None
                and float(hit.get("score", 1.0)) >= FACT_MIN_SCORE][:FACT_PRODUCTS]
    if products:
        turn.reply.context_calls.append(("search_products", {"query": query, "limit": FACT_PRODUCTS}, found))
    cart = read("view_cart", {})
    status = read("get_order_status", {})
    unpaid = [order for order in status.get("orders") or [] if order.get("status") == "awaiting_payment"]
    if customer_confirmed or awaiting_confirmation:
        stage = "confirm"
    elif unpaid:
        stage = "order"
    elif cart.get("items"):
        stage = "cart"
    else:
        stage = "shopping"
    return shop_facts_text(products, cart, unpaid[:1]), stage


def _with_facts(message: dict, facts: str) -> dict:
    """The shop facts after the customer's words, in the same user turn (so the history before it, and
    the system prompt, stay a shared prefix with the previous request)."""
    content = message["content"]
    if isinstance(content, list):
        return {**message, "content": [*content, {"type": "text", "text": "\n\n" + facts}]}
    return {**message, "content": f"{content}\n\n{facts}"}


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
                 temperature: float = DEFAULT_TEMPERATURE, max_tokens: int = DEFAULT_MAX_TOKENS,
                 customer_confirmed: bool = False, awaiting_confirmation: bool = False,
                 shop_context: bool = False) -> AgentReply:
    """Answer one customer message (text and/or a photo) with the LLM and the shop tools.

    `history` is already trimmed (see agent.llm.history.trim_history). At most `max_rounds` LLM calls
    may ask for tools; one more call is allowed to correct a reply that quoted a price no tool returned.
    `customer_confirmed=True` only when the customer's own message confirmed the order summary they were
    shown (agent.llm.turn decides it with the offline understanding); otherwise create_order is refused
    whatever the model believes the customer said.

    `shop_context=True` (what the bot uses): before the first request the shop search runs for the
    message and the cart and unpaid order are read, and the result goes into the prompt after the
    message, so a price or stock question is answered in one request; the tools described in full are
    those of the dialogue stage (`awaiting_confirmation`: a summary waits for the customer's yes).
    """
    if tool_mode not in ("prompt", "native"):
        raise ValueError("tool_mode must be 'prompt' or 'native'")
    if not (user_text and user_text.strip()) and image_jpeg is None:
        raise ValueError("a turn needs text or an image")
    turn = _Turn(client=client, tools=tools, tool_mode=tool_mode, deadline=time.monotonic() + deadline_s,
                 temperature=temperature, max_tokens=max_tokens, customer_confirmed=customer_confirmed)
    try:
        return _run(turn, history=history, user_text=user_text, image_jpeg=image_jpeg, max_rounds=max_rounds,
                    shop_name=shop_name, max_visual_tokens=max_visual_tokens, shop_context=shop_context,
                    awaiting_confirmation=awaiting_confirmation)
    except Exception as error:  # a bug here must still end in an answer from the offline agent
        log.exception("LLM turn failed unexpectedly")
        return turn.fallback("internal_error", type(error).__name__)


def _run(turn: _Turn, *, history: list[dict], user_text: str | None, image_jpeg: bytes | None,
         max_rounds: int, shop_name: str | None, max_visual_tokens: int, shop_context: bool,
         awaiting_confirmation: bool) -> AgentReply:
    client, tools, tool_mode, deadline = turn.client, turn.tools, turn.tool_mode, turn.deadline
    if not client.available():
        return turn.fallback("llm_unavailable", "(circuit open)")
    try:
        specs = tools.list_tools()
    except Exception as error:
        log.exception("listing the shop tools failed")
        return turn.fallback("tools_unavailable", type(error).__name__)
    turn.tool_names = {spec["name"] for spec in specs}
    try:
        user_message, turn.reply.visual_tokens = _user_message(user_text, image_jpeg, max_visual_tokens)
    except ImageError as error:
        return turn.fallback("bad_image", str(error))
    facts, stage = (_shop_facts(turn, user_text, turn.customer_confirmed, awaiting_confirmation)
                    if shop_context else ("", None))
    described, named_only = stage_tools(specs, stage)
    turn.openai_tools = (openai_tools(described) + named_tools(named_only)
                         if (tool_mode == "native" and described) else None)
    system = build_system_prompt(described, tool_mode=tool_mode, shop_name=shop_name, named_only=named_only)
    if facts:
        user_message = _with_facts(user_message, facts)
    turn.messages = [{"role": "system", "content": system}, *history, user_message]
    turn.history_messages = len(history)
    secret = rules_text(shop_name)

    corrected = False
    trimmed = False
    tool_rounds = 0
    while True:
        if time.monotonic() >= deadline:
            return turn.fallback("llm_timeout", "turn deadline reached")
        try:
            result = turn.ask()
        except LLMContextOverflow as error:
            if trimmed or not turn.history_messages:
                return turn.fallback(error.reason, str(error))
            trimmed = True
            log.info("prompt over the server's context: asking again without the %d history messages",
                     turn.history_messages)
            del turn.messages[1: 1 + turn.history_messages]
            turn.history_messages = 0
            continue
        except LLMError as error:
            return turn.fallback(error.reason, str(error))
        if result.finish_reason == "length":
            # vLLM does not parse a cut reply into calls; neither do we: a half-written call or sentence
            # is never acted on or sent.
            if turn.max_tokens_now:
                return turn.fallback("llm_truncated", f"cut at {turn.max_tokens_now} tokens twice")
            turn.max_tokens_now = turn.max_tokens * TRUNCATION_RETRY_FACTOR
            log.info("reply cut at max_tokens=%d: asking again with %d", turn.max_tokens, turn.max_tokens_now)
            continue
        parsed = turn.read(result)
        if parsed.calls:
            tool_rounds += 1
            if tool_rounds > max_rounds:
                return turn.fallback("too_many_tool_rounds", f"after {max_rounds} rounds")
            turn.run_calls(result, parsed)
            finished = _self_answer(turn, parsed)
            if finished is not None:
                turn.reply.text = finished
                return turn.reply
            continue
        if parsed.errors:
            return turn.fallback("llm_garbage", "; ".join(parsed.errors))
        text = parsed.text
        problem = garbage_reason(text)
        if problem:
            return turn.fallback("llm_garbage", problem)
        if leaks_prompt(text, secret):
            return turn.fallback("prompt_leak", "the reply repeats the system prompt")
        made_up = unsupported_prices(text, turn.all_results())
        if made_up:
            if corrected:
                return turn.fallback("price_guardrail", f"figures {made_up} not returned by a tool")
            corrected = True
            log.info("reply quoted prices no tool returned (%s): asking once more", made_up)
            turn.messages.append({"role": "assistant", "content": text})
            turn.messages.append({"role": "system", "content": price_correction(made_up)})
            continue
        invented = unsupported_numbers(text, turn.all_results(), turn.customer_words())
        if invented:
            return turn.fallback("number_guardrail", f"{len(invented)} account-like numbers no tool returned")
        turn.reply.text = text
        return turn.reply


__all__ = ["ToolSession", "AgentReply", "ChatBackend", "run_llm_turn", "DEFAULT_TEMPERATURE", "DEFAULT_MAX_TOKENS"]
