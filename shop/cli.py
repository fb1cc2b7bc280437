"""`salesbot catalog load [--if-empty]` and `salesbot search QUERY [--limit N] [--json]`."""
from __future__ import annotations

import json
import sys
import time

import click

from shop.settings import settings_or_exit


def _database():
    """The configured database, or a clear exit when it is misconfigured or not migrated yet."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    from shop.db import get_database

    database = get_database(settings_or_exit().database_url)
    try:
        migrated = inspect(database.engine).has_table("products")
    except SQLAlchemyError as error:
        raise click.ClickException(f"cannot open the database: {error.__class__.__name__}") from None
    if not migrated:
        raise click.ClickException("the database has no catalogue tables yet: run `salesbot db upgrade` first")
    return database


@click.group()
def catalog() -> None:
    """The shop catalogue: products, BoardGameGeek games and aliases."""


@catalog.command("load")
@click.option("--if-empty", is_flag=True, help="Load only when the database has no products yet (used by `make dev`).")
@click.option("--warm/--no-warm", default=True, show_default=True,
              help="Build the search index and its description embeddings now (about 15 s the first time).")
def load_command(if_empty: bool, warm: bool) -> None:
    """Load (or refresh) the catalogue from the data files in shop/data. Safe to run twice."""
    from shop.catalog import load_catalog, product_count

    database = _database()
    with database.session() as session:
        if if_empty and product_count(session):
            click.echo(f"catalogue already loaded ({product_count(session)} products); nothing to do")
            return
        started = time.perf_counter()
        report = load_catalog(session)
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    for problem in report.problems:
        click.echo(f"skipped: {problem}", err=True)
    click.echo(f"{report.summary()} ({time.perf_counter() - started:.1f} s)")
    if warm:
        from shop.search import get_index

        started = time.perf_counter()
        with database.session() as session:
            get_index(session).ensure_embeddings()
        click.echo(f"search index ready ({time.perf_counter() - started:.1f} s; embeddings cached under var/cache)")


@click.command("search")
@click.argument("query")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 50))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of hits.")
@click.option("--no-games", is_flag=True, help="Only products the shop sells.")
def search(query: str, limit: int, as_json: bool, no_games: bool) -> None:
    """Search products (Thai or English). QUERY '-' reads one query per line from stdin, one JSON line each."""
    from shop.search import SearchFilters
    from shop.search import search as run_search

    database = _database()
    filters = SearchFilters(include_games=not no_games)
    with database.session() as session:
        if query == "-":
            for line in sys.stdin:
                hits = run_search(session, line.rstrip("\n"), filters, limit)
                click.echo(json.dumps({"query": line.rstrip("\n"), "hits": [h.to_json() for h in hits]},
                                      ensure_ascii=False))
            return
        hits = run_search(session, query, filters, limit)
    if as_json:
        click.echo(json.dumps([h.to_json() for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo("no match")
        return
    for hit in hits:
        price = f"{hit.price_thb:,.2f}" if hit.price_thb is not None else "-"
        stock = ("in stock" if hit.in_stock else "sold out") if hit.kind == "product" else "not sold"
        name = f"{hit.name_en} / {hit.name_th}" if hit.name_th else hit.name_en
        click.echo(f"{hit.score:5.2f}  {hit.kind:7}  {(hit.sku or f'bgg:{hit.game_id}'):40.40}  {price:>9}  {stock:8}  {name}")
