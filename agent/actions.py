"""Actions the shop's buttons carry as LINE postback data: a short query string, decoded back here.

LINE allows 300 characters of postback data; everything here stays far below that.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

ACTIONS = {
    "details", "add", "cart", "inc", "dec", "remove", "checkout", "pickup", "delivery", "confirm",
    "edit_order", "pay", "status", "cancel", "staff", "browse", "recommend", "menu",
}


@dataclass(frozen=True)
class Postback:
    action: str
    params: dict[str, str] = field(default_factory=dict)

    def get_int(self, key: str, default: int | None = None) -> int | None:
        try:
            return int(self.params[key])
        except (KeyError, ValueError):
            return default


def encode(action: str, **params: object) -> str:
    if action not in ACTIONS:
        raise ValueError(f"unknown postback action {action!r}")
    data = urlencode({"a": action, **{k: str(v) for k, v in params.items() if v is not None}})
    if len(data) > 300:
        raise ValueError("postback data over LINE's 300-character limit")
    return data


def decode(data: str) -> Postback | None:
    """The action a button carries, or None for data this bot did not make."""
    try:
        pairs = dict(parse_qsl(data or "", strict_parsing=False, max_num_fields=10))
    except ValueError:
        return None
    action = pairs.pop("a", "")
    if action not in ACTIONS:
        return None
    return Postback(action, pairs)
