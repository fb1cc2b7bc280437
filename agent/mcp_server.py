"""The shop tools as an MCP server (mcp SDK v2, `MCPServer`).

One server per bound session: `build_server(context)` serves the registry of `agent.tools` for the
customer in `context`. The tool definitions (schemas from type hints and docstrings) are built once
per process; a server costs ~0.1 ms, so binding the customer per session is cheap and keeps the
customer out of every tool's arguments: the tool reads it from the server's lifespan state.
"""
from __future__ import annotations

import inspect
import typing
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.tools.base import Tool
from mcp.types import ToolAnnotations

from agent.tools import CUSTOMER_TOOLS, TOOLS, ToolContext, ToolFunction

SERVER_NAME = "salesbot-shop"
INSTRUCTIONS = (
    "Tools of a Thai board-game shop. Prices, totals and stock come only from these tools; never state "
    "a price you did not read from a tool result. The customer is fixed by the session: no tool takes "
    "a customer id. Create an order only after the customer explicitly confirmed the summary from "
    "preview_order or set_shipping_details, passing that summary's total_satang. Errors come back as "
    '{"error": code, "message_th": ...}; message_th is ready to show to the customer.'
)
READ_ONLY = {"search_products", "get_product_details", "get_product_price", "check_stock", "recommend_games",
             "sum_total_price", "view_cart", "preview_order", "get_order_status"}
CONTEXT_KWARG = "mcp_context"


def _mcp_function(name: str, fn: ToolFunction):
    """The registry function without its `ctx` parameter, taking the bound ToolContext from the
    MCP request's lifespan state instead."""
    hints = typing.get_type_hints(fn, include_extras=True)
    parameters = [parameter.replace(annotation=hints.get(parameter.name, parameter.annotation))
                  for parameter in inspect.signature(fn).parameters.values() if parameter.name != "ctx"]
    parameters.append(inspect.Parameter(CONTEXT_KWARG, inspect.Parameter.KEYWORD_ONLY, annotation=Context))

    def call(**arguments):
        mcp_context: Context = arguments.pop(CONTEXT_KWARG)
        return fn(mcp_context.request_context.lifespan_context, **arguments)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = inspect.getdoc(fn)
    call.__signature__ = inspect.Signature(parameters, return_annotation=dict)
    call.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": dict}
    return call


@lru_cache(maxsize=1)
def tool_definitions() -> tuple[Tool, ...]:
    """MCP tool objects for every registry function (built once per process)."""
    definitions = []
    for name, fn in TOOLS.items():
        hints = ToolAnnotations(read_only_hint=name in READ_ONLY, destructive_hint=False,
                                open_world_hint=False)
        definitions.append(Tool.from_function(_mcp_function(name, fn), name=name, context_kwarg=CONTEXT_KWARG,
                                              annotations=hints, structured_output=False))
    return tuple(definitions)


def build_server(context: ToolContext) -> MCPServer:
    """An MCP server whose tools act for `context.customer_id` (catalogue tools only when None)."""

    @asynccontextmanager
    async def bound(_server: MCPServer) -> AsyncIterator[ToolContext]:
        yield context

    return MCPServer(SERVER_NAME, instructions=INSTRUCTIONS, tools=list(tool_definitions()), lifespan=bound,
                     log_level="WARNING")


__all__ = ["build_server", "tool_definitions", "CUSTOMER_TOOLS", "SERVER_NAME"]
