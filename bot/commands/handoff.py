"""`salesbot handoff list|reply|close`: chats a person has taken over (the bot stays quiet meanwhile)."""
from __future__ import annotations

import click

from shop.settings import settings_or_exit


def _db():
    from shop.db import get_database

    return get_database(settings_or_exit().database_url)


def _push_now(db) -> None:
    """Push what was queued at once (a person is chatting); if LINE is down, housekeeping retries."""
    from webhooks.line_api import LineApi
    from webhooks.notifications import send_due

    settings = settings_or_exit()
    line = LineApi(settings)
    try:
        send_due(db, settings, line)
    finally:
        line.close()


@click.group()
def handoff() -> None:
    """Chats handed to staff."""


@handoff.command("list")
@click.option("--lines", default=5, show_default=True, help="recent chat lines shown for each")
def list_command(lines: int) -> None:
    """Open handoffs, oldest first, with the end of each conversation."""
    from shop.handoff import conversation, open_handoffs

    with _db().session() as session:
        rows = open_handoffs(session)
        if not rows:
            click.echo("no chat is waiting for staff")
        for row in rows:
            click.echo(f"{row.line_user_id}  {row.display_name or '-'}  since {row.opened_at:%Y-%m-%d %H:%M} UTC"
                       f"  reason: {row.reason or '-'}")
            for line in conversation(session, row.customer_id, lines):
                click.echo(f"    {line.role:9} {line.text[:200]}")


@handoff.command("reply")
@click.argument("line_user_id")
@click.argument("text")
def reply_command(line_user_id: str, text: str) -> None:
    """Send TEXT to the customer as the shop (pushed by the workers, exactly once)."""
    from shop.handoff import staff_reply

    db = _db()
    try:
        staff_reply(db, line_user_id, text, staff="cli")
    except (LookupError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    _push_now(db)
    click.echo("sent")


@handoff.command("close")
@click.argument("line_user_id")
def close_command(line_user_id: str) -> None:
    """Give the chat back to the bot; the customer is told."""
    from shop.handoff import close_handoff

    db = _db()
    try:
        closed = close_handoff(db, line_user_id)
    except LookupError as error:
        raise click.ClickException(str(error)) from None
    _push_now(db)
    click.echo("closed: the bot answers again" if closed else "no handoff was open for this customer")
