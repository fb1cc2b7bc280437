"""`salesbot catalog load|import|export`, `salesbot stock set SKU QUANTITY` and `salesbot search QUERY`."""
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


@catalog.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Show what would change and every problem; write nothing.")
@click.option("--deactivate-missing", is_flag=True, help="Hide products that are not in the file.")
def import_command(file, dry_run: bool, deactivate_missing: bool) -> None:
    """Import the shop's catalogue CSV (columns: README "Your own catalogue"). Good rows land; bad rows
    are listed with their line and column and skipped; a file with a duplicated SKU is refused."""
    from shop import catalog_csv

    try:
        text = catalog_csv.decode(file.read())
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    database = _database()
    with database.session() as session:
        plan = catalog_csv.preview(session, text, deactivate_missing=deactivate_missing)
        if plan.refused:
            raise click.ClickException(f"file refused: {plan.refused}")
        for problem in plan.problems:
            click.echo(f"problem: {problem}", err=True)
        for row in plan.rows:
            if row.action != "unchanged":
                fields = ", ".join(sorted(row.changes))
                click.echo(f"{row.action:7} line {row.line}: {row.sku} ({fields})")
        if plan.missing:
            click.echo(f"hide (not in the file): {', '.join(plan.missing)}")
        if dry_run:
            click.echo(f"dry run: {plan.summary()}; nothing written")
            session.rollback()
            return
        catalog_csv.commit(session, plan)
    click.echo(f"imported: {plan.summary()}")


@catalog.command("export")
@click.argument("file", type=click.File("w", encoding="utf-8"), default="-")
def export_command(file) -> None:
    """Write every product as CSV in the import format (to FILE, or standard output)."""
    from shop import catalog_csv

    with _database().session() as session:
        file.write(catalog_csv.export(session))


@click.group()
def stock() -> None:
    """Stock levels."""


@stock.command("set")
@click.argument("sku")
@click.argument("quantity", type=click.IntRange(0, 1_000_000))
def stock_set_command(sku: str, quantity: int) -> None:
    """Set the units free to sell of one product."""
    from shop import catalog_csv

    with _database().session() as session:
        try:
            before, after = catalog_csv.set_stock(session, sku, quantity)
        except LookupError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"{sku}: stock {before} → {after}")


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
