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


def trim_history(history: list[dict], max_tokens: int) -> list[dict]:
    """The most recent messages that fit in `max_tokens`, starting with a customer message.

    Only {"role": "user"|"assistant", "content": str} entries are kept; anything else is dropped.
    """
    clean = [{"role": item["role"], "content": item["content"]} for item in history
             if item.get("role") in ("user", "assistant") and isinstance(item.get("content"), str)
             and item["content"].strip()]
    kept: list[dict] = []
    used = 0
    for message in reversed(clean):
        cost = message_tokens(message)
        if used + cost > max_tokens:
            break
        kept.append(message)
        used += cost
    kept.reverse()
    while kept and kept[0]["role"] != "user":
        kept.pop(0)
    return kept


__all__ = ["estimate_tokens", "message_tokens", "trim_history"]
