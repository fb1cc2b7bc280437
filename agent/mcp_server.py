"""The shop tools as an MCP server (mcp SDK v2, `MCPServer`).

One server per bound session: `build_server(context)` serves the registry of `agent.tools` for the
customer in `context`. The tool definitions (schemas from type hints and docstrings) are built once
per process; a server costs ~0.1 ms, so binding the customer per session is cheap and keeps the
customer out of every tool's arguments: the tool reads it from the server's lifespan state.

What an MCP client such as Claude Desktop gets beyond the registry's dicts:
- `create_payment_qr` answers with the QR as image content next to its JSON, so the client shows the
  code itself (the `image_url` in the JSON only works while the web app runs);
- arguments that do not fit the schema come back as `{"error": "invalid_arguments", "message_th", "fields"}`
  with `isError: true`, like every other tool error, instead of the SDK's raw validation text;
- booleans are strict (`"confirmed": "yes"` is refused, not read as true);
- `create_order` and `cancel_order` are marked destructive, catalogue and cart reads read-only;
- the server reports the package version in its `initialize` answer.
"""
from __future__ import annotations

import base64
import inspect
import json
import re
import typing
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools.base import Tool
from mcp.types import CallToolResult, ImageContent, TextContent, ToolAnnotations
from pydantic import Strict, ValidationError

from agent.tools import CUSTOMER_TOOLS, INVALID_ARGUMENTS_TH, TOOLS, ToolContext, ToolFunction

SERVER_NAME = "salesbot-shop"
INSTRUCTIONS = (
    "Tools of a Thai board-game shop. Prices, totals and stock come only from these tools; never state "
    "a price you did not read from a tool result. The customer is fixed by the session: no tool takes "
    "a customer id. Create an order only after the customer explicitly confirmed the summary from "
    "preview_order or set_shipping_details, passing that summary's total_satang. Errors come back as "
    '{"error": code, "message_th": ...}; message_th is ready to show to the customer.'
)
READ_ONLY = {"search_products", "get_product_details", "get_product_price", "check_stock", "recommend_games",
             "sum_total_price", "view_cart", "preview_order", "get_order_status", "find_products_in_text",
             "get_shop_info"}
DESTRUCTIVE = {"create_order", "cancel_order"}   # commit stock and money, or give up an order
CONTEXT_KWARG = "mcp_context"
UNKNOWN_TOOL_TH = "ขออภัยค่ะ ทางร้านไม่มีคำสั่งนี้ค่ะ"
_QR_TOKEN = re.compile(r"/media/([A-Za-z0-9_\-]+)\.png$")


def server_version() -> str:
    try:
        return version("salesbot")
    except PackageNotFoundError:   # running from a source tree that was never installed
        return "0+unknown"


def _strict(annotation: Any) -> Any:
    """`bool` (bare or inside Annotated) → a strict bool: JSON true/false only, never "yes" or 1."""
    if annotation is bool:
        return Annotated[bool, Strict()]
    if typing.get_origin(annotation) is Annotated:
        base, *metadata = typing.get_args(annotation)
        if base is bool:
            return Annotated[(bool, *metadata, Strict())]
    return annotation


def _mcp_function(name: str, fn: ToolFunction):
    """The registry function without its `ctx` parameter, taking the bound ToolContext from the
    MCP request's lifespan state instead."""
    hints = typing.get_type_hints(fn, include_extras=True)
    parameters = [parameter.replace(annotation=_strict(hints.get(parameter.name, parameter.annotation)))
                  for parameter in inspect.signature(fn).parameters.values() if parameter.name != "ctx"]
    parameters.append(inspect.Parameter(CONTEXT_KWARG, inspect.Parameter.KEYWORD_ONLY, annotation=Context))
    with_image = name == "create_payment_qr"

    def call(**arguments):
        mcp_context: Context = arguments.pop(CONTEXT_KWARG)
        context: ToolContext = mcp_context.request_context.lifespan_context
        result = fn(context, **arguments)
        return _with_qr_image(context, result) if with_image else result

    call.__name__ = call.__qualname__ = name
    call.__doc__ = inspect.getdoc(fn)
    call.__signature__ = inspect.Signature(parameters, return_annotation=dict)
    call.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": dict}
    return call


def _json_text(value: dict) -> TextContent:
    return TextContent(type="text", text=json.dumps(value, ensure_ascii=False, indent=2))


def _with_qr_image(context: ToolContext, result: dict) -> dict | CallToolResult:
    """The tool's JSON plus the stored QR PNG as MCP image content (a client shows it inline)."""
    from shop.media import servable_media

    match = _QR_TOKEN.search(str(result.get("image_url") or ""))
    if "error" in result or match is None:
        return result
    with context.db.session() as session:
        media = servable_media(session, match.group(1))
        png = bytes(media.data) if media is not None else b""
    if not png:
        return result
    image = ImageContent(type="image", data=base64.b64encode(png).decode("ascii"), mime_type="image/png")
    return CallToolResult(content=[_json_text(result), image])


def error_result(error: dict) -> CallToolResult:
    return CallToolResult(content=[_json_text(error)], is_error=True)


def invalid_arguments(error: ValidationError) -> dict:
    """The documented error shape, naming each field and what is wrong with it (never echoing values)."""
    fields = [{"field": ".".join(str(part) for part in item["loc"]) or "(arguments)", "problem": item["msg"]}
              for item in error.errors(include_input=False, include_url=False)]
    return {"error": "invalid_arguments", "message_th": INVALID_ARGUMENTS_TH, "fields": fields}


class ShopServer(MCPServer):
    """MCPServer whose protocol-level failures use the tools' own error shape."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context | None = None):
        if self._tool_manager.get_tool(name) is None:
            return error_result({"error": "unknown_tool", "message_th": UNKNOWN_TOOL_TH, "tool": name[:100]})
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as error:
            if isinstance(error.__cause__, ValidationError):
                return error_result(invalid_arguments(error.__cause__))
            raise


@lru_cache(maxsize=1)
def tool_definitions() -> tuple[Tool, ...]:
    """MCP tool objects for every registry function (built once per process)."""
    definitions = []
    for name, fn in TOOLS.items():
        hints = ToolAnnotations(read_only_hint=name in READ_ONLY, destructive_hint=name in DESTRUCTIVE,
                                open_world_hint=False)
        definitions.append(Tool.from_function(_mcp_function(name, fn), name=name, context_kwarg=CONTEXT_KWARG,
                                              annotations=hints, structured_output=False))
    return tuple(definitions)


def build_server(context: ToolContext) -> MCPServer:
    """An MCP server whose tools act for `context.customer_id` (catalogue tools only when None)."""

    @asynccontextmanager
    async def bound(_server: MCPServer) -> AsyncIterator[ToolContext]:
        yield context

    return ShopServer(SERVER_NAME, version=server_version(), instructions=INSTRUCTIONS,
                      tools=list(tool_definitions()), lifespan=bound, log_level="WARNING")


__all__ = ["build_server", "tool_definitions", "CUSTOMER_TOOLS", "SERVER_NAME", "ShopServer", "server_version"]
