"""`salesbot serve` (gunicorn) and `salesbot worker` (RQ)."""
from __future__ import annotations

import click


@click.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option("--workers", default=1, show_default=True, help="gunicorn worker processes")
@click.option("--threads", default=8, show_default=True)
def serve(bind: str, workers: int, threads: int) -> None:
    """Run the web service under gunicorn."""
    import os

    os.execvp("gunicorn", ["gunicorn", "--bind", bind, "--workers", str(workers), "--threads", str(threads),
                           "--worker-class", "gthread", "--access-logfile", "-", "webhooks.wsgi:app"])


@click.command()
def worker() -> None:
    """Process queued webhook events from Redis (RQ). Needs REDIS_URL."""
    raise click.ClickException("the RQ worker lands with the webhook issue")
