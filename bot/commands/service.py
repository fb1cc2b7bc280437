"""`salesbot serve` (gunicorn) and `salesbot worker` (RQ on Redis, or the embedded loop without it),
plus `salesbot worker status|retry` for staff."""
from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import threading

import click

from bot.logs import configure_logging
from shop.settings import PROJECT_ROOT, ConfigError, Settings, exit_on_config_error, settings_or_exit

log = logging.getLogger(__name__)


GUNICORN_CONFIG = PROJECT_ROOT / "gunicorn.conf.py"


def service_settings() -> Settings:
    """Settings for a long-running service: the simulator's set-up is refused (it belongs to `salesbot dev`)."""
    settings = settings_or_exit()
    if settings.line_api_base_url and "/sim/" in settings.line_api_base_url + "/":
        exit_on_config_error(ConfigError("LINE_API_BASE_URL: points at the simulator; the simulator runs only "
                                         "under `salesbot dev` (unset it to talk to LINE)"))
    return settings


@click.command()
@click.option("--bind", default=None, help="host:port (default: gunicorn.conf.py's, $BIND or 0.0.0.0:$PORT)")
@click.option("--workers", default=None, type=int, help="gunicorn worker processes (default: $WEB_CONCURRENCY or 2)")
def serve(bind: str | None, workers: int | None) -> None:
    """Run the web service under gunicorn with gunicorn.conf.py (the Procfile's settings)."""
    service_settings()  # a configuration error stops here, before gunicorn forks anything
    arguments = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG)]
    if bind:
        arguments += ["--bind", bind]
    if workers:
        arguments += ["--workers", str(workers)]
    # this interpreter's gunicorn, so it works without the virtualenv on PATH
    os.execv(sys.executable, arguments)


def _load_turn(path: str | None):
    if not path:
        from bot.turn import run_turn

        return run_turn
    module_name, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


@click.group(invoke_without_command=True)
@click.option("--burst", is_flag=True, help="process what is waiting, then exit")
@click.option("--turn", "turn_path", default=None, hidden=True, help="module:function replacing bot.turn.run_turn")
@click.pass_context
def worker(ctx: click.Context, burst: bool, turn_path: str | None) -> None:
    """Process webhook events: RQ jobs from Redis when REDIS_URL is set, else straight from the inbox."""
    if ctx.invoked_subcommand:
        return
    settings = service_settings()
    configure_logging(settings)
    if settings.worker_metrics_port:  # the turns run here, not in the web process: scrape this port too
        from prometheus_client import start_http_server

        start_http_server(settings.worker_metrics_port, addr="127.0.0.1")
    turn = _load_turn(turn_path)
    if turn_path is None:  # the real turn: load its models before the first event, not during it
        from bot.turn import warm_up
        from shop.db import get_database

        warm_up(get_database(settings.database_url))
    if settings.redis_url:
        _run_rq(settings, turn, burst)
    else:
        _run_embedded(settings, turn, burst)


def _run_rq(settings: Settings, turn, burst: bool) -> None:
    from rq import SimpleWorker

    from bot.housekeeping import Housekeeper
    from shop.db import Database
    from webhooks import jobs
    from webhooks.heartbeat import Heartbeat
    from webhooks.line_api import LineApi
    from webhooks.queues import RedisQueue
    from webhooks.worker import worker_name

    queue = RedisQueue(settings)
    jobs.configure(settings, turn=turn)
    sweeper_db = Database(settings.database_url)
    stop = threading.Event()

    def sweep_forever() -> None:
        while not stop.wait(max(5.0, 5 * settings.worker_poll_seconds)):
            try:
                jobs.sweep(queue.queue, sweeper_db, settings)
            except Exception:
                log.exception("sweep failed; trying again later")

    jobs.sweep(queue.queue, sweeper_db, settings, older_than_seconds=0 if burst else None)
    beating = None
    if not burst:
        threading.Thread(target=sweep_forever, name="inbox-sweeper", daemon=True).start()
        Housekeeper(sweeper_db, settings, LineApi(settings)).start()
        beating = Heartbeat(sweeper_db, settings, f"rq:{worker_name()}").start()
    # SimpleWorker runs jobs in this process: no fork per event, one database pool per process.
    SimpleWorker([queue.queue], connection=queue.redis).work(burst=burst, with_scheduler=False)
    stop.set()
    if beating is not None:
        beating.stop()


def _run_embedded(settings: Settings, turn, burst: bool) -> None:
    from bot.housekeeping import Housekeeper
    from shop.db import get_database
    from webhooks.line_api import LineApi
    from webhooks.queues import EmbeddedQueue
    from webhooks.worker import Worker

    db = get_database(settings.database_url)
    if burst:
        handled = Worker(db, settings, turn, LineApi(settings)).drain()
        click.echo(f"processed {handled} event(s)")
        return
    queue = EmbeddedQueue(db, settings, turn, housekeeping=Housekeeper)
    stopping = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stopping.set())
    queue.start()
    click.echo(f"worker: processing the inbox with {queue.thread_count} thread(s) (no REDIS_URL)")
    stopping.wait()
    queue.stop()


@worker.command("status")
@click.option("--limit", default=20, show_default=True, help="failed events to list")
def status_command(limit: int) -> None:
    """Inbox counts and the latest failed events (staff)."""
    from shop import notifications
    from shop.db import get_database
    from webhooks import inbox

    db = get_database(settings_or_exit().database_url)
    counts = inbox.status_counts(db)
    click.echo("  ".join(f"{status}: {count}" for status, count in counts.items()))
    undelivered = notifications.undelivered(db)
    if undelivered:
        click.echo(f"notifications LINE would not take (customers not told; see the notifications table): "
                   f"{len(undelivered)}: " + ", ".join(undelivered[:limit]))
    for event in inbox.failed_events(db, limit):
        click.echo(f"failed #{event.id} {event.event_type} chat {event.chat_id} attempts {event.attempts} "
                   f"at {event.finished_at:%Y-%m-%d %H:%M}: {event.last_error.splitlines()[0][:200] if event.last_error else ''}")


@worker.command("retry")
@click.argument("event_ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="retry every failed event")
def retry_command(event_ids: tuple[int, ...], all_failed: bool) -> None:
    """Give failed events a fresh set of attempts (staff, after fixing the cause)."""
    from shop.db import get_database
    from webhooks import inbox

    if not event_ids and not all_failed:
        raise click.UsageError("give event ids or --all-failed")
    settings = settings_or_exit()
    db = get_database(settings.database_url)
    count = inbox.requeue(db, None if all_failed else list(event_ids))
    click.echo(f"{count} event(s) queued again")
    if count and settings.redis_url:
        from webhooks import jobs
        from webhooks.queues import RedisQueue

        jobs.sweep(RedisQueue(settings).queue, db, settings, older_than_seconds=0)
