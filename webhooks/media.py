"""GET /media/<token>.png and /media/<token>/preview.png: generated images (PromptPay QR) by
unguessable token, until they expire; GET /media/covers/<version>/<sku>.jpg: a product's generated
cover (public catalogue data). LINE fetches them from PUBLIC_BASE_URL."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select

from shop.covers import Cover, render_cover
from shop.media import EXTENSIONS, is_expired, servable_media
from shop.models import Product
from shop.models.base import utcnow
from webhooks.errors import error_response

bp = Blueprint("media", __name__)

MAX_CACHE_SECONDS = 24 * 3600


def _serve(token: str, extension: str, preview: bool) -> Response:
    db = current_app.extensions["salesbot.db"]
    with db.session() as session:
        media = servable_media(session, token)
        if media is None or EXTENSIONS.get(media.content_type) != extension:
            return error_response(404, "not_found", "no such image")
        now = utcnow()
        if is_expired(media, now):
            return error_response(410, "gone", "this image has expired")
        data = (media.preview or media.data) if preview else media.data
        seconds = MAX_CACHE_SECONDS
        if media.expires_at is not None:
            seconds = max(0, min(seconds, int((media.expires_at - now).total_seconds())))
        response = Response(data, mimetype=media.content_type)
    response.headers["Cache-Control"] = f"public, max-age={seconds}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/media/<token>.<extension>")
def media_file(token: str, extension: str):
    return _serve(token, extension, preview=False)


@bp.get("/media/<token>/preview.<extension>")
def media_preview(token: str, extension: str):
    return _serve(token, extension, preview=True)


# ---- generated product covers (the hero picture of a card when the shop has no HTTPS photo) -------

def _cover_response(product) -> Response:
    response = Response(render_cover(Cover.of_row(product)), mimetype="image/jpeg")
    response.headers["Cache-Control"] = f"public, max-age={MAX_CACHE_SECONDS}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/media/covers/<version>/<sku>.jpg")
def product_cover(version: str, sku: str):
    """The cover of a product as it is now (`version` only keeps LINE's cache fresh)."""
    db = current_app.extensions["salesbot.db"]
    with db.session() as session:
        product = session.scalar(select(Product).where(Product.sku == sku))
        if product is None:
            return error_response(404, "not_found", "no such product")
        return _cover_response(product)


@bp.get("/media/covers/by-photo")
def cover_for_photo():
    """Development only: the cover of the product whose photo is at `?url=`, for the simulator, which
    cannot load photos from the internet. Production answers 404 (it sends the photo itself)."""
    settings = current_app.extensions["salesbot.settings"]
    url = request.args.get("url", "")
    if settings.production or not url:
        return error_response(404, "not_found", "no such image")
    db = current_app.extensions["salesbot.db"]
    with db.session() as session:
        product = session.scalar(select(Product).where(Product.image_url == url).limit(1))
        if product is None:
            return error_response(404, "not_found", "no product has this photo")
        return _cover_response(product)
