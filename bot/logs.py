"""Logging for the service's processes (the app factory configures none: a library must not).

Every line carries the webhook event id and chat id it belongs to (`webhooks.log_context`);
LOG_FORMAT=json writes one JSON object a line for log collectors.
"""
from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from shop.settings import Settings
from webhooks.log_context import EventContextFilter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [event %(event_id)s chat %(chat_id)s]: %(message)s"
JSON_FIELDS = ["asctime", "levelname", "name", "message", "event_id", "chat_id"]


def configure_logging(settings: Settings | None = None) -> None:
    """One stderr handler at INFO for this process, in the configured format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(EventContextFilter())
    if settings is not None and settings.log_format == "json":
        handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level",
                                                                       "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO)
