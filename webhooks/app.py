"""Flask application factory (see Flask's tutorial): one settings object, blueprints per concern."""
from __future__ import annotations

import logging

from flask import Flask

from bot.db import Database, get_database
from bot.settings import Settings, get_settings


def create_app(settings: Settings | None = None, *, database: Database | None = None, turn=None,
               start_workers: bool | None = None) -> Flask:
    """`turn` replaces `bot.turn.run_turn` (tests, benchmarks). Embedded worker threads start when
    REDIS_URL is unset and WORKER_IN_WEB is true, except under tests unless `start_workers=True`."""
    settings = settings or get_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024  # LINE webhook bodies are small; 413 above 1 MB
    app.extensions["salesbot.settings"] = settings
    db = database or get_database(settings.database_url)
    app.extensions["salesbot.db"] = db
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from webhooks import callback, errors, health, media
    from webhooks.queues import make_queue
    from webhooks.worker import default_turn

    errors.register(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(callback.bp)
    app.register_blueprint(media.bp)

    queue = make_queue(db, settings, turn or default_turn())
    app.extensions["salesbot.queue"] = queue
    if start_workers is None:
        start_workers = settings.worker_in_web and settings.app_env != "test"
    if start_workers:
        queue.start()

    if settings.simulator_enabled:
        from simulator.web import bp as simulator_bp  # development only; production never mounts it

        app.register_blueprint(simulator_bp, url_prefix="/sim")
    return app


def app_settings(app: Flask) -> Settings:
    return app.extensions["salesbot.settings"]
