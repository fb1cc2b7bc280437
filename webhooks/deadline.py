"""Database calls on the ack path, under a deadline: LINE needs its 200 within 2 seconds, and a database
that hangs (a frozen server, a dropped network) answers no statement timeout and no socket error.

The call runs in one of a few threads and the request stops waiting after the deadline; the thread
finishes or fails on its own when the database answers again. When every thread is already stuck, a
new call waits for one only until its own deadline. A failed ack is safe: LINE redelivers the
event, and the inbox stores each webhookEventId once.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

T = TypeVar("T")


class DatabaseTooSlow(Exception):
    """The database did not answer within the deadline (or every ack thread is still waiting on it)."""


class Deadline:
    def __init__(self, threads: int = 32):
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ack-db")
        self._free = threading.BoundedSemaphore(threads)

    def run(self, call: Callable[[], T], seconds: float) -> T:
        started = time.monotonic()
        if not self._free.acquire(timeout=seconds):
            raise DatabaseTooSlow("every ack thread is still waiting for the database")
        try:
            future = self._pool.submit(self._call, call)
        except BaseException:
            self._free.release()
            raise
        try:
            return future.result(timeout=max(0.0, seconds - (time.monotonic() - started)))
        except FutureTimeout:
            raise DatabaseTooSlow(f"no answer from the database within {seconds:g} s") from None

    def _call(self, call: Callable[[], T]) -> T:
        try:
            return call()
        finally:
            self._free.release()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
