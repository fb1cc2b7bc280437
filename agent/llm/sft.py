"""The shop's own conversations as supervised fine-tuning data (`salesbot export sft`).

One line per customer turn that is worth learning from:
- a reply by the LLM agent that passes the guardrails again here (prices and account numbers only from
  the turn's tool results, Thai, no markup), with the tool calls it made and their results;
- a staff member's reply after a handoff: the best answer there is, used in place of the bot's reply
  to the same customer message.
Offline-agent replies (templates), button presses and photos are left out. Personal data (names,
phones, addresses, LINE ids, slip details) is replaced by placeholders (agent.llm.redact).

Formats:
- `chatml`: {"messages": [...], "tools": [...]} in the OpenAI/Hugging Face chat shape (assistant
  `tool_calls`, `tool` messages), which Qwen2.5's chat template renders as its `<tool_call>` /
  `<tool_response>` turns (TRL's SFTTrainer reads this shape directly);
- `instruction`: {"instruction", "context", "response"}, the planning document's format: the customer's
  words, the recent conversation and the tool calls with their results as text, the reply.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.llm.guardrails import garbage_reason, unsupported_numbers, unsupported_prices
from agent.llm.prompts import build_system_prompt, openai_tools
from agent.llm.redact import Redactor
from shop.models import ChatMessage, Customer, Order

FORMATS = ("chatml", "instruction")
CONTEXT_MESSAGES = 6          # earlier messages given with each example
_NOT_WORDS = ("[รูปภาพ]", "[ปุ่ม]")   # photos and button presses: nothing typed to learn from


@dataclass
class Example:
    customer_words: str
    reply: str
    agent: str
    history: list[dict] = field(default_factory=list)      # [{"role", "content"}], redacted
    tool_calls: list[dict] = field(default_factory=list)   # [{"name", "arguments", "result"}], redacted


def _calls(message: ChatMessage) -> list[dict]:
    calls = message.tool_calls or []
    return [call for call in calls if isinstance(call, dict) and isinstance(call.get("name"), str)]


def passes_guardrails(reply: str, calls: list[dict], customer_words: str) -> bool:
    """The same checks a reply must pass before a customer reads it."""
    results = [call.get("result") for call in calls]
    return (garbage_reason(reply) is None and not unsupported_prices(reply, results)
            and not unsupported_numbers(reply, results, customer_words))


def _redactor(session: Session, customer: Customer, messages: list[ChatMessage]) -> Redactor:
    orders = session.scalars(select(Order).where(Order.customer_id == customer.id)).all()
    redactor = Redactor(names=[customer.display_name, customer.ship_name, *(o.ship_name for o in orders)],
                        phones=[customer.ship_phone, *(o.ship_phone for o in orders)],
                        addresses=[customer.ship_address, *(o.ship_address for o in orders)])
    for message in messages:
        for call in _calls(message):
            redactor.prime(call.get("arguments"), tool=call["name"])
            redactor.prime(call.get("result"), tool=call["name"])
    return redactor


def customer_examples(session: Session, customer: Customer, *, since: datetime | None = None) -> Iterator[Example]:
    """The examples of one customer's conversation, oldest first."""
    messages = session.scalars(select(ChatMessage).where(ChatMessage.customer_id == customer.id)
                               .order_by(ChatMessage.id)).all()
    if not messages:
        return
    redactor = _redactor(session, customer, messages)
    for index, message in enumerate(messages):
        if message.role != "user" or message.text.startswith(_NOT_WORDS):
            continue
        if since is not None and message.created_at is not None and _utc(message.created_at) < _utc(since):
            continue
        answers: list[ChatMessage] = []
        for later in messages[index + 1:]:
            if later.role == "user":
                break
            answers.append(later)
        staff = [answer for answer in answers if answer.role == "staff"]   # shop/handoff.py writes these
        if staff:
            chosen, calls = "\n".join(answer.text for answer in staff), []
            agent = "staff"
        elif answers and answers[0].agent == "llm":
            chosen, calls, agent = answers[0].text, _calls(answers[0]), "llm"
            if not passes_guardrails(chosen, calls, message.text):
                continue
        else:
            continue
        history = [{"role": earlier.role if earlier.role in ("user", "assistant") else "assistant",
                    "content": redactor.text(earlier.text)}
                   for earlier in messages[max(0, index - CONTEXT_MESSAGES): index]]
        while history and history[0]["role"] != "user":
            history.pop(0)
        yield Example(customer_words=redactor.text(message.text), reply=redactor.text(chosen), agent=agent,
                      history=history,
                      tool_calls=[{"name": call["name"],
                                   "arguments": redactor.data(call.get("arguments") or {}, tool=call["name"]),
                                   "result": redactor.data(call.get("result"), tool=call["name"])}
                                  for call in calls])


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def examples(session: Session, *, since: datetime | None = None) -> Iterator[Example]:
    for customer in session.scalars(select(Customer).order_by(Customer.id)):
        yield from customer_examples(session, customer, since=since)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def chatml_record(example: Example, tool_specs: list[dict], shop_name: str | None = None) -> dict:
    """Messages as Qwen2.5's template takes them (`tools` renders the system prompt's `<tools>` block)."""
    messages: list[dict] = [{"role": "system", "content": build_system_prompt([], tool_mode="native",
                                                                            shop_name=shop_name)},
                            *example.history, {"role": "user", "content": example.customer_words}]
    if example.tool_calls:
        ids = [f"call_{number}" for number in range(len(example.tool_calls))]
        messages.append({"role": "assistant", "content": "", "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}
            for call_id, call in zip(ids, example.tool_calls, strict=True)]})
        messages += [{"role": "tool", "tool_call_id": call_id, "content": _json(call["result"])}
                     for call_id, call in zip(ids, example.tool_calls, strict=True)]
    messages.append({"role": "assistant", "content": example.reply})
    return {"messages": messages, "tools": openai_tools(tool_specs)}


def instruction_record(example: Example) -> dict:
    lines = [f"{'ลูกค้า' if m['role'] == 'user' else 'ร้าน'}: {m['content']}" for m in example.history]
    for call in example.tool_calls:
        lines.append(f"เครื่องมือ {call['name']}({_json(call['arguments'])}) -> {_json(call['result'])}")
    return {"instruction": example.customer_words, "context": "\n".join(lines), "response": example.reply}


def export_lines(session: Session, *, fmt: str, tool_specs: list[dict], since: datetime | None = None,
                 shop_name: str | None = None) -> Iterator[str]:
    """JSON lines of the chosen format."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    for example in examples(session, since=since):
        record = chatml_record(example, tool_specs, shop_name) if fmt == "chatml" else instruction_record(example)
        yield json.dumps(record, ensure_ascii=False)


__all__ = ["Example", "FORMATS", "examples", "customer_examples", "export_lines", "chatml_record",
           "instruction_record", "passes_guardrails"]
