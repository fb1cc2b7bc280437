"""The Messaging API endpoints the bot calls, on one origin (messaging and blob families alike).

The bot reaches them through `LINE_API_BASE_URL=http://127.0.0.1:8000/sim/line`; every answer has
LINE's status, body shape and `x-line-request-id` header.
"""
from __future__ import annotations

import io
import uuid

from flask import Blueprint, Response, current_app, jsonify, request

from simulator.core import Simulator
from simulator.rules import LineError

bp = Blueprint("line", __name__)


def simulator() -> Simulator:
    return current_app.extensions["salesbot.simulator"]


def line_json(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["x-line-request-id"] = str(uuid.uuid4())
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@bp.errorhandler(LineError)
def _line_error(error: LineError) -> Response:
    return line_json(error.body, error.status, error.headers)


@bp.before_request
def _authenticate() -> None:
    simulator().check_token(request.headers.get("Authorization"))


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise LineError(400, "The request body could not be parsed as a JSON object")
    return body


def _no_retry_key() -> None:
    if "X-Line-Retry-Key" in request.headers:
        raise LineError(400, "X-Line-Retry-Key is not supported for this API")


@bp.post("/v2/bot/message/reply")
def reply():
    _no_retry_key()
    return line_json({"sentMessages": simulator().reply(_json_body())})


@bp.post("/v2/bot/message/push")
def push():
    sent, request_id = simulator().push(_json_body(), request.headers.get("X-Line-Retry-Key"))
    response = line_json({"sentMessages": sent})
    response.headers["x-line-request-id"] = request_id
    return response


@bp.post("/v2/bot/chat/loading/start")
def loading():
    _no_retry_key()
    simulator().start_loading(_json_body())
    return line_json({}, 202)


def _content_or_404(message_id: str):
    content = simulator().content(message_id)
    if content is None:
        raise LineError(404, "Not found")
    return content


@bp.get("/v2/bot/message/<message_id>/content")
def content(message_id: str):
    item = _content_or_404(message_id)
    simulator().note("api", f"content of message {message_id} fetched", {"messageId": message_id},
                     user_id=item.user_id)
    return Response(item.data, mimetype=item.content_type, headers={"x-line-request-id": str(uuid.uuid4())})


@bp.get("/v2/bot/message/<message_id>/content/preview")
def content_preview(message_id: str):
    from PIL import Image

    item = _content_or_404(message_id)
    with Image.open(io.BytesIO(item.data)) as image:
        preview = image.convert("RGB")
        preview.thumbnail((240, 240))
    out = io.BytesIO()
    preview.save(out, format="JPEG", quality=80)
    return Response(out.getvalue(), mimetype="image/jpeg", headers={"x-line-request-id": str(uuid.uuid4())})


@bp.get("/v2/bot/profile/<user_id>")
def profile(user_id: str):
    found = simulator().profile(user_id)
    if found is None:
        raise LineError(404, "Not found")
    return line_json(found)


@bp.post("/v2/bot/chat/markAsRead")
def mark_as_read():
    _no_retry_key()
    simulator().mark_as_read(_json_body())
    return line_json({})


# ---------------------------------------------------------------- rich menus

@bp.before_request
def _allow_rich_menu_images() -> None:
    if request.method == "POST" and request.path.endswith("/content"):
        request.max_content_length = 4 * 1024 * 1024   # so the 1 MB rule answers as LINE does, not werkzeug


@bp.post("/v2/bot/richmenu")
def create_rich_menu():
    _no_retry_key()
    return line_json({"richMenuId": simulator().create_rich_menu(_json_body())})


@bp.get("/v2/bot/richmenu/list")
def rich_menu_list():
    return line_json({"richmenus": simulator().rich_menu_list()})


@bp.get("/v2/bot/richmenu/<rich_menu_id>")
def get_rich_menu(rich_menu_id: str):
    menu = simulator().rich_menu(rich_menu_id)
    return line_json({"richMenuId": menu.rich_menu_id, **menu.request})


@bp.delete("/v2/bot/richmenu/<rich_menu_id>")
def delete_rich_menu(rich_menu_id: str):
    simulator().delete_rich_menu(rich_menu_id)
    return line_json({})


@bp.post("/v2/bot/richmenu/<rich_menu_id>/content")
def upload_rich_menu_image(rich_menu_id: str):
    simulator().upload_rich_menu_image(rich_menu_id, request.get_data(), request.headers.get("Content-Type", ""))
    return line_json({})


@bp.get("/v2/bot/richmenu/<rich_menu_id>/content")
def download_rich_menu_image(rich_menu_id: str):
    menu = simulator().rich_menu(rich_menu_id)
    if menu.image is None:
        raise LineError(404, "Not found")
    return Response(menu.image, mimetype=menu.content_type, headers={"x-line-request-id": str(uuid.uuid4())})


@bp.post("/v2/bot/user/all/richmenu/<rich_menu_id>")
def set_default_rich_menu(rich_menu_id: str):
    simulator().set_default_rich_menu(rich_menu_id)
    return line_json({})


@bp.get("/v2/bot/user/all/richmenu")
def get_default_rich_menu():
    return line_json({"richMenuId": simulator().default_rich_menu_id()})


@bp.delete("/v2/bot/user/all/richmenu")
def cancel_default_rich_menu():
    simulator().cancel_default_rich_menu()
    return line_json({})
