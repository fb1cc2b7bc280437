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
GROUP_ID = re.compile(r"[CR][0-9a-f]{32}")
MEDIA_KINDS = ("audio", "video", "file")


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


def _group_id(alias: str) -> str:
    return alias if GROUP_ID.fullmatch(alias) else \
        "C" + hashlib.md5(("group:" + alias).encode("utf-8"), usedforsecurity=False).hexdigest()


def _group(alias: str, *, create_with: list[str] | None = None):
    """A group by ID or alias; created (bot already in it) when `create_with` names its members."""
    sim = simulator()
    group = sim.group(_group_id(alias))
    if group is None and create_with is not None:
        members = [_customer(member).user_id for member in create_with]
        group = sim.add_group(alias, members, chat_id=_group_id(alias))
    if group is None:
        raise ApiError(404, "not_found", f"no group {alias!r}: create it with POST /sim/api/groups")
    return group


def _group_json(group) -> dict:
    sim = simulator()
    return {"chat_id": group.chat_id, "kind": group.kind, "name": group.name, "joined": group.joined,
            "members": [_customer_json(sim.customer(m)) for m in group.members if sim.customer(m)]}


def _chat_id(chat: str) -> str:
    """A transcript's chat: a group (by ID or alias) when one exists, else a customer."""
    group = simulator().group(_group_id(chat))
    return group.chat_id if group is not None else _customer(chat).user_id


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
    return json_response({"chats": [_customer_json(c) for c in simulator().customer_list()],
                          "groups": [_group_json(g) for g in simulator().group_list()]})


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
    chat_id = _chat_id(user)
    try:
        after = int(request.args.get("after", 0))
    except ValueError:
        raise ApiError(400, "bad_request", "after must be an integer") from None
    sim = simulator()
    chat = _group_json(sim.group(chat_id)) if sim.group(chat_id) else _customer_json(sim.customer(chat_id))
    return json_response({"chat": chat, "entries": sim.transcript(chat_id, after), "last_seq": sim.last_seq()})


def _string(value, name: str, limit: int | None = None) -> str:
    if not isinstance(value, str) or not value.strip() or (limit and len(value) > limit):
        raise ApiError(400, "bad_request", f"{name} must be a non-empty string"
                       + (f" of at most {limit} characters" if limit else ""))
    return value


def _sticker(user_id: str, sticker, chat_id: str | None):
    if not isinstance(sticker, dict):
        raise ApiError(400, "bad_request", 'sticker must be an object: {"packageId", "stickerId", "keywords"}')
    keywords = sticker.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, str) and k for k in keywords):
        raise ApiError(400, "bad_request", "sticker.keywords must be a list of words")
    resource = sticker.get("stickerResourceType", "STATIC")
    if resource not in STICKER_RESOURCE_TYPES:
        raise ApiError(400, "bad_request", f"stickerResourceType must be one of {', '.join(STICKER_RESOURCE_TYPES)}")
    text = sticker.get("text")
    if text is not None:
        _string(text, "sticker.text", 100)
    event = ev.sticker_event(user_id, _string(str(sticker.get("packageId", "")), "sticker.packageId"),
                             _string(str(sticker.get("stickerId", "")), "sticker.stickerId"), keywords,
                             resource_type=resource, text=text, chat_id=chat_id)
    return event, {"message": {k: v for k, v in event["message"].items() if k not in ("id", "quoteToken",
                                                                                       "markAsReadToken")}}


def _location(user_id: str, location, chat_id: str | None):
    if not isinstance(location, dict):
        raise ApiError(400, "bad_request", 'location must be an object: {"title", "address", "latitude", "longitude"}')
    try:
        latitude, longitude = float(location["latitude"]), float(location["longitude"])
    except (KeyError, TypeError, ValueError):
        raise ApiError(400, "bad_request", "location.latitude and location.longitude must be numbers") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ApiError(400, "bad_request", "latitude must be within ±90 and longitude within ±180")
    title, address = location.get("title"), location.get("address")
    for name, value in (("title", title), ("address", address)):
        if value is not None:
            _string(value, f"location.{name}", 100)
    event = ev.location_event(user_id, latitude, longitude, title=title, address=address, chat_id=chat_id)
    return event, {"message": {k: v for k, v in event["message"].items() if k not in ("id", "markAsReadToken")}}


def _media(user_id: str, kind: str, spec, chat_id: str | None):
    spec = spec if isinstance(spec, dict) else {}
    duration = spec.get("duration")
    if kind != "file" and duration is not None and (not isinstance(duration, int) or duration <= 0):
        raise ApiError(400, "bad_request", f"{kind}.duration must be a positive number of milliseconds")
    if kind == "file":
        size = spec.get("fileSize", 20480)
        if not isinstance(size, int) or size <= 0:
            raise ApiError(400, "bad_request", "file.fileSize must be a positive number of bytes")
        event = ev.media_event(user_id, "file", file_name=_string(spec.get("fileName", "document.pdf"),
                                                                  "file.fileName", 200),
                               file_size=size, chat_id=chat_id)
    else:
        event = ev.media_event(user_id, kind, duration_ms=duration or 5000, chat_id=chat_id)
    return event, {"message": {k: v for k, v in event["message"].items() if k not in ("id", "quoteToken",
                                                                                       "markAsReadToken")}}


STICKER_RESOURCE_TYPES = ("STATIC", "ANIMATION", "SOUND", "ANIMATION_SOUND", "POPUP", "POPUP_SOUND", "CUSTOM",
                          "MESSAGE", "NAME_TEXT", "PER_STICKER_TEXT")


def _events_for(user_id: str, body: dict, chat_id: str | None = None) -> list[tuple[dict, dict | None]]:
    """The webhook events (and what the chat shows for each) one API request asks to send; `chat_id`
    is the group or room when the customer writes there."""
    sim = simulator()
    if "text" in body:
        text = body["text"]
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "bad_request", "text must be a non-empty string")
        return [(ev.text_event(user_id, text, chat_id), {"message": {"type": "text", "text": text}})]
    if "sticker" in body:
        return [_sticker(user_id, body["sticker"], chat_id)]
    if "location" in body:
        return [_location(user_id, body["location"], chat_id)]
    for kind in MEDIA_KINDS:
        if kind in body:
            return [_media(user_id, kind, body[kind], chat_id)]
    if "postback" in body:
        postback = body["postback"]
        data = postback.get("data") if isinstance(postback, dict) else None
        if not isinstance(data, str) or not data:
            raise ApiError(400, "bad_request", "postback.data must be a non-empty string")
        display = postback.get("displayText")
        event = ev.postback_event(user_id, data, postback.get("params"), chat_id)
        if display:
            return [(event, {"message": {"type": "text", "text": display}})]
        return [(event, {"kind": "event", "label": f"postback: {data}"})]
    if "image_base64" in body or "images_base64" in body:
        images = body.get("images_base64") or [body.get("image_base64")]
        if not isinstance(images, list) or not 1 <= len(images) <= 10:
            raise ApiError(400, "bad_request", "images_base64 must be a list of 1 to 10 images")
        ids = [sim.store_image(user_id, _decode_image(item)) for item in images]
        set_id = ev.new_image_set_id() if len(ids) > 1 else None
        return [(ev.image_event(user_id, message_id, (set_id, i, len(ids)) if set_id else None, chat_id),
                 {"message": {"type": "image", "originalContentUrl": _media_url(message_id)}})
                for i, message_id in enumerate(ids, start=1)]
    if chat_id is not None and (body.get("follow") or body.get("unfollow")):
        raise ApiError(400, "bad_request", "follow and unfollow happen in one-to-one chats, not in groups")
    if body.get("follow"):
        return [(ev.follow_event(user_id, is_unblocked=bool(body.get("is_unblocked"))),
                 {"kind": "event", "label": "เพิ่มเพื่อน (follow)"})]
    if body.get("unfollow"):
        return [(ev.unfollow_event(user_id), {"kind": "event", "label": "บล็อก (unfollow)"})]
    raise ApiError(400, "bad_request", 'send one of "text", "postback", "image_base64", "images_base64", '
                                       '"sticker", "location", "audio", "video", "file", "follow" or "unfollow"')


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
        user_id = ev.chat_of(sim.sent_events[event_id]["source"])
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


# ---------------------------------------------------------------- groups and rooms

@bp.post("/api/groups")
def add_group():
    """{"name": "เพื่อนบอร์ดเกม", "members": ["alice", "bob"], "room": false, "joined": true}"""
    body = _json()
    members = body.get("members") or []
    if not isinstance(members, list) or not members or not all(isinstance(m, str) and m for m in members):
        raise ApiError(400, "bad_request", "members must be a non-empty list of customer names or IDs")
    name = _string(body.get("name") or "กลุ่มเพื่อน", "name", 60)
    ids = [_customer(member).user_id for member in members]
    chat_id = None if body.get("room") else _group_id(name)
    group = simulator().add_group(name, ids, chat_id=chat_id, room=bool(body.get("room")),
                                  joined=bool(body.get("joined", True)))
    return json_response(_group_json(group), 201)


@bp.post("/api/groups/<group>/messages")
def send_group_message(group: str):
    """A member writes in the group: {"from": "alice", "text": "..."} (or sticker, postback, ...)."""
    timeout, settle = _timeout(), _settle()
    body = _json()
    sender = body.get("from")
    if not isinstance(sender, str) or not sender:
        raise ApiError(400, "bad_request", '"from" must name the member who writes')
    chat = _group(group, create_with=[sender])
    member = _customer(sender)
    if member.user_id not in chat.members:
        raise ApiError(409, "not_a_member", f"{sender} is not a member of {chat.name}; add them first")
    if not chat.joined:
        raise ApiError(409, "bot_not_in_group", "the bot is not in this group: send a join event first")
    items = _events_for(member.user_id, body, chat.chat_id)
    return _send_and_wait(chat.chat_id, items, timeout, settle)


@bp.post("/api/groups/<group>/join")
def group_join(group: str):
    """The bot is invited into the group: a join event (with a reply token)."""
    timeout, settle = _timeout(), _settle()
    chat = _group(group)
    return _send_and_wait(chat.chat_id, [(ev.join_event(chat.chat_id), {"kind": "event",
                                                                         "label": "ร้านถูกเชิญเข้ากลุ่ม (join)"})],
                          timeout, settle)


@bp.post("/api/groups/<group>/leave")
def group_leave(group: str):
    """The bot is removed from the group: a leave event (no reply token)."""
    chat = _group(group)
    return _send_and_wait(chat.chat_id, [(ev.leave_event(chat.chat_id), {"kind": "event",
                                                                          "label": "ร้านถูกนำออกจากกลุ่ม (leave)"})],
                          _timeout(), _settle())


@bp.post("/api/groups/<group>/members")
def group_members(group: str):
    """{"join": ["carol"]} → memberJoined (with a reply token); {"leave": ["bob"]} → memberLeft."""
    timeout, settle = _timeout(), _settle()
    chat = _group(group)
    body = _json()
    joining, leaving = body.get("join") or [], body.get("leave") or []
    if not (isinstance(joining, list) and isinstance(leaving, list)) or not (joining or leaving):
        raise ApiError(400, "bad_request", 'send {"join": [names]} or {"leave": [names]}')
    items = []
    if joining:
        ids = [_customer(name).user_id for name in joining]
        names = ", ".join(simulator().customer(i).display_name for i in ids)
        items.append((ev.member_joined_event(chat.chat_id, ids), {"kind": "event", "label": f"{names} เข้ากลุ่ม"}))
    if leaving:
        ids = [_customer(name).user_id for name in leaving]
        names = ", ".join(simulator().customer(i).display_name for i in ids)
        items.append((ev.member_left_event(chat.chat_id, ids), {"kind": "event", "label": f"{names} ออกจากกลุ่ม"}))
    return _send_and_wait(chat.chat_id, items, timeout, settle)


# ---------------------------------------------------------------- the rich menu, as the chat shows it

@bp.get("/api/richmenu")
def shown_rich_menu():
    menu = simulator().default_rich_menu_shown()
    if menu is None:
        return json_response({"richmenu": None})
    return json_response({"richmenu": {"richMenuId": menu.rich_menu_id, **menu.request,
                                       "image_url": url_for(".rich_menu_image", rich_menu_id=menu.rich_menu_id)}})


@bp.get("/richmenu/<rich_menu_id>.img")
def rich_menu_image(rich_menu_id: str):
    menu = simulator().rich_menus.get(rich_menu_id)
    if menu is None or menu.image is None:
        abort(404)
    return Response(menu.image, mimetype=menu.content_type)


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
