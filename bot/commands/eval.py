"""`salesbot eval journeys PATH [--url URL] [--repeat K] [--json]`: replay customer journeys end to end.

Without --url the whole service runs in this process (`bot.app.create_app` with the simulator, embedded
workers, on a free loopback port) against a fresh temporary SQLite database holding the shop's
catalogue, or against --database-url. The shop's other settings (.env, environment) are its own, so a
shop tests its own name, fees and agent (an LLM too, when LLM_BASE_URL is set). Exit code 0 when the
run completed, whatever passed; 2 when a journey file is malformed; 1 when the service cannot be used.
"""
from __future__ import annotations

import json
import secrets
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import click


@click.group("eval")
def eval_group() -> None:
    """Test the shop end to end before going live."""


@eval_group.command("journeys")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--url", default=None, help="a running service with the simulator (salesbot dev), e.g. http://127.0.0.1:8000;"
                                          " without it the service runs in this process")
@click.option("--repeat", default=1, show_default=True, type=click.IntRange(1, 50),
              help="run every journey K times and report pass^K (a journey counts only if all K runs pass)")
@click.option("--json", "as_json", is_flag=True, help="print the whole report as JSON")
@click.option("--tag", "tags", multiple=True, help="only journeys with this tag (repeatable)")
@click.option("--name", "names", multiple=True, help="only journeys whose name contains this (repeatable)")
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(1, 120),
              help="seconds to wait for each answer of the bot")
@click.option("--database-url", default=None,
              help="in-process only: a migrated database with a catalogue, instead of a fresh temporary one")
@click.option("--keep-stock", is_flag=True, help="do not put stock back before each journey")
@click.option("--no-transcripts", is_flag=True, help="list failures without their transcripts")
def journeys_command(path: Path, url: str | None, repeat: int, as_json: bool, tags: tuple[str, ...],
                     names: tuple[str, ...], timeout: float, database_url: str | None, keep_stock: bool,
                     no_transcripts: bool) -> None:
    """Replay the journeys in PATH (a .json file or a folder of them) through the simulator."""
    import httpx

    from simulator.journey_file import JourneyFileError, load_journeys
    from simulator.journeys import JourneyRunner, ServiceError

    try:
        journeys = load_journeys(path)
    except JourneyFileError as error:
        click.echo(f"salesbot eval: {error}", err=True)
        sys.exit(2)
    journeys = [j for j in journeys if (not tags or set(tags) & set(j.tags))
                and (not names or any(n in j.name for n in names))]
    if not journeys:
        raise click.UsageError("no journey matches --tag/--name")
    if url and database_url:
        raise click.UsageError("--database-url is for the in-process service; a running service has its own")

    def progress(run) -> None:
        if not as_json:
            click.echo("." if run.passed else "F", nl=False, err=True)

    try:
        with (nullcontext_url(url) if url else in_process_service(database_url)) as base_url, \
                httpx.Client(base_url=base_url, timeout=timeout + 30) as http:
            runner = JourneyRunner(http, timeout=timeout, restore_stock=not keep_stock)
            runner.prepare(journeys)
            report = runner.run(journeys, repeat=repeat, progress=progress)
    except JourneyFileError as error:
        click.echo(f"salesbot eval: {error}", err=True)
        sys.exit(2)
    except ServiceError as error:
        click.echo(f"salesbot eval: {error}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo("", err=True)
        click.echo(report.text(transcripts=not no_transcripts))


@contextmanager
def nullcontext_url(url: str):
    yield url.rstrip("/")


@contextmanager
def in_process_service(database_url: str | None = None):
    """The full service with the simulator on a free loopback port; yields its base URL."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    from bot.app import create_app
    from shop.db import Database
    from shop.settings import ConfigError, load_settings
    from simulator.core import SimulatorConfig

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs) -> None:  # one line per request would drown the report
            pass

    app_holder: dict = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: app_holder["app"](environ, start),
                         threaded=True, request_handler=Quiet)
    url = f"http://127.0.0.1:{server.server_port}"
    secret, token = secrets.token_hex(16), secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory(prefix="salesbot-journeys-") as scratch:
        try:
            settings = load_settings(database_url=database_url or f"sqlite:///{Path(scratch) / 'shop.db'}",
                                     redis_url=None, worker_in_web=True, line_channel_secret=secret,
                                     line_channel_access_token=token, line_api_base_url=f"{url}/sim/line",
                                     public_base_url=url, slip_provider="simulator")
        except ConfigError as error:
            raise click.ClickException(f"configuration error: {error}") from None
        if settings.production:
            raise click.UsageError("APP_ENV=production: the in-process run mounts the simulator, which production never has")
        database = Database(settings.database_url)
        if database_url is None:
            _fresh_shop(settings.database_url, database)
        app = create_app(settings, database=database, start_workers=True,
                         simulator=SimulatorConfig(channel_secret=secret, access_token=token,
                                                   shop_name=settings.shop_name))
        app_holder["app"] = app
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield url
        finally:
            app.extensions["salesbot.queue"].stop()
            server.shutdown()
            thread.join(timeout=5)
            database.engine.dispose()


def _fresh_shop(url: str, database) -> None:
    """Migrate an empty database and load the catalogue from shop/data, with its search index warm."""
    from shop.catalog import load_catalog
    from shop.migrate import upgrade
    from shop.search import get_index

    click.echo("preparing a fresh shop database (migrations, catalogue, search index)…", err=True)
    upgrade(url)
    with database.session() as session:
        load_catalog(session)
    with database.session() as session:
        get_index(session).ensure_embeddings()
