"""Images the service keeps: generated ones (PromptPay QR) served by unguessable token at
/media/<token>.png until they expire, and customers' photos (slips) kept for the turn, never served."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.models.base import utcnow
from shop.models.media import Media
from shop.settings import Settings

CUSTOMER_IMAGE = "customer_image"
CUSTOMER_IMAGE_TTL = timedelta(days=30)  # long enough for staff to look at a disputed slip
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


def new_token() -> str:
    """192 random bits, URL-safe: the token is the only key to the image."""
    return secrets.token_urlsafe(24)


def store_image(session: Session, data: bytes, *, kind: str, content_type: str = "image/png",
                preview: bytes | None = None, ttl: timedelta | None, line_message_id: str = "") -> Media:
    """Keep an image and return its row (flushed, so `token` and `id` are set). `ttl=None` keeps it
    without expiry."""
    if content_type not in EXTENSIONS:
        raise ValueError(f"unsupported image content type {content_type!r}")
    if not data:
        raise ValueError("empty image")
    media = Media(token=new_token(), kind=kind, content_type=content_type, data=bytes(data),
                  preview=bytes(preview) if preview else None, line_message_id=line_message_id,
                  created_at=utcnow(), expires_at=utcnow() + ttl if ttl is not None else None)
    session.add(media)
    session.flush()
    return media


def media_url(settings: Settings, media: Media, preview: bool = False) -> str:
    """Public URL of a generated image, on PUBLIC_BASE_URL (HTTPS in production)."""
    extension = EXTENSIONS.get(media.content_type, "png")
    if preview:
        return f"{settings.public_base_url}/media/{media.token}/preview.{extension}"
    return f"{settings.public_base_url}/media/{media.token}.{extension}"


def is_expired(media: Media, now: datetime | None = None) -> bool:
    return media.expires_at is not None and media.expires_at <= (now or utcnow())


def servable_media(session: Session, token: str) -> Media | None:
    """The generated image behind a token; customers' photos are never served publicly."""
    media = session.scalar(select(Media).where(Media.token == token))
    if media is None or media.kind == CUSTOMER_IMAGE:
        return None
    return media


def customer_image(session: Session, line_message_id: str) -> Media | None:
    """The photo a customer sent in LINE message `line_message_id`, downloaded when it arrived;
    None when the download failed (the turn then asks the customer to send it again)."""
    return session.scalar(select(Media).where(Media.kind == CUSTOMER_IMAGE,
                                              Media.line_message_id == line_message_id).limit(1))


def store_customer_image(session: Session, line_message_id: str, data: bytes, content_type: str) -> Media:
    return store_image(session, data, kind=CUSTOMER_IMAGE, content_type=content_type,
                       ttl=CUSTOMER_IMAGE_TTL, line_message_id=line_message_id)


__all__ = ["store_image", "media_url", "customer_image", "store_customer_image", "servable_media",
           "is_expired", "CUSTOMER_IMAGE"]
