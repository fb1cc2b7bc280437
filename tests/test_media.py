"""Generated images served by unguessable token, with expiry, preview and cache headers."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.app import create_app
from shop.media import customer_image, media_url, store_customer_image, store_image
from shop.models.base import utcnow
from shop.models.media import Media
from shop.settings import load_settings

PNG = b"\x89PNG\r\n\x1a\n" + b"qr" * 100
PREVIEW = b"\x89PNG\r\n\x1a\n" + b"small"


@pytest.fixture
def client_and_settings(db):
    settings = load_settings(app_env="test", database_url=db.url, public_base_url="https://shop.example.com/")
    return create_app(settings, database=db, start_workers=False).test_client(), settings


def test_store_and_serve_by_token_with_preview(db, client_and_settings):
    client, settings = client_and_settings
    with db.session() as session:
        media = store_image(session, PNG, kind="promptpay_qr", preview=PREVIEW, ttl=timedelta(hours=1))
    assert len(media.token) >= 32
    url = media_url(settings, media)
    assert url == f"https://shop.example.com/media/{media.token}.png"
    assert media_url(settings, media, preview=True) == f"https://shop.example.com/media/{media.token}/preview.png"

    response = client.get(url.removeprefix("https://shop.example.com"))
    assert response.status_code == 200 and response.data == PNG
    assert response.content_type == "image/png"
    cache = response.headers["Cache-Control"]
    assert cache.startswith("public, max-age=") and 3500 <= int(cache.split("max-age=")[1].split(",")[0]) <= 3600
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/media/{media.token}/preview.png").data == PREVIEW


def test_tokens_are_unguessable_and_distinct(db):
    with db.session() as session:
        tokens = {store_image(session, PNG, kind="promptpay_qr", ttl=None).token for _ in range(50)}
    assert len(tokens) == 50


def test_expired_image_is_gone_and_unknown_token_not_found(db, client_and_settings):
    client, _ = client_and_settings
    with db.session() as session:
        media = store_image(session, PNG, kind="promptpay_qr", ttl=timedelta(minutes=5))
        session.execute(update(Media).where(Media.id == media.id).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get(f"/media/{media.token}.png").status_code == 410
    assert client.get(f"/media/{media.token}/preview.png").status_code == 410
    missing = client.get("/media/doesnotexist.png")
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    assert client.get(f"/media/{media.token}.jpg").status_code == 404  # wrong extension for the type


def test_preview_falls_back_to_the_original_and_jpeg_gets_jpg(db, client_and_settings):
    client, settings = client_and_settings
    with db.session() as session:
        media = store_image(session, b"\xff\xd8\xffjpeg", kind="receipt", content_type="image/jpeg", ttl=None)
    assert media_url(settings, media).endswith(".jpg")
    response = client.get(f"/media/{media.token}/preview.jpg")
    assert response.data == b"\xff\xd8\xffjpeg" and response.content_type == "image/jpeg"
    assert "max-age=86400" in response.headers["Cache-Control"]


def test_customer_photos_are_kept_for_the_turn_but_never_served(db, client_and_settings):
    client, _ = client_and_settings
    with db.session() as session:
        media = store_customer_image(session, "5550001", b"\xff\xd8\xffslip", "image/jpeg")
    with db.session() as session:
        assert customer_image(session, "5550001").data == b"\xff\xd8\xffslip"
        assert customer_image(session, "other") is None
    assert client.get(f"/media/{media.token}.jpg").status_code == 404


def test_bad_images_are_refused(db):
    with db.session() as session:
        with pytest.raises(ValueError):
            store_image(session, b"", kind="promptpay_qr", ttl=None)
        with pytest.raises(ValueError):
            store_image(session, b"<svg/>", kind="promptpay_qr", content_type="image/svg+xml", ttl=None)
