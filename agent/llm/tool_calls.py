"""Hermes-style tool calls as Qwen2.5 writes them, read tolerantly, and tool results written back.

The model answers with text and zero or more blocks:

    <tool_call>
    {"name": "search_products", "arguments": {"query": "Splendor"}}
    </tool_call>

Qwen's own docs warn that the JSON is sometimes broken (single quotes, a Python dict, a trailing comma,
a missing closing brace, a code fence, stray words). vLLM's parser drops all calls when one block fails
(all or nothing); this one repairs what it can and reports each block it could not read.
"""
from __future__ import annotations

import ast
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|(?=<tool_call>)|\Z)", re.DOTALL)
_FENCE = re.compile(r"```(?:json|JSON|python)?\s*(.*?)\s*```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any]
    id: str = field(default_factory=lambda: f"call-{uuid.uuid4().hex[:12]}")


@dataclass
class ParsedReply:
    text: str                                   # the prose, with every tool-call block removed
    calls: list[ToolCall] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line per block that could not be read


def _swap_quotes(raw: str) -> str:
    """Python-style 'strings' → JSON "strings", leaving apostrophes inside "..." alone."""
    out: list[str] = []
    quote: str | None = None
    escaped = False
    for char in raw:
        if quote:
            if escaped:  # \' is not a JSON escape: keep the apostrophe, drop the backslash
                escaped = False
                out.append("'" if char == "'" else "\\" + char)
                continue
            if char == "\\":
                escaped = True
                continue
            if char == quote:
                quote = None
                out.append('"')
                continue
            out.append('\\"' if (char == '"' and quote == "'") else char)
            continue
        if char in ("'", '"'):
            quote = char
            out.append('"')
            continue
        out.append(char)
    return "".join(out)


def _close_open(raw: str) -> str:
    """Close an unterminated string and any braces or brackets left open, innermost first."""
    stack: list[str] = []
    in_string = False
    escaped = False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]" and stack and stack[-1] == char:
            stack.pop()
    closing = '"' if in_string else ""
    return raw + closing + "".join(reversed(stack))


def _python_literals(raw: str) -> str:
    return re.sub(r"\bTrue\b", "true", re.sub(r"\bFalse\b", "false", re.sub(r"\bNone\b", "null", raw)))


def load_json_leniently(raw: str) -> Any:
    """json.loads, then the common repairs one after another. Raises ValueError when nothing works."""
    text = raw.strip()
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1).strip()
    start = text.find("{")
    if start > 0:
        text = text[start:]
    candidates = [text]
    end = text.rfind("}")
    if end != -1 and end + 1 < len(text):
        candidates.append(text[: end + 1])               # words after the object
    for candidate in list(candidates):
        repaired = _TRAILING_COMMA.sub(r"\1", _python_literals(candidate))
        candidates.append(repaired)
        candidates.append(_TRAILING_COMMA.sub(r"\1", _close_open(repaired)))
        swapped = _TRAILING_COMMA.sub(r"\1", _swap_quotes(repaired))
        candidates.append(swapped)
        candidates.append(_TRAILING_COMMA.sub(r"\1", _close_open(swapped)))
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except (json.JSONDecodeError, ValueError):
            continue
    try:  # a Python dict literal, as Qwen sometimes writes
        value = ast.literal_eval(text)
        json.dumps(value)
        return value
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    raise ValueError(f"unreadable JSON: {raw.strip()[:80]!r}")


def call_from_object(value: Any) -> ToolCall:
    """{"name", "arguments"} (or {"function": {...}} or "parameters") → ToolCall; ValueError otherwise."""
    if isinstance(value, dict) and isinstance(value.get("function"), dict):
        value = value["function"]
    if not isinstance(value, dict) or not isinstance(value.get("name"), str) or not value["name"].strip():
        raise ValueError("a tool call needs a \"name\"")
    arguments = value.get("arguments", value.get("parameters", {}))
    if isinstance(arguments, str):
        arguments = load_json_leniently(arguments) if arguments.strip() else {}
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise ValueError(f"arguments of {value['name']} are not an object")
    return ToolCall(name=value["name"].strip(), arguments=arguments)


def parse_tool_calls(text: str | None) -> ParsedReply:
    """Every <tool_call> block in the model's text, repaired where possible, plus the remaining prose."""
    text = text or ""
    calls: list[ToolCall] = []
    errors: list[str] = []
    blocks = list(_BLOCK.finditer(text))
    if blocks:
        for block in blocks:
            try:
                value = load_json_leniently(block.group(1))
                for item in value if isinstance(value, list) else [value]:
                    calls.append(call_from_object(item))
            except ValueError as error:
                errors.append(str(error))
        prose = _BLOCK.sub("", text)
    else:
        prose = text
        fenced = _FENCE.search(text)   # a fenced {"name", "arguments"} object without the tags
        if fenced:
            try:
                value = json.loads(fenced.group(1))
                if isinstance(value, dict) and "name" in value and "arguments" in value:
                    calls.append(call_from_object(value))
                    prose = text.replace(fenced.group(0), "")
            except ValueError:
                pass
    prose = re.sub(r"</?tool_call>", "", prose)
    prose = re.sub(r"[ \t]{2,}", " ", re.sub(r"\n{3,}", "\n\n", prose))
    return ParsedReply(text=prose.strip(), calls=calls, errors=errors)


def parse_native_tool_calls(tool_calls: list[dict]) -> ParsedReply:
    """OpenAI `tool_calls` (arguments as a JSON string, as vLLM's hermes parser returns them)."""
    calls: list[ToolCall] = []
    errors: list[str] = []
    for item in tool_calls:
        try:
            call = call_from_object(item)
        except ValueError as error:
            errors.append(str(error))
            continue
        if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]:
            call.id = item["id"]
        calls.append(call)
    return ParsedReply(text="", calls=calls, errors=errors)


def to_json(value: Any) -> str:
    """Compact JSON with Thai left readable (fewer tokens than \\u escapes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def render_tool_calls(calls: list[ToolCall]) -> str:
    """The assistant turn as Qwen2.5's template writes it, for replaying a call in prompt mode."""
    return "\n".join(
        f'<tool_call>\n{{"name": {json.dumps(call.name)}, "arguments": {to_json(call.arguments)}}}\n</tool_call>'
        for call in calls)


def render_tool_responses(results: list[Any]) -> str:
    """Tool results as the user turn Qwen2.5's template makes of consecutive `tool` messages."""
    return "\n".join(f"<tool_response>\n{to_json(result)}\n</tool_response>" for result in results)


__all__ = ["ToolCall", "ParsedReply", "parse_tool_calls", "parse_native_tool_calls", "load_json_leniently",
           "call_from_object", "render_tool_calls", "render_tool_responses", "to_json"]
