"""`salesbot orders`: what staff read until a back office exists — orders, their payment outcome,
and customers waiting for a person."""
from __future__ import annotations

import json

import click

from shop.models.orders import OrderStatus

STATUSES = [status.value for status in OrderStatus]


def open_staff_requests(session) -> list[dict]:
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from shop.models.customers import StaffRequest

    rows = session.scalars(select(StaffRequest).options(selectinload(StaffRequest.customer))
                           .where(StaffRequest.resolved_at.is_(None)).order_by(StaffRequest.created_at))
    return [{"id": r.id, "customer": {"line_user_id": r.customer.line_user_id,
                                      "display_name": r.customer.display_name},
             "order_number": r.order_number, "reason": r.reason, "created_at": r.created_at.isoformat()}
            for r in rows]


def _customer(data: dict) -> str:
    name, user = data["display_name"], data["line_user_id"]
    return f"{name} ({user})" if name else user


def _text(orders: list[dict], requests: list[dict]) -> str:
    from shop.money import format_baht

    lines = []
    if not orders:
        lines.append("no orders")
    for order in orders:
        payment = order["payment"]
        outcome = payment["outcome"] + (f" ({payment['reason']})" if payment["reason"] else "")
        lines.append(f"{order['number']}  {order['status']:<16} {format_baht(order['total_satang']):>12}  "
                     f"{_customer(order['customer'])}  payment: {outcome}")
        for item in order["items"]:
            lines.append(f"    {item['quantity']} × {item['name']}  @ {format_baht(item['unit_price_satang'])}")
        if order["fulfilment"] == "delivery":
            lines.append(f"    delivery: {order['ship_name']} {order['ship_phone']} | "
                         f"{' '.join(order['ship_address'].split())}")
        else:
            lines.append("    pickup at the shop")
    if requests:
        lines.append("")
        lines.append(f"customers waiting for staff: {len(requests)}")
        for request in requests:
            order = f" order {request['order_number']}" if request["order_number"] else ""
            lines.append(f"  #{request['id']} {request['created_at'][:16]} {_customer(request['customer'])}{order}: "
                         f"{request['reason'] or '-'}")
    return "\n".join(lines)


@click.group(invoke_without_command=True)
@click.option("--status", type=click.Choice(STATUSES), default=None, help="only orders in this status")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 10000))
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option("--resolve", "resolve_id", type=int, default=None, metavar="ID",
              help="mark the staff request ID as handled (after a person answered the customer)")
@click.pass_context
def orders(ctx: click.Context, status: str | None, limit: int, as_json: bool, resolve_id: int | None) -> None:
    """List orders (newest first): number, customer, items, total, status, payment outcome.

    Customers who asked for a person (handoff_to_staff) are listed after the orders.
    `salesbot orders cancel NUMBER --reason TEXT` cancels an order and releases its stock.
    """
    if ctx.invoked_subcommand:
        return
    from shop.db import get_database
    from shop.models.base import utcnow
    from shop.models.customers import StaffRequest
    from shop.orders import staff_orders
    from shop.settings import settings_or_exit

    settings = settings_or_exit()
    with get_database(settings.database_url).session() as session:
        if resolve_id is not None:
            request = session.get(StaffRequest, resolve_id)
            if request is None or request.resolved_at is not None:
                raise click.ClickException(f"no open staff request #{resolve_id}")
            request.resolved_at = utcnow()
            click.echo(f"staff request #{resolve_id} marked as handled")
            return
        rows = staff_orders(session, status=status, limit=limit)
        requests = open_staff_requests(session)
    if as_json:
        click.echo(json.dumps({"orders": rows, "staff_requests": requests}, ensure_ascii=False, indent=2))
    else:
        click.echo(_text(rows, requests))


@orders.command("cancel")
@click.argument("number")
@click.option("--reason", required=True, help="why the shop cancels it (kept for staff, not shown to the customer)")
@click.option("--refunded", is_flag=True, help="the order was paid and the shop has returned the money")
def cancel_command(number: str, reason: str, refunded: bool) -> None:
    """Cancel order NUMBER whatever holds it (unpaid, slip being checked, waiting for staff): its stock
    goes back on sale and the customer is told."""
    from shop.db import get_database
    from shop.errors import ShopError
    from shop.orders import staff_cancel_order
    from shop.settings import settings_or_exit

    settings = settings_or_exit()
    try:
        with get_database(settings.database_url).session() as session:
            order = staff_cancel_order(session, number, reason, refunded=refunded)
            released = ", ".join(f"{item.quantity} × {item.name}" for item in order.items)
            click.echo(f"{order.number} cancelled; back in stock: {released}; the customer will be told")
    except ShopError as error:
        raise click.ClickException(error.message_th) from None
