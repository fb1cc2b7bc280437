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

from bot.settings import ConfigError, Settings, exit_on_config_error, get_settings

log = logging.getLogger(__name__)


@click.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option("--workers", default=1, show_default=True, help="gunicorn worker processes")
@click.option("--threads", default=8, show_default=True)
def serve(bind: str, workers: int, threads: int) -> None:
    """Run the web service under gunicorn."""
    # this interpreter's gunicorn, so it works without the virtualenv on PATH
    os.execv(sys.executable, [sys.executable, "-m", "gunicorn", "--bind", bind, "--workers", str(workers),
                              "--threads", str(threads), "--worker-class", "gthread", "--access-logfile", "-",
                              "webhooks.wsgi:app"])


def _settings() -> Settings:
    try:
        return get_settings()
    except ConfigError as error:
        exit_on_config_error(error)
        raise  # unreachable


def _load_turn(path: str | None):
    from webhooks.worker import default_turn

    if not path:
        return default_turn()
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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings()
    turn = _load_turn(turn_path)
    if settings.redis_url:
        _run_rq(settings, turn, burst)
    else:
        _run_embedded(settings, turn, burst)


def _run_rq(settings: Settings, turn, burst: bool) -> None:
    from rq import SimpleWorker

    from bot.db import Database
    from bot.housekeeping import Housekeeper
    from bot.line_api import LineApi
    from webhooks import jobs
    from webhooks.queues import RedisQueue

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
    if not burst:
        threading.Thread(target=sweep_forever, name="inbox-sweeper", daemon=True).start()
        Housekeeper(sweeper_db, settings, LineApi(settings)).start()
    # SimpleWorker runs jobs in this process: no fork per event, one database pool per process.
    SimpleWorker([queue.queue], connection=queue.redis).work(burst=burst, with_scheduler=False)
    stop.set()


def _run_embedded(settings: Settings, turn, burst: bool) -> None:
    from bot.db import get_database
    from bot.line_api import LineApi
    from webhooks.queues import EmbeddedQueue
    from webhooks.worker import Worker

    db = get_database(settings.database_url)
    if burst:
        handled = Worker(db, settings, turn, LineApi(settings)).drain()
        click.echo(f"processed {handled} event(s)")
        return
    queue = EmbeddedQueue(db, settings, turn)
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
    from bot import notifications
    from bot.db import get_database
    from webhooks import inbox

    db = get_database(_settings().database_url)
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
    from bot.db import get_database
    from webhooks import inbox

    if not event_ids and not all_failed:
        raise click.UsageError("give event ids or --all-failed")
    settings = _settings()
    db = get_database(settings.database_url)
    count = inbox.requeue(db, None if all_failed else list(event_ids))
    click.echo(f"{count} event(s) queued again")
    if count and settings.redis_url:
        from webhooks import jobs
        from webhooks.queues import RedisQueue

        jobs.sweep(RedisQueue(settings).queue, db, settings, older_than_seconds=0)
