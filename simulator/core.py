"""The simulator's state and behaviour: customers and their chats, reply tokens, retry keys, uploaded
content, the event log, the bank; delivering signed webhooks to the bot and waiting for its answer.

All state lives in memory in one `Simulator` object, guarded by one lock; a condition variable wakes
whoever waits for a bot's answer. The bot is reached over HTTP only.
"""
from __future__ import annotations

import io
import logging
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from simulator import events as ev
from simulator.bank import Bank, BankError, PromptPayQR, Transfer, find_promptpay, render_slip
from simulator.rules import LineError, check_messages, check_rich_menu, check_rich_menu_image

log = logging.getLogger(__name__)

REPLY_TOKEN_TTL = 60.0               # seconds after the event (or its redelivery)
REDELIVERY_TOKEN_LIMIT = 20 * 60.0   # a redelivered token is dead 20 min after the event
RETRY_KEY_TTL = 24 * 3600.0
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # a phone photo is 12–50 MP; beyond this decoding alone takes gigabytes
MAX_LOG_ENTRIES = 5000
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
DEV_STAFF_GROUP_ID = "C" + "5a1e5b07" * 4   # the staff group `salesbot dev` points STAFF_LINE_TARGET at
DEFAULT_NAMES = ["สมชาย ใจดี", "มานี มีนา", "ปิติ ชูใจ", "วีระ กล้าหาญ", "ชูใจ รักเรียน"]


@dataclass
class SimulatorConfig:
    channel_secret: str
    access_token: str | None           # None: accept any bearer token (standalone runs without one)
    bot_url: str | None = None         # the bot's webhook URL; None: this origin's /callback
    shop_name: str = "ร้านบอร์ดเกมตัวอย่าง"
    webhook_timeout: float = 10.0
    bot_user_id: str = field(default_factory=ev.new_user_id)   # `destination` of every webhook
    staff_group_id: str | None = None  # the staff's LINE group (STAFF_LINE_TARGET), the bot already in it
    staff_group_name: str = "กลุ่มพนักงานร้าน"



@dataclass
class Customer:
    user_id: str
    display_name: str
    following: bool = True
    loading_until: float = 0.0


@dataclass
class Group:
    """A group (or room) chat with several simulated customers and, once joined, the bot."""
    chat_id: str
    name: str
    members: list[str] = field(default_factory=list)
    joined: bool = False

    @property
    def kind(self) -> str:
        return "group" if self.chat_id.startswith("C") else "room"


@dataclass
class RichMenu:
    rich_menu_id: str
    request: dict
    image: bytes | None = None
    content_type: str = ""


@dataclass
class ReplyToken:
    chat_id: str
    event_id: str
    issued: float          # event time (never changes)
    expires: float         # 60 s after the event or its latest redelivery
    used: bool = False


@dataclass
class Content:
    data: bytes
    content_type: str
    user_id: str
    token: str = field(default_factory=lambda: secrets.token_urlsafe(16))  # the page's /sim/media/<token>


class UploadError(Exception):
    """An upload the simulator refuses: `status` is the HTTP status to answer with."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def check_image(data: bytes) -> str:
    """Content type of an uploaded image; UploadError when too big or not a JPEG/PNG."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_IMAGE_BYTES:
        raise UploadError(413, "image_too_large",
                          f"the image is {len(data) / 1048576:.1f} MB; LINE accepts at most 10 MB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise UploadError(413, "image_too_large",
                                  f"the image is {width}×{height} pixels; the simulator takes at most "
                                  f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels")
            image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadError(413, "image_too_large", "the image has too many pixels to open safely") from None
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise UploadError(415, "not_an_image", "the upload is not a JPEG or PNG image") from None
    if kind not in IMAGE_TYPES:
        raise UploadError(415, "not_an_image", f"the upload is a {kind} image; send a JPEG or PNG")
    return IMAGE_TYPES[kind]


def _public(entry: dict) -> dict:
    """A transcript entry without its private bookkeeping (keys starting with '_')."""
    return {key: value for key, value in entry.items() if not key.startswith("_")}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


class Simulator:
    def __init__(self, config: SimulatorConfig):
        self.config = config
        self.bank = Bank(config.shop_name)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._last_seq = 0
        self._http = httpx.Client(timeout=config.webhook_timeout)
        # rich menus belong to the channel, not to the chats: a reset keeps them, as LINE would
        self.rich_menus: dict[str, RichMenu] = {}
        self.default_rich_menu: str | None = None
        self._reset_state()

    def _next_seq(self) -> int:
        """Entries of all chats and the log share one increasing sequence (caller holds the lock)."""
        self._last_seq += 1
        return self._last_seq

    def _reset_state(self) -> None:
        self.customers: dict[str, Customer] = {}
        self.groups: dict[str, Group] = {}
        self.transcripts: dict[str, list[dict]] = {}
        self.quote_tokens: dict[str, str] = {}          # quote token -> chat it belongs to
        self.read_tokens: dict[str, tuple[str, int]] = {}   # markAsReadToken -> (chat, entry seq)
        self.log: list[dict] = []
        self.tokens: dict[str, ReplyToken] = {}
        self.retry_keys: dict[str, tuple[float, str, list[dict]]] = {}
        self.contents: dict[str, Content] = {}
        self.sent_events: dict[str, dict] = {}
        if self.config.staff_group_id:  # where the bot's staff alerts land; no members, only the bot's pushes
            group = Group(self.config.staff_group_id, self.config.staff_group_name, [], True)
            self.groups[group.chat_id] = group
            self.transcripts[group.chat_id] = []

    def reset(self) -> None:
        with self._lock:
            self._reset_state()
            self.bank.reset()
            self._changed.notify_all()

    # ------------------------------------------------------------ customers and records

    def add_customer(self, display_name: str | None = None, user_id: str | None = None) -> Customer:
        with self._lock:
            if user_id and user_id in self.customers:
                return self.customers[user_id]
            name = display_name or DEFAULT_NAMES[len(self.customers) % len(DEFAULT_NAMES)]
            customer = Customer(user_id=user_id or ev.new_user_id(), display_name=name)
            self.customers[customer.user_id] = customer
            self.transcripts[customer.user_id] = []
            self._changed.notify_all()
            return customer

    def customer_list(self) -> list[Customer]:
        with self._lock:
            return list(self.customers.values())

    def customer(self, user_id: str) -> Customer | None:
        with self._lock:
            return self.customers.get(user_id)

    def add_group(self, name: str, members: list[str], *, chat_id: str | None = None, room: bool = False,
                  joined: bool = True) -> Group:
        """A group (or room) of known customers; `joined`: the bot is already in it."""
        with self._lock:
            if chat_id and chat_id in self.groups:
                return self.groups[chat_id]
            unknown = [m for m in members if m not in self.customers]
            if unknown:
                raise KeyError(unknown[0])
            group = Group(chat_id or (ev.new_room_id() if room else ev.new_group_id()), name, list(members), joined)
            self.groups[group.chat_id] = group
            self.transcripts[group.chat_id] = []
            self._changed.notify_all()
            return group

    def group(self, chat_id: str) -> Group | None:
        with self._lock:
            return self.groups.get(chat_id)

    def group_list(self) -> list[Group]:
        with self._lock:
            return list(self.groups.values())

    def _chat_known(self, chat_id) -> bool:
        return isinstance(chat_id, str) and (chat_id in self.customers or chat_id in self.groups)

    def _record(self, user_id: str, entry: dict) -> dict:
        """Append to a chat transcript (caller holds the lock)."""
        entry.update(seq=self._next_seq(), at=_iso(time.time()), _mono=time.monotonic())
        self.transcripts.setdefault(user_id, []).append(entry)
        self._changed.notify_all()
        return entry

    def note(self, kind: str, summary: str, detail: dict | None = None, user_id: str | None = None) -> dict:
        """Add to the event log: webhook sent, API call received, rule violation, bank action."""
        with self._lock:
            entry = {"seq": self._next_seq(), "at": _iso(time.time()), "kind": kind, "summary": summary,
                     "user_id": user_id, "detail": detail or {}}
            self.log.append(entry)
            del self.log[:-MAX_LOG_ENTRIES]
            self._changed.notify_all()
            return entry

    def transcript(self, user_id: str, after: int = 0) -> list[dict]:
        with self._lock:
            return [_public(entry) for entry in self.transcripts.get(user_id, []) if entry["seq"] > after]

    def log_since(self, after: int = 0) -> list[dict]:
        with self._lock:
            return [entry for entry in self.log if entry["seq"] > after]

    def last_seq(self) -> int:
        with self._lock:
            return self._last_seq

    # ------------------------------------------------------------ platform side (called by the bot)

    def check_token(self, header: str | None) -> None:
        header = header or ""
        token = header[len("Bearer "):].strip() if header.startswith("Bearer ") else ""
        expected = self.config.access_token
        if not token or (expected is not None and not secrets.compare_digest(token, expected)):
            raise LineError(401, "Authentication failed. Confirm that the access token in the "
                                 "authorization header is valid.")

    def reply(self, body: dict) -> list[dict]:
        """Handle POST /v2/bot/message/reply; returns `sentMessages` or raises LineError."""
        token_value = body.get("replyToken")
        messages = body.get("messages")
        report = check_messages(messages)
        if not token_value:
            report.error("May not be empty", "replyToken")
        with self._lock:
            token = self.tokens.get(token_value) if isinstance(token_value, str) else None
            user_id = token.chat_id if token else None
            if user_id:
                self._check_quotes(report, user_id, messages)
            self._fail_on(report, user_id, "reply", messages)
            if token is None or token.used or time.time() > token.expires:
                why = ("unknown" if token is None else "already used" if token.used else "expired")
                error = LineError(400, "Invalid reply token")
                self._violation(user_id, "reply", error, f"reply token {why}", messages)
                raise error
            token.used = True
            return self._deliver(token.chat_id, messages, via="reply", event_id=token.event_id,
                                 warnings=report.warnings)

    def push(self, body: dict, retry_key: str | None) -> tuple[list[dict], str]:
        """Handle POST /v2/bot/message/push; returns (sentMessages, request id) or raises LineError."""
        request_id = str(uuid.uuid4())
        to = body.get("to")
        messages = body.get("messages")
        if retry_key is not None:
            try:
                uuid.UUID(retry_key)
            except ValueError:
                raise LineError(400, "The value of the X-Line-Retry-Key header is invalid. "
                                     "Specify a UUID in hexadecimal format.") from None
        report = check_messages(messages)
        if not isinstance(to, str) or not to:
            report.error("May not be empty", "to")
        with self._lock:
            known = to if self._chat_known(to) else None
            if known:
                self._check_quotes(report, known, messages)
            if retry_key is not None:
                self._forget_old_retry_keys()
                if retry_key in self.retry_keys:
                    _, accepted_id, sent = self.retry_keys[retry_key]
                    error = LineError(409, "The retry key is already accepted", extra={"sentMessages": sent},
                                      headers={"x-line-accepted-request-id": accepted_id})
                    self._violation(known, "push", error, "duplicate X-Line-Retry-Key", messages)
                    raise error
            self._fail_on(report, known, "push", messages)
            if known is None:
                error = LineError(400, "The property, 'to', in the request body is invalid (line: -, column: -)")
                self._violation(None, "push", error, f"push to unknown user {to!r}", messages)
                raise error
            if to in self.groups and not self.groups[to].joined:
                error = LineError(400, "The bot is not a member of this group or room")
                self._violation(to, "push", error, "push to a group the bot has left", messages)
                raise error
            if to in self.customers and not self.customers[to].following:
                report.warn("this customer has blocked the account: LINE accepts the push but the customer "
                            "never sees it", "to")
            sent = self._deliver(to, messages, via="push", warnings=report.warnings)
            if retry_key is not None:
                self.retry_keys[retry_key] = (time.time(), request_id, sent)
            return sent, request_id

    def start_loading(self, body: dict) -> None:
        chat_id = body.get("chatId")
        seconds = body.get("loadingSeconds", 20)
        if not isinstance(seconds, int) or seconds % 5 or not 5 <= seconds <= 60:
            raise LineError(400, "The request body has 1 error(s)",
                            [{"message": "must be a multiple of 5 between 5 and 60", "property": "loadingSeconds"}])
        with self._lock:
            customer = self.customers.get(chat_id) if isinstance(chat_id, str) else None
            if customer is None:
                raise LineError(400, "The request body has 1 error(s)",
                                [{"message": "invalid chat id", "property": "chatId"}])
            customer.loading_until = time.time() + seconds
            self._changed.notify_all()
        self.note("api", f"loading animation {seconds} s", {"chatId": chat_id}, user_id=chat_id)

    def mark_as_read(self, body: dict) -> None:
        """POST /v2/bot/chat/markAsRead: the customer's messages up to this one show "read"."""
        token = body.get("markAsReadToken")
        with self._lock:
            found = self.read_tokens.get(token) if isinstance(token, str) else None
            if found is None:
                raise LineError(400, "The request body has 1 error(s)",
                                [{"message": "invalid token", "property": "markAsReadToken"}])
            chat_id, seq = found
            for entry in self.transcripts.get(chat_id, []):
                if entry["from"] == "user" and entry["seq"] <= seq:
                    entry["read"] = True
            self._changed.notify_all()
        self.note("api", "mark as read", {"markAsReadToken": token}, user_id=chat_id)

    def _check_quotes(self, report, chat_id: str, messages) -> None:
        """A quoteToken must be one LINE issued in this chat (a customer's message or one the bot sent),
        and only text and sticker messages can quote."""
        if not isinstance(messages, list):
            return
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or "quoteToken" not in message:
                continue
            prop = f"messages[{index}].quoteToken"
            if message.get("type") not in ("text", "textV2", "sticker"):
                report.error("quoteToken is not supported for this message type", prop)
            elif self.quote_tokens.get(message["quoteToken"]) != chat_id:
                report.error("invalid quote token", prop)

    def content(self, message_id: str) -> Content | None:
        with self._lock:
            return self.contents.get(message_id)

    def content_by_token(self, token: str) -> Content | None:
        """For the chat page: an unguessable token, never the (sequential) message id."""
        with self._lock:
            return next((item for item in self.contents.values() if item.token == token), None)

    def profile(self, user_id: str) -> dict | None:
        customer = self.customer(user_id)
        if customer is None:
            return None
        return {"displayName": customer.display_name, "userId": customer.user_id, "language": "th"}

    def _fail_on(self, report, user_id, api: str, messages) -> None:
        try:
            report.raise_if_failed()
        except LineError as error:
            self._violation(user_id, api, error, error.body["message"], messages)
            raise

    def _violation(self, user_id, api: str, error: LineError, summary: str, messages) -> None:
        """A refused call: logged, and shown in the chat it was meant for."""
        detail = {"api": api, "status": error.status, "response": error.body, "messages": messages}
        self.note("violation", f"{api}: {error.status} {summary}", detail, user_id=user_id)
        if user_id in self.transcripts:
            self._record(user_id, {"from": "system", "kind": "error", "api": api, "status": error.status,
                                   "error": error.body, "messages": messages})

    def _deliver(self, user_id: str, messages: list[dict], *, via: str, event_id: str | None = None,
                 warnings: list[dict] = ()) -> list[dict]:
        sent = []
        if user_id in self.customers:
            self.customers[user_id].loading_until = 0.0  # the indicator disappears when a message arrives
        for message in messages:
            message_id = ev.new_message_id()
            item = {"id": message_id}
            if message.get("type") in ("text", "sticker"):
                item["quoteToken"] = ev.new_quote_token()
                self.quote_tokens[item["quoteToken"]] = user_id
            sent.append(item)
            entry = {"from": "bot", "kind": "message", "via": via, "message": message,
                     "message_id": message_id, "event_id": event_id}
            quoted = self._quoted(user_id, message.get("quoteToken"))
            if quoted is not None:
                entry["quoted"] = quoted
            entry = self._record(user_id, entry)
            if message.get("type") == "image":
                self._decode_later(entry)
        self.note("api", f"{via}: {len(messages)} message(s)",
                  {"api": via, "messages": messages, "sentMessages": sent}, user_id=user_id)
        for warning in warnings:
            self.note("warning", f"{via}: {warning['property']}: {warning['message']}", warning, user_id=user_id)
        return sent

    def _quoted(self, chat_id: str, token) -> dict | None:
        """What a quoting message quotes, for the transcript: the quoted entry's sender and message."""
        if not token:
            return None
        for entry in reversed(self.transcripts.get(chat_id, [])):
            message = entry.get("message") or {}
            event_message = (entry.get("event") or {}).get("message") or {}
            if event_message.get("quoteToken") == token or entry.get("_quote_token") == token:
                return {"seq": entry["seq"], "from": entry["from"], "message": message}
        return None

    def _forget_old_retry_keys(self) -> None:
        cutoff = time.time() - RETRY_KEY_TTL
        for key in [k for k, (at, _, _) in self.retry_keys.items() if at < cutoff]:
            del self.retry_keys[key]

    # ------------------------------------------------------------ rich menus (platform side)

    def create_rich_menu(self, body: dict) -> str:
        check_rich_menu(body).raise_if_failed()
        rich_menu_id = "richmenu-" + uuid.uuid4().hex
        with self._lock:
            self.rich_menus[rich_menu_id] = RichMenu(rich_menu_id, body)
            self._changed.notify_all()
        self.note("api", f"rich menu created ({len(body['areas'])} areas)", {"richMenuId": rich_menu_id, **body})
        return rich_menu_id

    def _rich_menu(self, rich_menu_id: str) -> RichMenu:
        menu = self.rich_menus.get(rich_menu_id)
        if menu is None:
            raise LineError(404, "Not found")
        return menu

    def upload_rich_menu_image(self, rich_menu_id: str, data: bytes, content_type: str) -> None:
        with self._lock:
            menu = self._rich_menu(rich_menu_id)
            if menu.image is not None:
                raise LineError(400, "An image has already been uploaded to the richmenu")
            size = menu.request["size"]
            check_rich_menu_image(data, content_type, size["width"], size["height"])
            menu.image, menu.content_type = bytes(data), content_type
            self._changed.notify_all()
        self.note("api", f"rich menu image uploaded ({len(data) // 1024} KB)", {"richMenuId": rich_menu_id})

    def set_default_rich_menu(self, rich_menu_id: str) -> None:
        with self._lock:
            menu = self._rich_menu(rich_menu_id)
            if menu.image is None:
                raise LineError(400, "must upload richmenu image before applying it to user")
            self.default_rich_menu = rich_menu_id
            self._changed.notify_all()
        self.note("api", "default rich menu set", {"richMenuId": rich_menu_id})

    def default_rich_menu_id(self) -> str:
        with self._lock:
            if self.default_rich_menu is None:
                raise LineError(404, "no default richmenu")
            return self.default_rich_menu

    def cancel_default_rich_menu(self) -> None:
        with self._lock:
            self.default_rich_menu = None
            self._changed.notify_all()

    def delete_rich_menu(self, rich_menu_id: str) -> None:
        with self._lock:
            self._rich_menu(rich_menu_id)
            del self.rich_menus[rich_menu_id]
            if self.default_rich_menu == rich_menu_id:
                self.default_rich_menu = None
            self._changed.notify_all()
        self.note("api", "rich menu deleted", {"richMenuId": rich_menu_id})

    def rich_menu_list(self) -> list[dict]:
        with self._lock:
            return [{"richMenuId": m.rich_menu_id, **m.request} for m in self.rich_menus.values()]

    def rich_menu(self, rich_menu_id: str) -> RichMenu:
        with self._lock:
            return self._rich_menu(rich_menu_id)

    def default_rich_menu_shown(self) -> RichMenu | None:
        """What the chat shows under the conversation (one-to-one chats only, as in LINE)."""
        with self._lock:
            return self.rich_menus.get(self.default_rich_menu) if self.default_rich_menu else None

    # ------------------------------------------------------------ PromptPay QR in the bot's images

    def _decode_later(self, entry: dict) -> None:
        """Look for a PromptPay QR in an image the bot sent, off the bot's request thread."""
        entry["promptpay"] = None
        entry["qr_state"] = "pending"
        threading.Thread(target=self.decode_qr, args=(entry,), daemon=True).start()

    def decode_qr(self, entry: dict) -> PromptPayQR | None:
        url = entry["message"].get("originalContentUrl", "")
        try:
            response = self._http.get(url, timeout=5.0)
            response.raise_for_status()
            qr = find_promptpay(response.content)
        except Exception as error:  # noqa: BLE001 - any failure only means "no pay button"
            log.info("could not read the bot's image %s: %s", url, error)
            with self._lock:
                entry["qr_state"] = f"unreadable: {type(error).__name__}"
                self._changed.notify_all()
            return None
        with self._lock:
            entry["qr_state"] = "promptpay" if qr else "none"
            entry["promptpay"] = None if qr is None else {
                "payload": qr.payload, "target": qr.target, "amount_satang": qr.amount_satang,
                "amount": None if qr.amount_satang is None else f"{qr.amount_satang / 100:,.2f}"}
            self._changed.notify_all()
        return qr

    def last_promptpay(self, user_id: str, seq: int | None = None) -> PromptPayQR:
        """The PromptPay QR the bot sent last (or in entry `seq`); BankError when there is none."""
        with self._lock:
            images = [e for e in self.transcripts.get(user_id, []) if e["from"] == "bot"
                      and e["kind"] == "message" and e["message"].get("type") == "image"
                      and (seq is None or e["seq"] == seq)]
        for entry in reversed(images):
            info = entry.get("promptpay")
            if info is None:
                qr = self.decode_qr(entry)
                if qr is not None:
                    return qr
                continue
            return PromptPayQR(info["payload"], info["target"], info["amount_satang"])
        raise BankError("the bot has not sent a PromptPay QR in this chat")

    # ------------------------------------------------------------ webhook side (sending to the bot)

    def store_image(self, user_id: str, data: bytes) -> str:
        content_type = check_image(data)
        message_id = ev.new_message_id()
        with self._lock:
            self.contents[message_id] = Content(data, content_type, user_id)
        return message_id

    def send(self, chat_id: str, event: dict, shown: dict | None, callback_url: str) -> dict:
        """Sign and POST one event in a one-to-one chat (`chat_id` = the user) or a group; record it (and
        what the chat shows) first. Returns a summary."""
        with self._lock:
            customer = self.customers.get(chat_id)
            group = self.groups.get(chat_id)
            if customer is not None and event["type"] == "follow":
                customer.following = True
            elif customer is not None and event["type"] == "unfollow":
                customer.following = False
            elif group is not None and event["type"] == "join":
                group.joined = True
            elif group is not None and event["type"] == "leave":
                group.joined = False
            elif group is not None and event["type"] == "memberJoined":
                group.members += [m["userId"] for m in event["joined"]["members"] if m["userId"] not in group.members]
            elif group is not None and event["type"] == "memberLeft":
                gone = {m["userId"] for m in event["left"]["members"]}
                group.members = [m for m in group.members if m not in gone]
            if "replyToken" in event:
                now = time.time()
                self.tokens[event["replyToken"]] = ReplyToken(chat_id, event["webhookEventId"], now,
                                                              now + REPLY_TOKEN_TTL)
            self.sent_events[event["webhookEventId"]] = event
            sender = (event.get("source") or {}).get("userId")
            entry = self._record(chat_id, {
                "from": "user", "kind": shown.get("kind", "message") if shown else "event",
                "message": shown.get("message") if shown else None, "label": shown.get("label") if shown else None,
                "sender": sender, "sender_name": self.customers[sender].display_name if sender in self.customers else None,
                "event_id": event["webhookEventId"], "event": event})
            message = event.get("message") or {}
            if message.get("quoteToken"):
                self.quote_tokens[message["quoteToken"]] = chat_id
            if message.get("markAsReadToken"):
                self.read_tokens[message["markAsReadToken"]] = (chat_id, entry["seq"])
        return self._post(chat_id, event, callback_url)

    def redeliver(self, event_id: str, callback_url: str) -> dict:
        """Send an event again as LINE's redelivery does: same id and reply token, isRedelivery true."""
        with self._lock:
            original = self.sent_events.get(event_id)
            if original is None:
                raise KeyError(event_id)
            again = ev.as_redelivery(original)
            token = self.tokens.get(again.get("replyToken", ""))
            now = time.time()
            if token and not token.used and now - token.issued < REDELIVERY_TOKEN_LIMIT:
                token.expires = now + REPLY_TOKEN_TTL
            user_id = self.tokens[again["replyToken"]].chat_id if again.get("replyToken") in self.tokens \
                else ev.chat_of(again["source"])
            self._record(user_id, {"from": "system", "kind": "redelivery", "event_id": event_id, "event": again})
        return self._post(user_id, again, callback_url)

    def _post(self, user_id: str, event: dict, callback_url: str) -> dict:
        body = ev.webhook_body(self.config.bot_user_id, [event])
        headers = {"Content-Type": "application/json; charset=UTF-8",
                   "X-Line-Signature": ev.sign(body, self.config.channel_secret),
                   "User-Agent": "LineBotWebhook/2.0"}
        summary = {"event_id": event["webhookEventId"], "type": event["type"],
                   "redelivery": event["deliveryContext"]["isRedelivery"], "url": callback_url}
        started = time.monotonic()
        try:
            response = self._http.post(callback_url, content=body, headers=headers)
            summary.update(status=response.status_code, body=response.text[:500])
        except httpx.HTTPError as error:
            summary.update(status=None, error=f"{type(error).__name__}: {error}")
        summary["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
        outcome = summary["status"] if summary["status"] is not None else summary["error"]
        if summary["status"] is None or not 200 <= summary["status"] < 300:
            log.warning("webhook %s to %s was not accepted: %s", event["webhookEventId"], callback_url, outcome)
        self.note("webhook", f"{event['type']} event → bot: {outcome}",
                  {**summary, "event": event}, user_id=user_id)
        return summary

    def wait_for_answer(self, user_id: str, after_seq: int, timeout: float, settle: float = 0.5) -> list[dict] | None:
        """Entries the bot produced in this chat after `after_seq`, once it has answered and gone
        quiet for `settle` seconds; None when nothing came within `timeout`.

        Answered = a reply or push reached this chat, or the platform refused one (an error entry).
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                produced = self._bot_entries(user_id, after_seq)
                now = time.monotonic()
                if produced:
                    quiet_since = produced[-1]["_mono"]
                    if now - quiet_since >= settle or now >= deadline:
                        return [_public(entry) for entry in produced]
                    self._changed.wait(min(settle - (now - quiet_since), deadline - now))
                elif now >= deadline:
                    return None
                else:
                    self._changed.wait(deadline - now)

    def _bot_entries(self, user_id: str, after_seq: int) -> list[dict]:
        return [e for e in self.transcripts.get(user_id, [])
                if e["seq"] > after_seq and e["from"] in ("bot", "system") and e["kind"] in ("message", "error")]

    # ------------------------------------------------------------ the bank

    def pay(self, user_id: str, *, mode: str, amount_satang: int | None, qr_seq: int | None) -> tuple[Transfer, str]:
        """Make a transfer for the bot's last PromptPay QR and store its slip as the customer's image."""
        customer = self.customer(user_id)
        if customer is None:
            raise BankError("no such customer")
        qr = self.last_promptpay(user_id, qr_seq)
        transfer = self.bank.transfer(user_id=user_id, sender_name=customer.display_name, qr=qr, mode=mode,
                                      amount_satang=amount_satang)
        slip = render_slip(transfer)
        message_id = self.store_image(user_id, slip)
        transfer.slip_message_ids.append(message_id)
        self.note("bank", f"transfer {transfer.trans_ref}: {transfer.amount_satang / 100:,.2f} บาท ({mode})",
                  transfer.as_json(), user_id=user_id)
        return transfer, message_id
