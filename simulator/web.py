"""The simulator's routes under /sim: the chat page, the JSON API for scripts, the simulated bank's
verification API, and (nested at /sim/line) the Messaging API endpoints the bot calls.

Mounted by `bot.app.create_app(simulator=...)` under `salesbot dev`, or by
`simulator.app.create_simulator_app` standalone against any bot. Either way the app puts the
`Simulator` (with its development channel secret) in `app.extensions` before registering this blueprint.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from decimal import Decimal, InvalidOperation
from typing import Protocol

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from simulator import events as ev
from simulator import platform
from simulator.bank import FAILURE_MODES, BankError
from simulator.core import Simulator, UploadError

bp = Blueprint("simulator", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")
bp.register_blueprint(platform.bp, url_prefix="/line")

MAX_API_BODY = 16 * 1024 * 1024     # a 10 MB image is ~13.4 MB as base64
MAX_TIMEOUT = 120.0
USER_ID = re.compile(r"U[0-9a-f]{32}")


@bp.record_once
def _setup(state) -> None:
    """The simulator is never derived from the bot's settings: whoever mounts it must configure it."""
    if "salesbot.simulator" not in state.app.extensions:
        raise RuntimeError("mount the simulator with its own SimulatorConfig (bot.app.create_app(simulator=...))")


def simulator() -> Simulator:
    return current_app.extensions["salesbot.simulator"]


def json_response(body: dict, status: int = 200) -> Response:
    """JSON with Thai left readable (Flask's default escapes it to \\uXXXX)."""
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status, self.body = status, {"error": code, "message": message, **extra}


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    return json_response(error.body, error.status)


@bp.errorhandler(UploadError)
def _upload_error(error: UploadError) -> Response:
    return _api_error(ApiError(error.status, error.code, error.message))


@bp.errorhandler(BankError)
def _bank_error(error: BankError) -> Response:
    return _api_error(ApiError(409, "bank", str(error)))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error) -> Response:
    limit = (request.max_content_length or 0) // 1048576
    return _api_error(ApiError(413, "too_large", f"the request is larger than {limit} MB; "
                                                 "images may be at most 10 MB"))


@bp.before_request
def _allow_image_uploads() -> None:
    if request.path.startswith(url_for("simulator.index") + "api/"):
        request.max_content_length = MAX_API_BODY


def _callback_url() -> str:
    return simulator().config.bot_url or request.host_url.rstrip("/") + "/callback"


def _json() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "send a JSON object")
    return body


def _customer(user: str):
    """A chat by LINE user ID, or by any alias a script likes ("alice"), created on first use."""
    sim = simulator()
    if USER_ID.fullmatch(user):
        return sim.customer(user) or sim.add_customer(user_id=user)
    user_id = "U" + hashlib.md5(user.encode("utf-8"), usedforsecurity=False).hexdigest()
    return sim.customer(user_id) or sim.add_customer(display_name=user, user_id=user_id)


def _customer_json(customer) -> dict:
    return {"user_id": customer.user_id, "display_name": customer.display_name,
            "following": customer.following, "loading": customer.loading_until > time.time()}


def _timeout() -> float:
    try:
        value = float(request.args.get("timeout", 10))
    except ValueError:
        raise ApiError(400, "bad_request", "timeout must be a number of seconds") from None
    if not 0 < value <= MAX_TIMEOUT:
        raise ApiError(400, "bad_request", f"timeout must be between 0 and {MAX_TIMEOUT:g} seconds")
    return value


def _settle() -> float:
    """How long the bot must stay quiet after its first answer before the API returns (seconds)."""
    try:
        value = float(request.args.get("settle", 0.5))
    except ValueError:
        raise ApiError(400, "bad_request", "settle must be a number of seconds") from None
    if not 0 <= value <= 10:
        raise ApiError(400, "bad_request", "settle must be between 0 and 10 seconds")
    return value


def _wants_wait() -> bool:
    return request.args.get("wait", "1") not in ("0", "false", "no")


def _media_url(message_id: str) -> str:
    return url_for(".media", token=simulator().content(message_id).token)


def _decode_image(text) -> bytes:
    if not isinstance(text, str) or not text:
        raise ApiError(400, "bad_request", "image_base64 must be a non-empty base64 string")
    if text.startswith("data:"):
        text = text.split(",", 1)[-1]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "bad_request", "image_base64 is not valid base64") from None


# ---------------------------------------------------------------- page

@bp.get("/")
def index():
    return render_template("simulator/chat.html", modes=FAILURE_MODES)


@bp.get("/media/<token>")
def media(token: str):
    """Images customers sent (uploads and slips), for the page; the bot uses the LINE content API."""
    item = simulator().content_by_token(token)
    if item is None:
        abort(404)
    return Response(item.data, mimetype=item.content_type)


# ---------------------------------------------------------------- JSON API

@bp.get("/api/chats")
def list_chats():
    return json_response({"chats": [_customer_json(c) for c in simulator().customer_list()]})


@bp.post("/api/chats")
def add_chat():
    body = request.get_json(silent=True) or {}
    name = body.get("display_name")
    if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > 40):
        raise ApiError(400, "bad_request", "display_name must be 1 to 40 characters")
    customer = simulator().add_customer(name.strip() if name else None)
    return json_response(_customer_json(customer), 201)


@bp.get("/api/chats/<user>/transcript")
def transcript(user: str):
    customer = _customer(user)
    try:
        after = int(request.args.get("after", 0))
    except ValueError:
        raise ApiError(400, "bad_request", "after must be an integer") from None
    return json_response({"chat": _customer_json(customer), "entries": simulator().transcript(customer.user_id, after),
                    "last_seq": simulator().last_seq()})


def _events_for(user_id: str, body: dict) -> list[tuple[dict, dict | None]]:
    """The webhook events (and what the chat shows for each) one API request asks to send."""
    sim = simulator()
    if "text" in body:
        text = body["text"]
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "bad_request", "text must be a non-empty string")
        return [(ev.text_event(user_id, text), {"message": {"type": "text", "text": text}})]
    if "postback" in body:
        postback = body["postback"]
        data = postback.get("data") if isinstance(postback, dict) else None
        if not isinstance(data, str) or not data:
            raise ApiError(400, "bad_request", "postback.data must be a non-empty string")
        display = postback.get("displayText")
        event = ev.postback_event(user_id, data, postback.get("params"))
        if display:
            return [(event, {"message": {"type": "text", "text": display}})]
        return [(event, {"kind": "event", "label": f"postback: {data}"})]
    if "image_base64" in body or "images_base64" in body:
        images = body.get("images_base64") or [body.get("image_base64")]
        if not isinstance(images, list) or not 1 <= len(images) <= 10:
            raise ApiError(400, "bad_request", "images_base64 must be a list of 1 to 10 images")
        ids = [sim.store_image(user_id, _decode_image(item)) for item in images]
        set_id = ev.new_image_set_id() if len(ids) > 1 else None
        return [(ev.image_event(user_id, message_id, (set_id, i, len(ids)) if set_id else None),
                 {"message": {"type": "image", "originalContentUrl": _media_url(message_id)}})
                for i, message_id in enumerate(ids, start=1)]
    if body.get("follow"):
        return [(ev.follow_event(user_id, is_unblocked=bool(body.get("is_unblocked"))),
                 {"kind": "event", "label": "เพิ่มเพื่อน (follow)"})]
    if body.get("unfollow"):
        return [(ev.unfollow_event(user_id), {"kind": "event", "label": "บล็อก (unfollow)"})]
    raise ApiError(400, "bad_request", 'send one of "text", "postback", "image_base64", "images_base64", '
                                       '"follow" or "unfollow"')


def _send_and_wait(user_id: str, items: list[tuple[dict, dict | None]], timeout: float, settle: float, **extra):
    sim = simulator()
    before = sim.last_seq()
    callback = _callback_url()
    webhooks = [sim.send(user_id, event, shown, callback) for event, shown in items]
    event_ids = [event["webhookEventId"] for event, _ in items]
    failed = [hook for hook in webhooks if hook["status"] is None or not 200 <= hook["status"] < 300]
    if failed:
        hook = failed[0]
        reason = hook.get("error") or f"HTTP {hook['status']}: {hook.get('body', '')[:200]}"
        raise ApiError(502, "webhook_failed", f"the bot did not accept the webhook at {hook['url']}: {reason}",
                       event_ids=event_ids, webhooks=webhooks, **extra)
    result = {"event_ids": event_ids, "webhooks": webhooks, **extra}
    expects_answer = any("replyToken" in event for event, _ in items)
    if not _wants_wait() or not expects_answer:
        return json_response({**result, "entries": [], "messages": [], "errors": []}, 202 if expects_answer else 200)
    entries = sim.wait_for_answer(user_id, before, timeout, settle)
    if entries is None:
        raise ApiError(504, "timeout", f"the bot did not answer within {timeout:g} s: no reply or push "
                                       "reached this chat", **result)
    return json_response({**result, "entries": entries,
                    "messages": [e["message"] for e in entries if e["kind"] == "message"],
                    "errors": [{"api": e["api"], "status": e["status"], "error": e["error"]}
                               for e in entries if e["kind"] == "error"]})


@bp.post("/api/chats/<user>/messages")
def send_message(user: str):
    timeout, settle = _timeout(), _settle()
    customer = _customer(user)
    return _send_and_wait(customer.user_id, _events_for(customer.user_id, _json()), timeout, settle)


@bp.post("/api/events/<event_id>/redeliver")
def redeliver(event_id: str):
    """Send an event again. `?listen=N` then collects what the bot sends in the next N seconds
    (a bot that de-duplicates sends nothing, so silence is an answer here, not a timeout)."""
    try:
        listen = float(request.args.get("listen", 0))
    except ValueError:
        raise ApiError(400, "bad_request", "listen must be a number of seconds") from None
    if not 0 <= listen <= MAX_TIMEOUT:
        raise ApiError(400, "bad_request", f"listen must be between 0 and {MAX_TIMEOUT:g} seconds")
    sim = simulator()
    before = sim.last_seq()
    try:
        hook = sim.redeliver(event_id, _callback_url())
    except KeyError:
        raise ApiError(404, "not_found", f"no event {event_id} was sent in this session") from None
    entries = []
    if listen:
        user_id = sim.sent_events[event_id]["source"]["userId"]
        entries = sim.wait_for_answer(user_id, before, listen, settle=min(0.5, listen)) or []
    return json_response({"webhook": hook, "entries": entries,
                          "messages": [e["message"] for e in entries if e["kind"] == "message"]})


def _amount_satang(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        raise ApiError(400, "bad_request", f"amount {value!r} is not a number of baht") from None
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ApiError(400, "bad_request", "amount must be more than 0 with at most 2 decimals")
    return int(amount * 100)


@bp.post("/api/chats/<user>/pay")
def pay(user: str):
    """Pay the bot's last PromptPay QR through the simulated bank and send the slip as an image."""
    timeout, settle = _timeout(), _settle()
    body = request.get_json(silent=True) or {}
    mode = body.get("mode", "normal")
    if mode not in FAILURE_MODES:
        raise ApiError(400, "bad_request", f"mode must be one of {', '.join(FAILURE_MODES)}")
    qr_seq = body.get("qr_seq")
    if qr_seq is not None and not isinstance(qr_seq, int):
        raise ApiError(400, "bad_request", "qr_seq must be an integer")
    customer = _customer(user)
    transfer, message_id = simulator().pay(customer.user_id, mode=mode, amount_satang=_amount_satang(
        body.get("amount")), qr_seq=qr_seq)
    shown = {"message": {"type": "image", "originalContentUrl": _media_url(message_id)}}
    return _send_and_wait(customer.user_id, [(ev.image_event(customer.user_id, message_id), shown)], timeout,
                          settle, transfer=transfer.as_json())


@bp.get("/api/log")
def event_log():
    try:
        after = int(request.args.get("after", 0))
    except ValueError:
        raise ApiError(400, "bad_request", "after must be an integer") from None
    return json_response({"entries": simulator().log_since(after)})


@bp.post("/api/reset")
def reset():
    simulator().reset()
    return json_response({"reset": True})


@bp.get("/api/bank/transfers")
def transfers():
    return json_response({"transfers": [t.as_json() for t in simulator().bank.all()]})


@bp.post("/api/bank/transfers/<trans_ref>/provider")
def provider_state(trans_ref: str):
    """Bring the verification provider back up (or down) for one transfer."""
    body = request.get_json(silent=True) or {}
    transfer = simulator().bank.set_provider_down(trans_ref, bool(body.get("down")))
    return json_response(transfer.as_json())



# ---------------------------------------------------------------- the bot's shop, when it shows it

class ShopView(Protocol):
    """What a bot may show scripts of its shop (`bot.simulator_shop.SimulatorShop` is the real one),
    handed in as app.extensions["salesbot.simulator.shop"] by whoever mounts the simulator."""

    def overview(self) -> dict: ...

    def customer(self, line_user_id: str) -> dict: ...

    def set_stock(self, stock: dict) -> dict: ...


def _shop() -> ShopView:
    shop = current_app.extensions.get("salesbot.simulator.shop")
    if shop is None:
        raise ApiError(404, "no_shop", "this service does not show its shop to the simulator "
                                       "(a standalone simulator only sees the chat)")
    return shop


@bp.get("/api/shop")
def shop_overview():
    """The shop's settings and products (prices, stock), for scripts that check what the bot said."""
    return json_response(_shop().overview())


@bp.post("/api/shop/stock")
def shop_stock():
    """Set stock, e.g. to give every journey the same shelf: `{"stock": {"<sku>": 5}}`."""
    stock = _json().get("stock")
    if not isinstance(stock, dict) or not stock:
        raise ApiError(400, "bad_request", 'send {"stock": {"<sku>": <units>, ...}}')
    try:
        return json_response(_shop().set_stock(stock))
    except ValueError as error:
        raise ApiError(400, "bad_request", str(error)) from None


@bp.get("/api/chats/<user>/shop")
def chat_shop(user: str):
    """This chat's cart and latest orders as the bot's database holds them."""
    return json_response(_shop().customer(_customer(user).user_id))


# ---------------------------------------------------------------- simulated verification provider

@bp.post("/bank/api/verify")
def verify():
    body = request.get_json(silent=True)
    payload = body.get("qr_payload") if isinstance(body, dict) else None
    status, answer = simulator().bank.verify(payload)
    simulator().note("bank", f"verify → {status} {answer.get('code', 'ok')}",
                     {"qr_payload": payload, "status": status, "response": answer})
    return json_response(answer, status)
