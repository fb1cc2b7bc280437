"""`salesbot staff add|list|disable|enable|password`: the accounts that sign in to the back office."""
from __future__ import annotations

import sys

import click


def _db():
    from shop.db import get_database
    from shop.settings import settings_or_exit

    return get_database(settings_or_exit().database_url)


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("password", hide_input=True, confirmation_prompt=True)


@click.group()
def staff() -> None:
    """Staff accounts for the back office at /admin/."""


@staff.command("add")
@click.argument("username")
@click.option("--name", "display_name", default="", help="the name shown in the back office and audit log")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of standard input")
def add(username: str, display_name: str, password_stdin: bool) -> None:
    """Create the account USERNAME (password prompted twice, or --password-stdin)."""
    from shop import audit
    from shop.staff import StaffError, add_staff

    db = _db()
    try:
        account = add_staff(db, username, _password(password_stdin), display_name=display_name,
                            actor=audit.Actor.cli())
    except StaffError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"staff account {account.username!r} created: sign in at /admin/login")


@staff.command("list")
def list_command() -> None:
    """Every account: username, name, active or disabled, last sign-in."""
    from shop.orders import SHOP_TZ
    from shop.staff import list_staff

    rows = list_staff(_db())
    if not rows:
        click.echo("no staff accounts: create one with `salesbot staff add USERNAME`")
    for row in rows:
        last = f"{row['last_sign_in_at'].astimezone(SHOP_TZ):%Y-%m-%d %H:%M}" if row["last_sign_in_at"] else "never"
        click.echo(f"{row['username']:<20} {'active' if row['active'] else 'disabled':<9} "
                   f"last sign-in: {last:<16}  {row['display_name']}")


def _set_active(username: str, active: bool) -> None:
    from shop import audit
    from shop.staff import StaffError, set_active

    try:
        changed = set_active(_db(), username, active, actor=audit.Actor.cli())
    except StaffError as error:
        raise click.ClickException(str(error)) from None
    state = "enabled" if active else "disabled (signed out everywhere)"
    click.echo(f"{username}: {state}" if changed else f"{username} was already {'enabled' if active else 'disabled'}")


@staff.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable USERNAME: it cannot sign in, and its open sessions end at once."""
    _set_active(username, False)


@staff.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Enable USERNAME again."""
    _set_active(username, True)


@staff.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of standard input")
def password(username: str, password_stdin: bool) -> None:
    """Set a new password for USERNAME (its open sessions end)."""
    from shop import audit
    from shop.staff import StaffError, set_password

    try:
        set_password(_db(), username, _password(password_stdin), actor=audit.Actor.cli())
    except StaffError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{username}: password changed")


@staff.command("line-chats")
def line_chats() -> None:
    """LINE groups the bot is in (seen in its webhook events): the value for STAFF_LINE_TARGET."""
    from shop.orders import SHOP_TZ
    from shop.settings import settings_or_exit
    from shop.staff_alerts import group_chats_seen

    settings = settings_or_exit()
    rows = group_chats_seen(_db())
    if not rows:
        click.echo("no group chat yet: invite the shop's LINE account to the staff group, send one message there, "
                   "then run this again")
    for row in rows:
        mark = "  <- STAFF_LINE_TARGET" if row["chat_id"] == settings.staff_line_target else ""
        click.echo(f"{row['chat_id']}  {row['events']} event(s), last {row['last_event_at'].astimezone(SHOP_TZ):%Y-%m-%d %H:%M}"
                   f"{mark}")
