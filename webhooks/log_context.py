"""Which webhook event and chat a log line belongs to, carried in a contextvar through the worker."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_event: ContextVar[tuple[str, str]] = ContextVar("salesbot_event", default=("-", "-"))


@contextmanager
def event_context(event_id: str | None, chat_id: str | None) -> Iterator[None]:
    """Log lines written inside this block carry `event_id` and `chat_id`."""
    token = _event.set((event_id or "-", chat_id or "-"))
    try:
        yield
    finally:
        _event.reset(token)


class EventContextFilter(logging.Filter):
    """Adds `event_id` and `chat_id` to every record (a handler filter, so third-party loggers get them too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.event_id, record.chat_id = _event.get()
        return True
