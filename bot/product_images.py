"""The hero picture of a product card: the shop's own photo when it is HTTPS, else its generated cover.

LINE loads Flex images only over HTTPS (1024 px and 10 MB at most), so a photo URL that is not HTTPS
is never sent; the generated cover (shop.covers) is served from this service's /media on
PUBLIC_BASE_URL, which production requires to be HTTPS. The cover URL carries the cover's version,
so LINE's image cache never shows an old title or player count.
"""
from __future__ import annotations

from urllib.parse import quote

from shop.covers import Cover
from shop.settings import Settings

MAX_URL = 2000


def own_photo(product: dict) -> str | None:
    url = (product.get("image_url") or "").strip()
    return url if url.startswith("https://") and len(url) <= MAX_URL else None


def cover_url(settings: Settings, product: dict) -> str:
    cover = Cover.of(product)
    return f"{settings.public_base_url}/media/covers/{cover.version}/{quote(cover.sku, safe='')}.jpg"


def hero_url(settings: Settings, product: dict) -> str:
    return own_photo(product) or cover_url(settings, product)
