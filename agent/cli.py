"""`salesbot mcp`: serve the shop tools to any MCP client (Claude Desktop, MCP Inspector, scripts).

The session acts for one customer, chosen by `--line-user-id` (the LINE user id, "U" + 32 hex
characters; created if new). Without it only the catalogue tools work; cart and order tools answer
`no_customer`. The customer is never a tool argument.
"""
from __future__ import annotations

import ipaddress
import sys

import click

LOOPBACK_NAMES = {"localhost"}


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True,
              help="stdio for Claude Desktop and other local clients; http for Streamable HTTP at /mcp")
@click.option("--host", default="127.0.0.1", show_default=True, help="http only")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535), help="http only")
@click.option("--line-user-id", envvar="SALESBOT_MCP_LINE_USER_ID", default=None, metavar="U…",
              help="LINE user id of the customer this session acts for (env SALESBOT_MCP_LINE_USER_ID)")
@click.option("--allow-remote", is_flag=True,
              help="let --host be a non-loopback address (the endpoint has no authentication)")
def mcp(transport: str, host: str, port: int, line_user_id: str | None, allow_remote: bool) -> None:
    """Serve the shop tools over MCP (stdio or Streamable HTTP)."""
    from agent.mcp_server import build_server
    from agent.tools import ToolContext
    from shop.customers import get_or_create_customer
    from shop.db import get_database
    from shop.settings import settings_or_exit

    if transport == "http" and not _is_loopback(host) and not allow_remote:
        raise click.UsageError(f"--host {host} is not a loopback address: anyone who reaches it acts as the "
                               "bound customer. Pass --allow-remote if that is really wanted.")
    settings = settings_or_exit()
    db = get_database(settings.database_url)
    customer_id = None
    if line_user_id:
        with db.session() as session:
            customer_id = get_or_create_customer(session, line_user_id).id
    server = build_server(ToolContext(db=db, settings=settings, customer_id=customer_id))
    who = f"customer {line_user_id}" if line_user_id else "no customer (catalogue tools only)"
    if transport == "stdio":
        print(f"salesbot mcp: stdio, acting for {who}", file=sys.stderr)  # stdout carries the protocol
        server.run("stdio")
    else:
        print(f"salesbot mcp: http://{host}:{port}/mcp, acting for {who}", file=sys.stderr)
        server.run("streamable-http", host=host, port=port)


@click.group()
def export() -> None:
    """Data out of the shop: fine-tuning files."""


@export.command()
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Only customer messages from this day on (YYYY-MM-DD, UTC).")
@click.option("--format", "fmt", type=click.Choice(["chatml", "instruction"]), default="chatml", show_default=True,
              help="chatml: messages with tool calls in Qwen's chat format; instruction: {instruction, context, response}.")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
def sft(since, fmt: str, file: str) -> None:
    """Write the shop's conversations as supervised fine-tuning data (JSON lines), personal data redacted.

    Only LLM replies that pass the guardrails again and staff replies (used instead of the bot's answer
    to the same message) are written; see docs/llm.md "Fine-tuning on the shop's chats".
    """
    from datetime import UTC

    from agent.llm.sft import export_lines
    from agent.mcp_server import tool_definitions
    from shop.db import get_database
    from shop.settings import settings_or_exit

    settings = settings_or_exit()
    db = get_database(settings.database_url)
    specs = [{"name": tool.name, "description": tool.description or "", "input_schema": tool.parameters}
             for tool in tool_definitions()]
    count = 0
    with db.session() as session, click.open_file(file, "w", encoding="utf-8") as out:
        for line in export_lines(session, fmt=fmt, tool_specs=specs, shop_name=settings.shop_name,
                                 since=since.replace(tzinfo=UTC) if since else None):
            out.write(line + "\n")
            count += 1
    click.echo(f"{count} examples written to {file} ({fmt})", err=True)
