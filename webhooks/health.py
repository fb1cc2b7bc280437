"""/healthz (process up) and /readyz (database, queue, LLM)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    db = current_app.extensions["salesbot.db"]
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        current_app.logger.exception("readyz: database unreachable")
        return jsonify(status="unavailable", checks={"database": "down"}), 503
    return jsonify(status="ok", checks={"database": "ok"})
