"""`salesbot customers forget LINE_USER_ID`: erase a customer's personal data on request (PDPA)."""
from __future__ import annotations

import click

from shop.settings import settings_or_exit


@click.group()
def customers() -> None:
    """The shop's customers."""


@customers.command("forget")
@click.argument("line_user_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def forget_command(line_user_id: str, yes: bool) -> None:
    """Erase one customer's name, phone, addresses, photos and chats; order totals stay for the accounts."""
    from shop.db import get_database
    from shop.privacy import forget_customer

    if not yes:
        click.confirm(f"Erase the personal data of {line_user_id}? This cannot be undone", abort=True)
    with get_database(settings_or_exit().database_url).session() as session:
        erased = forget_customer(session, line_user_id)
    if erased is None:
        raise click.ClickException(f"no customer with LINE user id {line_user_id}")
    click.echo(f"forgotten: {erased.summary()}; orders and amounts kept")
