"""GET /media/<token>.png and /media/<token>/preview.png: generated images (PromptPay QR) by
unguessable token, until they expire. LINE fetches them from PUBLIC_BASE_URL."""
from __future__ import annotations

from flask import Blueprint, Response, current_app

from shop.media import EXTENSIONS, is_expired, servable_media
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
