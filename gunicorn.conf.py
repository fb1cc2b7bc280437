"""gunicorn settings shared by the Procfile's `web` line and `salesbot serve` (one place for the flags).

Environment: BIND (or PORT), WEB_CONCURRENCY. Embedded inbox workers start in each gunicorn worker
process after the app is loaded (post_worker_init) when REDIS_URL is unset and WORKER_IN_WEB is true
(the default outside production), after the turn's models are loaded.
"""
import os
import tempfile

# Metrics from every worker process are added up at /metrics (prometheus-client's multiprocess mode);
# set before the app (and so prometheus_client) is imported.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="salesbot-metrics-"))

wsgi_app = "bot.wsgi:app"
bind = os.environ.get("BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = 8
accesslog = "-"
timeout = 120  # a worker process loading the turn's models (post_worker_init) must not be taken for hung


def on_starting(server):
    """Validate the settings in the master: a configuration error exits once with one line instead of
    gunicorn respawning a failing worker every second."""
    from bot.commands.service import service_settings
    from bot.logs import configure_logging

    configure_logging(service_settings())


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    from shop.settings import get_settings
    from webhooks.app import start_embedded_workers

    settings = get_settings()
    if settings.worker_in_web and not settings.redis_url:
        from bot.turn import warm_up

        warm_up(worker.wsgi.extensions["salesbot.db"])  # before this process takes its first request
        start_embedded_workers(worker.wsgi)
