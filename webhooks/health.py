"""/healthz (process up) and /readyz (database, queue, LLM; plus inbox counts for staff).

/readyz answers 503 when the service cannot take or process events (database or queue down) and
200 "degraded" when only the LLM is down (its /v1/models fails, or this process's turns have been falling
back since their last LLM failure): events are still stored and answered (the turn falls back).
"""
from __future__ import annotations

import httpx
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from webhooks import heartbeat, inbox

bp = Blueprint("health", __name__)

LLM_TIMEOUT_SECONDS = 2.0


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


def llm_models_url(base_url: str) -> str:
    """LLM_BASE_URL may be given with or without the OpenAI `/v1` suffix."""
    return f"{base_url}/models" if base_url.endswith("/v1") else f"{base_url}/v1/models"


def _check_llm(settings) -> str:
    headers = {}
    if settings.llm_api_key.get_secret_value():
        headers["Authorization"] = f"Bearer {settings.llm_api_key.get_secret_value()}"
    try:
        response = httpx.get(llm_models_url(settings.llm_base_url), headers=headers, timeout=LLM_TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        return f"down ({type(error).__name__})"
    return "ok" if response.status_code == 200 else f"down (HTTP {response.status_code})"


def _llm_circuit(settings) -> str | None:
    """The turns' own view: the server may list its model yet fail chat requests (500s, hangs, garbage),
    and while the turns' circuit breaker is open the offline agent answers alone."""
    llm_status = current_app.extensions.get("salesbot.llm_status")
    status = (llm_status(settings) if llm_status else None) or {"state": "ok"}
    if status["state"] == "ok":
        return None
    reason = (status.get("last_error") or status["state"]).split(":")[0]   # no URLs or bodies in a public check
    return f"down (turns fall back after {reason})"


def _check_worker(settings, db) -> str:
    """"no worker" when events wait (queued, due, or left by a dead worker) and no worker process has
    said it was alive for three heartbeats; a backlog behind a live worker is not that."""
    if heartbeat.worker_alive(db, settings):
        return "ok"
    waiting = len(inbox.due_chats(db, older_than_seconds=heartbeat.stale_after(settings)))
    if waiting:
        return (f"no worker: {waiting} chat(s) have events waiting and no worker was seen for "
                f"{heartbeat.stale_after(settings):g} s (start `salesbot worker`)")
    return "ok (no worker seen; nothing waiting)"


@bp.get("/readyz")
def readyz():
    settings = current_app.extensions["salesbot.settings"]
    db = current_app.extensions["salesbot.db"]
    queue = current_app.extensions["salesbot.queue"]
    checks: dict[str, str] = {}
    body: dict = {}
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
        body["inbox"] = inbox.status_counts(db, (inbox.QUEUED, inbox.PROCESSING, inbox.FAILED))
    except Exception as error:
        current_app.logger.error("readyz: database unreachable (%s)", type(error).__name__)
        checks["database"] = "down"
    queue_ok, queue_detail = queue.health()
    checks["queue"] = queue_detail if queue_ok else f"down: {queue_detail}"
    if checks["database"] == "ok":
        checks["worker"] = _check_worker(settings, db)
    if settings.llm_base_url:
        checks["llm"] = _check_llm(settings)
        circuit = _llm_circuit(settings)
        if checks["llm"] == "ok" and circuit:
            checks["llm"] = circuit

    if checks["database"] != "ok" or not queue_ok:
        status, code = "unavailable", 503
    elif checks.get("llm", "ok") != "ok" or checks.get("worker", "ok").startswith("no worker"):
        status, code = "degraded", 200  # still storing and acknowledging: taking this process out would not help
    else:
        status, code = "ok", 200
    return jsonify(status=status, checks=checks, **body), code
