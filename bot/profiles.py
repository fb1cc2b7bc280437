"""Customers' LINE display names, from the profile API, kept on `Customer` with the time they were read.

The name is fetched on follow and on a customer's first message, and again once it is older than
LINE_PROFILE_REFRESH_HOURS. The call runs on a small background pool: a turn waits for it at most
`wait` seconds (only the follow greeting waits, briefly, to greet by name) and never for a failure;
a failed call is not retried for that customer for a few minutes.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta

from sqlalchemy import select

from shop.db import Database
from shop.models import Customer
from shop.models.base import utcnow
from shop.settings import Settings
from webhooks.line_api import LineApi, LineApiError

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE_SECONDS = 300.0
PROFILE_TIMEOUT_SECONDS = 3.0
FOLLOW_WAIT_SECONDS = 0.8   # the follow greeting waits this long at most to greet by name

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_apis: dict[tuple, LineApi] = {}
_in_flight: dict[str, Future] = {}
_failed_at: dict[str, float] = {}


def _executor() -> ThreadPoolExecutor:
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid():   # a forked RQ work horse starts its own
        _pool, _pool_pid = ThreadPoolExecutor(max_workers=2, thread_name_prefix="profile"), os.getpid()
        _apis.clear()
        _in_flight.clear()
    return _pool


def _api(settings: Settings) -> LineApi:
    key = (settings.line_api_base_url, settings.line_channel_access_token.get_secret_value())
    if key not in _apis:
        _apis[key] = LineApi(settings, timeout_seconds=PROFILE_TIMEOUT_SECONDS)
    return _apis[key]


def needs_refresh(fetched_at: datetime | None, settings: Settings) -> bool:
    return fetched_at is None or utcnow() - fetched_at > timedelta(hours=settings.line_profile_refresh_hours)


def _fetch_and_store(db: Database, settings: Settings, line_user_id: str) -> str:
    try:
        profile = _api(settings).get_profile(line_user_id)
    except LineApiError as error:
        _failed_at[line_user_id] = time.monotonic()
        log.info("profile of %s not read: %s", line_user_id[:9], error)
        return ""
    name = (profile.get("displayName") or "").strip()[:200]
    with db.session() as session:
        customer = session.scalar(select(Customer).where(Customer.line_user_id == line_user_id))
        if customer is not None:
            customer.display_name = name or customer.display_name
            customer.profile_fetched_at = utcnow()
    return name


def display_name(db: Database, settings: Settings, user_id: str, *, cached: str, fetched_at: datetime | None,
                 wait: float = 0.0) -> str:
    """The customer's display name: `cached` (as read from `Customer`), refreshed in the background when
    never read or older than the refresh age. Waits up to `wait` seconds for a refresh (0: never)."""
    if not settings.line_channel_access_token.get_secret_value() or not needs_refresh(fetched_at, settings):
        return cached
    with _lock:
        failed = _failed_at.get(user_id)
        if failed is not None and time.monotonic() - failed < RETRY_AFTER_FAILURE_SECONDS:
            return cached
        future = _in_flight.get(user_id)
        if future is None:
            future = _executor().submit(_fetch_and_store, db, settings, user_id)
            _in_flight[user_id] = future
            future.add_done_callback(lambda _done, key=user_id: _in_flight.pop(key, None))
    if wait <= 0:
        return cached
    try:
        return future.result(timeout=wait) or cached
    except FutureTimeout:
        return cached
    except Exception:  # noqa: BLE001 - a profile is a nicety: never fail the turn for it
        log.exception("profile refresh failed")
        return cached
