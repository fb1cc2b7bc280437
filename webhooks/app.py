"""Flask application factory (see Flask's tutorial): one settings object, blueprints per concern."""
from __future__ import annotations

import logging

from flask import Flask

from bot.db import get_database
from bot.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024  # LINE webhook bodies are small; 413 above 1 MB
    app.extensions["salesbot.settings"] = settings
    app.extensions["salesbot.db"] = get_database(settings.database_url)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from webhooks import health

    app.register_blueprint(health.bp)

    if settings.simulator_enabled:
        from simulator.web import bp as simulator_bp  # development only; production never mounts it

        app.register_blueprint(simulator_bp, url_prefix="/sim")
    return app


def app_settings(app: Flask) -> Settings:
    return app.extensions["salesbot.settings"]
