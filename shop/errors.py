"""The one error type of the shop services: a machine code, a Thai sentence for the customer, details."""
from __future__ import annotations

from typing import Any


class ShopError(Exception):
    """A request the shop cannot do as asked (unknown product, not enough stock, wrong order, ...).

    `code` is stable for programs, `message_th` is ready to show to the customer, `details` carries
    what the caller may need to offer a next step (candidates, available stock, a fresh summary).
    """

    def __init__(self, code: str, message_th: str, **details: Any):
        super().__init__(f"{code}: {message_th}")
        self.code = code
        self.message_th = message_th
        self.details = details

    def to_json(self) -> dict[str, Any]:
        return {"error": self.code, "message_th": self.message_th, **self.details}
