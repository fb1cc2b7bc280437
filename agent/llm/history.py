"""Recent turns for the prompt, trimmed to a token budget.

Token counts are estimates (no tokenizer on the app side): about one token per three characters, which
is on the safe side for Thai in Qwen2.5's tokenizer, plus a few tokens of chat framing per message.
"""
from __future__ import annotations

import math

MESSAGE_OVERHEAD_TOKENS = 4   # <|im_start|>role\n ... <|im_end|>\n
CHARS_PER_TOKEN = 3


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def message_tokens(message: dict) -> int:
    """Estimated tokens of one chat message (text parts only; images are counted by their own estimate)."""
    content = message.get("content")
    if isinstance(content, list):
        text = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    else:
        text = content or ""
    calls = message.get("tool_calls") or []
    extra = sum(len(str(call)) for call in calls)
    return MESSAGE_OVERHEAD_TOKENS + estimate_tokens(text) + math.ceil(extra / CHARS_PER_TOKEN)


HISTORY_STEP_MESSAGES = 8   # the window's start moves in jumps of this many messages


def trim_history(history: list[dict], max_tokens: int, *, step: int = HISTORY_STEP_MESSAGES,
                 offset: int = 0) -> list[dict]:
    """Recent messages that fit in `max_tokens`, starting with a customer message.

    The start moves forward only in jumps of `step` messages, counted from the conversation's first
    message (`offset` is the position of `history[0]` in it): between two jumps every request begins
    with the same messages, so vLLM's prefix cache keeps serving the conversation's start instead of
    missing it each turn because one old message fell off. The price is up to `step` fewer messages.
    Only {"role": "user"|"assistant", "content": str} entries are kept; anything else is dropped.
    """
    clean = [(offset + index, {"role": item["role"], "content": item["content"]})
             for index, item in enumerate(history)
             if item.get("role") in ("user", "assistant") and isinstance(item.get("content"), str)
             and item["content"].strip()]
    used = 0
    first = len(clean)
    for index in range(len(clean) - 1, -1, -1):
        cost = message_tokens(clean[index][1])
        if used + cost > max_tokens:
            break
        used += cost
        first = index
    step = min(step, (len(clean) - first) // 2)   # never lose more than half of what fits
    if step > 1 and first < len(clean) and first > 0:
        boundary = -(-clean[first][0] // step) * step   # the next position that is a multiple of step
        while first < len(clean) and clean[first][0] < boundary:
            first += 1
    kept = [message for _, message in clean[first:]]
    while kept and kept[0]["role"] != "user":
        kept.pop(0)
    return kept


__all__ = ["estimate_tokens", "message_tokens", "trim_history"]
