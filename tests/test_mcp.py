"""The shop tools over MCP: the in-memory client the agents use (sync facade and async), and
`salesbot mcp` over stdio and Streamable HTTP as Claude Desktop or any other client would use it."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from shop_data import stock_of

from agent.mcp_client import ToolSession, open_tool_session, tool_result
from agent.tools import TOOLS, ToolContext

SALESBOT = str(Path(sys.executable).parent / "salesbot")
ALICE_LINE_ID = "U" + "a" * 32


def test_in_memory_session_lists_every_tool_without_customer_arguments(alice):
    with ToolSession(alice) as tools:
        listed = {tool["name"]: tool for tool in tools.list_tools()}
    assert set(listed) == set(TOOLS)
    for name, tool in listed.items():
        properties = set(tool["input_schema"].get("properties", {}))
        assert tool["description"], name
        assert not properties & {"ctx", "mcp_context", "customer_id", "line_user_id"}, name
    add = listed["add_to_cart"]["input_schema"]["properties"]
    assert add["quantity"]["minimum"] == 1 and add["quantity"]["maximum"] == 99
    assert listed["create_order"]["input_schema"]["required"] == ["confirmed", "expected_total_satang"]


def test_in_memory_calls_act_for_the_bound_customer_only(shop, settings, alice):
    with ToolSession(alice) as tools:
        added = tools.call_tool("add_to_cart", {"sku": "SPL-TH", "quantity": 2})
        assert added["cart"]["total_satang"] == 252000
        assert tools.call_tool("view_cart", {})["item_count"] == 2
        lines = tools.call_tool("sum_total_price", {"items": [{"name": "Azul", "quantity": 2}]})
        assert lines["total_satang"] == 278000
    with ToolSession(ToolContext(shop.db, settings, shop.bob)) as tools:
        assert tools.call_tool("view_cart", {})["items"] == []


def test_bad_arguments_come_back_as_clear_errors(alice, shop):
    with ToolSession(alice) as tools:
        for arguments in ({"sku": "AZUL", "quantity": "many"}, {"sku": "AZUL", "quantity": 0}, {"sku": ["AZUL"]}):
            result = tools.call_tool("add_to_cart", arguments)
            assert result["error"] == "invalid_arguments" and result["message_th"].endswith("นะคะ"), result
        assert tools.call_tool("no_such_tool", {})["error"] == "unknown_tool"
        assert tools.call_tool("create_order", {"confirmed": True})["error"] == "invalid_arguments"
        assert tools.call_tool("view_cart", {})["items"] == []
        # The SDK drops arguments a tool does not declare: a "price" sent along is never used.
        smuggled = tools.call_tool("add_to_cart", {"sku": "AZUL", "price_satang": 100, "unit_price_satang": 100})
        assert smuggled["cart"]["total_satang"] == 139000
    assert stock_of(shop.db, "AZUL") == 1


def test_async_session_for_async_callers(alice):
    async def main():
        async with open_tool_session(alice) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            price = tool_result(await client.call_tool("get_product_price", {"sku": "AZUL"}))
        return names, price

    names, price = anyio.run(main)
    assert "create_payment_qr" in names and price["price_text"] == "1,390 บาท"


def test_sync_sessions_from_many_threads_share_one_loop(shop, settings):
    from shop.customers import get_or_create_customer

    with shop.db.session() as session:
        customers = [get_or_create_customer(session, f"U{n:032x}").id for n in range(4)]
    results: dict[int, dict] = {}

    def shop_for(customer_id):
        with ToolSession(ToolContext(shop.db, settings, customer_id)) as tools:
            tools.call_tool("add_to_cart", {"sku": "TTR", "quantity": 1})
            results[customer_id] = tools.call_tool("view_cart", {})

    threads = [threading.Thread(target=shop_for, args=(c,)) for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert {c: r["item_count"] for c, r in results.items()} == {c: 1 for c in customers}


def _server_env(shop) -> dict[str, str]:
    return {"DATABASE_URL": shop.db.url, "APP_ENV": "development", "PYTHAINLP_OFFLINE": "1",
            "SALESBOT_MCP_LINE_USER_ID": ""}


async def _claude_desktop_checks(client) -> dict:
    """What Claude Desktop sees: listing hints and descriptions, the QR as an image, errors in the tools'
    shape, strict booleans. Runs over whichever transport `client` uses."""
    from mcp.types import ImageContent, TextContent

    seen: dict = {"server": client.server_info}
    listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    seen["destructive"] = {name for name, tool in listed.items() if tool.annotations.destructive_hint}
    seen["read_only"] = {name for name, tool in listed.items() if tool.annotations.read_only_hint}
    seen["undescribed"] = [f"{name}.{parameter}" for name, tool in listed.items()
                           for parameter, spec in tool.input_schema.get("properties", {}).items()
                           if not spec.get("description")]
    seen["yes_string"] = await client.call_tool("create_order", {"confirmed": "yes", "expected_total_satang": 1})
    seen["missing"] = await client.call_tool("add_to_cart", {"sku": "AZUL", "quantity": "many"})
    seen["unknown"] = await client.call_tool("no_such_tool", {})
    await client.call_tool("add_to_cart", {"sku": "AZUL", "quantity": 1})
    summary = tool_result(await client.call_tool("set_shipping_details", {"fulfilment": "pickup"}))
    order = tool_result(await client.call_tool("create_order", {"confirmed": True,
                                                                 "expected_total_satang": summary["total_satang"]}))
    seen["order"] = order
    qr = await client.call_tool("create_payment_qr", {})
    seen["qr_json"] = tool_result(qr)
    seen["qr_images"] = [block for block in qr.content if isinstance(block, ImageContent)]
    seen["qr_texts"] = [block for block in qr.content if isinstance(block, TextContent)]
    await client.call_tool("cancel_order", {"order_number": order["order"]["number"]})
    return seen


def _assert_claude_desktop_checks(seen: dict) -> None:
    import base64
    import json

    from agent.mcp_server import server_version

    assert seen["server"].name == "salesbot-shop" and seen["server"].version == server_version() != ""
    assert seen["destructive"] == {"create_order", "cancel_order"}
    assert {"search_products", "view_cart", "preview_order"} <= seen["read_only"]
    assert not seen["read_only"] & {"add_to_cart", "create_order", "cancel_order"}
    assert seen["undescribed"] == []
    for result, field in ((seen["yes_string"], "confirmed"), (seen["missing"], "quantity")):
        assert result.is_error
        error = json.loads(result.content[0].text)
        assert error["error"] == "invalid_arguments" and error["message_th"].endswith("นะคะ")
        assert field in {item["field"] for item in error["fields"]}
        assert "pydantic" not in result.content[0].text and "validation error" not in result.content[0].text
    assert seen["unknown"].is_error and json.loads(seen["unknown"].content[0].text)["error"] == "unknown_tool"
    assert seen["order"]["order"]["status"] == "awaiting_payment"
    [image] = seen["qr_images"]
    png = base64.b64decode(image.data)
    assert image.mime_type == "image/png" and png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    assert seen["qr_json"]["amount_satang"] == seen["order"]["order"]["total_satang"]


def test_stdio_server_acts_for_the_customer_named_on_the_command_line(shop, tmp_path):
    params = StdioServerParameters(command=SALESBOT, args=["mcp", "--line-user-id", ALICE_LINE_ID],
                                   env=_server_env(shop), cwd=str(tmp_path))

    async def main():
        async with Client(params) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            added = tool_result(await client.call_tool("add_to_cart", {"sku": "AZUL", "quantity": 1}))
            await client.call_tool("remove_cart_item", {"sku": "AZUL"})
            seen = await _claude_desktop_checks(client)
            await client.call_tool("add_to_cart", {"sku": "AZUL", "quantity": 1})
        return names, added, seen

    names, added, seen = anyio.run(main)
    _assert_claude_desktop_checks(seen)
    assert names == set(TOOLS)
    assert added["cart"]["total_satang"] == 139000
    with shop.db.session() as session:  # written to the database the server was given, for Alice
        from shop import cart as carts

        assert carts.cart_json(session, shop.alice)["items"][0]["sku"] == "AZUL"
        assert carts.cart_json(session, shop.bob)["items"] == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_streamable_http_server_without_a_customer_serves_the_catalogue_only(shop, tmp_path):
    port = _free_port()
    server = subprocess.Popen([SALESBOT, "mcp", "--transport", "http", "--port", str(port)], cwd=tmp_path,
                              env={**os.environ, **_server_env(shop)}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None, server.stderr.read().decode()
            time.sleep(0.1)

        async def main():
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                price = tool_result(await client.call_tool("get_product_price", {"sku": "TTR"}))
                cart = tool_result(await client.call_tool("view_cart", {}))
            return price, cart

        price, cart = anyio.run(main)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert price["price_satang"] == 175050
    assert cart["error"] == "no_customer"


def test_streamable_http_server_for_a_customer_gives_images_and_error_shapes(shop, tmp_path):
    port = _free_port()
    server = subprocess.Popen([SALESBOT, "mcp", "--transport", "http", "--port", str(port),
                               "--line-user-id", "U" + "c" * 32], cwd=tmp_path,
                              env={**os.environ, **_server_env(shop)}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        _wait_for_port(server, port)

        async def main():
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                return await _claude_desktop_checks(client)

        seen = anyio.run(main)
    finally:
        server.terminate()
        server.wait(timeout=10)
    _assert_claude_desktop_checks(seen)


def _wait_for_port(server: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        assert server.poll() is None, server.stderr.read().decode()
        time.sleep(0.1)
    raise AssertionError(f"salesbot mcp did not listen on {port}")


def test_http_refuses_a_public_address_without_allow_remote(tmp_path):
    from click.testing import CliRunner

    from agent.cli import mcp

    result = CliRunner().invoke(mcp, ["--transport", "http", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "--allow-remote" in result.output


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_gets_its_own_event_loop(alice):
    with ToolSession(alice) as tools:  # the parent's loop thread exists now
        assert "error" not in tools.call_tool("view_cart", {})
    alice.db.engine.dispose()  # as RQ does: no pooled connection crosses the fork
    pid = os.fork()
    if pid == 0:  # the child: a loop thread of its own, or this call would hang
        ok = False
        try:
            with ToolSession(alice) as tools:
                ok = tools.call_tool("get_product_price", {"sku": "AZUL"}).get("price_satang") == 139000
        finally:
            os._exit(0 if ok else 1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung on the parent's event loop")
    assert os.waitstatus_to_exitcode(status) == 0
