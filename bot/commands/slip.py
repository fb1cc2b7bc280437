"""`salesbot slip approve|reject`: staff decide a slip from a script, with the back office's service
underneath. Extends the `slip` group of payments.cli (`slip read`), which cannot build the customer's
messages itself."""
from __future__ import annotations

import click

from payments.cli import slip

QUEUED = "the customer's message is queued; the running service pushes it within a minute"


def _decide(decide) -> dict:
    from bot.replies.fulfilment import customer_messages
    from shop import audit
    from shop.db import get_database
    from shop.errors import ShopError
    from shop.settings import settings_or_exit

    settings = settings_or_exit()
    try:
        return decide(get_database(settings.database_url), settings, audit.Actor.cli(), customer_messages)
    except ShopError as error:
        raise click.ClickException(f"{error.code}: {error.message_th}") from None


@slip.command("approve")
@click.argument("order_number")
def approve(order_number: str) -> None:
    """Accept the slip waiting for review on ORDER_NUMBER: the order is paid, the customer gets the receipt."""
    from payments import review

    order = _decide(lambda db, settings, actor, messages: review.approve(db, actor, messages,
                                                                         order_number=order_number))
    click.echo(f"{order['number']}: paid ({order['total_text']}); {QUEUED}")


@slip.command("reject")
@click.argument("order_number")
@click.option("--reason", required=True, help="why, in Thai: the customer reads it with what to do next")
def reject(order_number: str, reason: str) -> None:
    """Refuse the slip waiting for review on ORDER_NUMBER; the order waits for payment again."""
    from payments import review

    result = _decide(lambda db, settings, actor, messages: review.reject(
        db, actor, messages, reason, order_number=order_number, pay_within_minutes=settings.order_expiry_minutes))
    click.echo(f"slip {result['id']} rejected; {QUEUED}")
