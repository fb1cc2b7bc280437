"""Logging for the service's processes (the app factory configures none: a library must not)."""
from __future__ import annotations

import logging

from shop.settings import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(settings: Settings | None = None) -> None:
    """Plain lines on stderr at INFO, once per process."""
    logging.basicConfig(level=logging.INFO, format=FORMAT)
