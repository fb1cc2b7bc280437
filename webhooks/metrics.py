"""`/metrics` in Prometheus text format, not open to the internet by default.

Access: with METRICS_TOKEN set, a request must carry `Authorization: Bearer <token>`; without it only
loopback clients are answered (a scraper on the same host, or behind the proxy's own rule). Under
gunicorn the figures of every worker process are added up (PROMETHEUS_MULTIPROC_DIR, gunicorn.conf.py).
The inbox depth and oldest waiting event are read from the database at scrape time.
"""
from __future__ import annotations

import hmac
import os

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY

from webhooks import inbox

bp = Blueprint("metrics", __name__)
LOOPBACK = {"127.0.0.1", "::1"}


class InboxCollector:
    """Inbox depth by status and the age of the oldest queued event, asked of the database per scrape."""

    def __init__(self, db):
        self.db = db

    def collect(self):
        depth = GaugeMetricFamily("salesbot_inbox_events", "Inbox events by status", labels=["status"])
        oldest = GaugeMetricFamily("salesbot_inbox_oldest_queued_seconds", "Age of the oldest queued event")
        try:
            counts = inbox.status_counts(self.db, (inbox.QUEUED, inbox.PROCESSING, inbox.FAILED))
            age = inbox.oldest_queued_age_seconds(self.db)
        except Exception:  # the database is down: /readyz says so; the scrape still answers
            return
        for status, count in counts.items():
            depth.add_metric([status], count)
        oldest.add_metric([], age)
        yield depth
        yield oldest


def _allowed() -> bool:
    token = current_app.extensions["salesbot.settings"].metrics_token.get_secret_value()
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())
    return request.remote_addr in LOOPBACK


def exposition(db) -> bytes:
    """Every metric of this process (or of all gunicorn workers), plus the inbox gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        recorded = CollectorRegistry()
        multiprocess.MultiProcessCollector(recorded)
    else:
        recorded = REGISTRY  # this process's own metrics
    scraped = CollectorRegistry()
    scraped.register(InboxCollector(db))
    return generate_latest(recorded) + generate_latest(scraped)


@bp.get("/metrics")
def metrics():
    if not _allowed():
        abort(404)  # as if there were nothing here
    return Response(exposition(current_app.extensions["salesbot.db"]), mimetype=CONTENT_TYPE_LATEST)
