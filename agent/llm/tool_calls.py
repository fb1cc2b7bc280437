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

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import json_repair

_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|(?=<tool_call>)|\Z)", re.DOTALL)
_FENCE = re.compile(r"```(?:json|JSON|python)?\s*(.*?)\s*```", re.DOTALL)


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


def _top_level_objects(text: str) -> list[str]:
    """The text split into its top-level `{...}` objects (string-aware; the last may be unterminated).

    Qwen2.5-VL-72B sometimes writes two call objects in one `<tool_call>` block; each is a call."""
    objects: list[str] = []
    depth, start, in_string, escaped, quote = 0, -1, False, False, ""
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                in_string = False
        elif char in "\"'" and depth:
            in_string, quote = True, char
        elif char == "{":
            if depth == 0:
                start = index
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                objects.append(text[start: index + 1])
    if depth:
        objects.append(text[start:])
    return objects


def _repaired(text: str) -> Any:
    """json.loads, else json-repair (quotes, trailing commas, Python literals, missing braces, words
    after the object). ValueError when nothing JSON-like is left."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    value = json_repair.loads(text)
    if not isinstance(value, (dict, list)) or (not value and text.strip() not in ("{}", "[]")):
        raise ValueError(f"unreadable JSON: {text.strip()[:80]!r}")
    return value


def _unfenced(raw: str) -> str:
    text = raw.strip()
    fenced = _FENCE.search(text)
    return fenced.group(1).strip() if fenced else text


def load_json_leniently(raw: str) -> Any:
    """One JSON value from model output, repaired where possible. Raises ValueError when unreadable."""
    text = _unfenced(raw)
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise ValueError(f"unreadable JSON: {raw.strip()[:80]!r}")
    return _repaired(text[start:])


def load_json_values(raw: str) -> list[Any]:
    """Every JSON value in one tool-call block: a list of calls, one object, or several objects
    written one after another."""
    text = _unfenced(raw)
    if text.lstrip().startswith("["):
        value = load_json_leniently(text)
        return value if isinstance(value, list) else [value]
    objects = _top_level_objects(text)
    if not objects:
        raise ValueError(f"unreadable JSON: {raw.strip()[:80]!r}")
    return [_repaired(chunk) for chunk in objects]


def _arguments_from_string(raw: str) -> Any:
    """Arguments sent as a JSON string (OpenAI shape), possibly encoded twice (a JSON string whose
    value is the JSON object, as vLLM passes through when the model wrote arguments as a string):
    decoded at most twice, repaired when broken."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return load_json_leniently(raw)
    if isinstance(value, str):
        return _arguments_from_string(value) if value.strip()[:1] in ("{", "") else value
    return value


def call_from_object(value: Any) -> ToolCall:
    """{"name", "arguments"} (or {"function": {...}} or "parameters") → ToolCall; ValueError otherwise."""
    if isinstance(value, dict) and isinstance(value.get("function"), dict):
        value = value["function"]
    if not isinstance(value, dict) or not isinstance(value.get("name"), str) or not value["name"].strip():
        raise ValueError("a tool call needs a \"name\"")
    arguments = value.get("arguments", value.get("parameters", {}))
    if isinstance(arguments, str):
        arguments = _arguments_from_string(arguments)
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
                for value in load_json_values(block.group(1)):
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
