"""How the agents reach the shop tools: an MCP client session, in-memory by default, bound to one customer.

    async with open_tool_session(context) as client:        # async code
        await client.call_tool("view_cart", {})

    with ToolSession(context) as tools:                      # sync code (worker threads)
        tools.list_tools()                                   # [{"name", "description", "input_schema"}]
        tools.call_tool("add_to_cart", {"sku": "SBG-1", "quantity": 2})   # -> dict

The SDK is async. The sync facade runs every session on one event loop per process (an anyio
blocking portal in a daemon thread), so worker threads share it instead of each starting a loop.
"""
from __future__ import annotations

import atexit
import copy
import json
import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import Client
from mcp.types import CallToolResult, TextContent

from agent.mcp_server import UNKNOWN_TOOL_TH, build_server
from agent.tools import INTERNAL_ERROR, INVALID_ARGUMENTS_TH, ToolContext

TOOL_CALL_TIMEOUT_SECONDS = 30.0
log = logging.getLogger(__name__)


@asynccontextmanager
async def open_tool_session(context: ToolContext) -> AsyncIterator[Client]:
    """An in-memory MCP client connected to a server bound to `context`'s customer."""
    async with Client(build_server(context), read_timeout_seconds=TOOL_CALL_TIMEOUT_SECONDS) as client:
        yield client


def tool_result(result: CallToolResult) -> dict:
    """The tool's dict from an MCP result. Errors from our server already carry the tools' shape
    (`{"error", "message_th", ...}` with isError); anything else that failed becomes that shape too."""
    text = "".join(block.text for block in result.content if isinstance(block, TextContent))
    if result.is_error:
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict) and isinstance(value.get("error"), str):
            return value
        if text.startswith("Unknown tool"):
            return {"error": "unknown_tool", "message_th": UNKNOWN_TOOL_TH, "detail": text[:200]}
        return {"error": "invalid_arguments", "message_th": INVALID_ARGUMENTS_TH, "detail": text[:1000]}
    if isinstance(result.structured_content, dict):
        return result.structured_content
    try:
        value = json.loads(text)
    except ValueError:
        return {**INTERNAL_ERROR, "detail": text[:1000]}
    return value if isinstance(value, dict) else {"result": value}


def tool_listing(tools) -> list[dict]:
    return [{"name": t.name, "description": t.description or "", "input_schema": t.input_schema} for t in tools]


# --- the sync facade -----------------------------------------------------------------------------

_portal: BlockingPortal | None = None
_portal_pid = 0
_listing: list[dict] | None = None
_portal_lock = threading.Lock()


def _shared_portal() -> BlockingPortal:
    """The process's event loop thread, started on first use and stopped at exit.

    A forked child (an RQ work horse) does not inherit the parent's thread, so it starts its own.
    """
    global _portal, _portal_pid
    with _portal_lock:
        if _portal is None or _portal_pid != os.getpid():
            manager = start_blocking_portal()
            _portal, _portal_pid = manager.__enter__(), os.getpid()
            atexit.register(manager.__exit__, None, None, None)
        return _portal


class ToolSession:
    """A sync MCP client session bound to one customer; open it per turn, close it after.

    Safe to use from any thread; one session should be used by one thread at a time.
    """

    def __init__(self, context: ToolContext):
        self.context = context
        self._portal = _shared_portal()
        self._manager = self._portal.wrap_async_context_manager(open_tool_session(context))
        self._client: Client = self._manager.__enter__()
        self._closed = False

    def list_tools(self) -> list[dict]:
        """Tools as {name, description, input_schema}: what an LLM prompt or a `tools` field needs.

        Asked over MCP once per process; the registry is the same for every customer.
        """
        global _listing
        if _listing is None:
            _listing = tool_listing(self._portal.call(self._client.list_tools).tools)
        return copy.deepcopy(_listing)

    def call_tool(self, name: str, arguments: dict[str, Any] | None = None) -> dict:
        """The tool's result dict; any failure, the transport's included, is an error dict too."""
        try:
            result = self._portal.call(self._client.call_tool, name, arguments or {})
        except Exception:
            log.exception("MCP call of %s failed", name)
            return dict(INTERNAL_ERROR)
        return tool_result(result)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._manager.__exit__(None, None, None)

    def __enter__(self) -> ToolSession:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


__all__ = ["open_tool_session", "ToolSession", "tool_result", "tool_listing"]
