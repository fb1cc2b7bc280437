"""The HTTP edge's Flask app factory (see Flask's tutorial): one settings object, a blueprint per concern.

The edge knows nothing of agents or of the application above it: the turn function, the housekeeping
and the LLM status come in as parameters (`bot.app.create_app` hands in the real ones). The factory
neither configures logging nor starts threads: workers start in `salesbot worker`, in the gunicorn hook
(gunicorn.conf.py) or, in tests and `salesbot dev`, by `start_embedded_workers`.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from shop.db import Database, get_database
from shop.settings import Settings, get_settings
from webhooks import callback, errors, health, media, metrics
from webhooks.deadline import Deadline
from webhooks.queues import HousekeeperFactory, make_queue
from webhooks.worker import TurnFunction

LlmStatus = Callable[[Settings], "dict | None"]


def create_app(settings: Settings | None = None, *, turn: TurnFunction, database: Database | None = None,
               housekeeping: HousekeeperFactory | None = None, llm_status: LlmStatus | None = None,
               start_workers: bool = False) -> Flask:
    """The webhook service: /callback, /media, /healthz, /readyz and the queue that runs `turn`.

    `start_workers=True` starts the embedded worker threads at once (tests, `salesbot dev`); otherwise
    call `start_embedded_workers(app)` when the process is ready for them."""
    settings = settings or get_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024  # LINE webhook bodies are small; 413 above 1 MB
    db = database or get_database(settings.database_url)
    app.extensions["salesbot.settings"] = settings
    app.extensions["salesbot.db"] = db
    app.extensions["salesbot.llm_status"] = llm_status
    app.extensions["salesbot.ack_deadline"] = Deadline()

    errors.register(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(callback.bp)
    app.register_blueprint(media.bp)
    app.register_blueprint(metrics.bp)

    app.extensions["salesbot.queue"] = make_queue(db, settings, turn, housekeeping)
    if start_workers:
        start_embedded_workers(app)
    return app


def start_embedded_workers(app: Flask) -> None:
    """Start the embedded worker threads (a no-op for the Redis queue, whose workers are processes)."""
    app.extensions["salesbot.queue"].start()


def app_settings(app: Flask) -> Settings:
    return app.extensions["salesbot.settings"]
