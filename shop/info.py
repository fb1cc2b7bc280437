"""The shop's own facts for customers (delivery, pickup, payment, returns, hours, address), from one TOML file.

The default file ships in the package (shop/data/shop_info.toml, documented inside); a shop points the
SHOP_INFO_PATH setting at its own copy. Both agents answer from it through the `get_shop_info` tool, so
no sentence about the shop's policies is fixed in code. Money is never read from here: the delivery
fee in the text is the DELIVERY_FEE_SATANG setting the checkout charges.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from shop.money import format_baht

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "shop_info.toml"
TOPICS = ("delivery", "pickup", "payment", "returns", "hours", "address")


class ShopInfoError(ValueError):
    """The shop-info file is missing, not TOML, or lacks a topic's text."""


@dataclass(frozen=True)
class ShopInfo:
    address: str
    hours: str
    phone: str
    texts: dict[str, str]              # topic -> Thai text with {placeholders}
    payment_methods: tuple[str, ...]
    cash_on_delivery: bool

    def answer(self, topic: str, *, delivery_fee_satang: int, shop_name: str = "") -> str:
        """The Thai answer for one topic, placeholders filled."""
        return self.texts[topic].format(delivery_fee=format_baht(delivery_fee_satang), address=self.address,
                                        hours=self.hours, shop=shop_name)

    def facts(self, *, delivery_fee_satang: int) -> dict:
        return {"address": self.address, "hours": self.hours, "phone": self.phone,
                "delivery_fee_satang": delivery_fee_satang, "delivery_fee_text": format_baht(delivery_fee_satang),
                "pickup_fee_satang": 0, "payment_methods": list(self.payment_methods),
                "cash_on_delivery": self.cash_on_delivery}


def load_shop_info(path: str | Path | None = None) -> ShopInfo:
    """Read and check the file (the packaged default when `path` is empty); cached per path."""
    return _load(str(Path(path).expanduser()) if path else str(DEFAULT_PATH))


@lru_cache(maxsize=8)
def _load(path: str) -> ShopInfo:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ShopInfoError(f"no file at {path}") from None
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ShopInfoError(f"{path} is not a readable TOML file ({error})") from None
    shop = data.get("shop") or {}
    texts = {}
    for topic in TOPICS:
        text = (data.get(topic) or {}).get("text")
        if not isinstance(text, str) or not text.strip():
            raise ShopInfoError(f"{path} has no [{topic}] text")
        texts[topic] = " ".join(text.split())
    info = ShopInfo(address=str(shop.get("address") or ""), hours=str(shop.get("hours") or ""),
                    phone=str(shop.get("phone") or ""), texts=texts,
                    payment_methods=tuple(str(m) for m in (data.get("payment") or {}).get("methods") or ()),
                    cash_on_delivery=bool((data.get("payment") or {}).get("cash_on_delivery", False)))
    try:
        for topic in TOPICS:
            info.answer(topic, delivery_fee_satang=0)
    except (KeyError, IndexError, ValueError) as error:
        raise ShopInfoError(f"{path} uses an unknown placeholder {error}") from None
    return info
