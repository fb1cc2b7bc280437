"""A tiny LINE bot for the simulator's tests: line-bot-sdk v3 on both sides, like the real edge.

It parses webhooks with `WebhookParser` (so a malformed simulator event would show up as
`UnknownEvent`), and talks to the simulator only through `MessagingApi`/`MessagingApiBlob` configured
with `host=<simulator>/sim/line`. Commands (Thai, as a customer would type them):
  เมนู → Flex carousel with postback buttons + quick replies · จ่าย N → PromptPay QR image for N baht ·
  ยาว → a 5,001-character text (LINE refuses it) · เงียบ → no answer · push → answered by push ·
  other text → echo with quick replies; image → slip checked against the simulated bank's verify API.
"""
from __future__ import annotations

import io
import threading
import uuid
from decimal import Decimal

import httpx
from flask import Flask, Response, abort, request
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    FlexContainer,
    FlexMessage,
    ImageMessage,
    MessageAction,
    MessagingApi,
    MessagingApiBlob,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
    TextMessage,
)
from linebot.v3.webhooks import FollowEvent, ImageMessageContent, MessageEvent, PostbackEvent, TextMessageContent
from werkzeug.serving import make_server

from payments.emv import encode, with_crc

PROMPTPAY_ID = "0812345678"


def promptpay_payload(amount: Decimal) -> str:
    account = encode([("00", "A000000677010111"), ("01", "0066" + PROMPTPAY_ID[1:])])
    return with_crc(encode([("00", "01"), ("01", "12"), ("29", account), ("58", "TH"), ("53", "764"),
                            ("54", f"{amount:.2f}")]))


def quick_replies() -> QuickReply:
    return QuickReply(items=[
        QuickReplyItem(action=MessageAction(label="ดูเมนู", text="เมนู")),
        QuickReplyItem(action=PostbackAction(label="ตะกร้า", data="cart", display_text="ดูตะกร้า")),
    ])


def carousel() -> FlexContainer:
    def bubble(name: str, price: str, sku: str) -> dict:
        return {"type": "bubble", "size": "kilo",
                "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
                    {"type": "text", "text": name, "weight": "bold", "size": "lg", "wrap": True},
                    {"type": "box", "layout": "baseline", "contents": [
                        {"type": "text", "text": "ราคา", "color": "#999999", "size": "sm", "flex": 1},
                        {"type": "text", "text": price, "size": "sm", "flex": 3, "color": "#111111"}]},
                    {"type": "separator", "margin": "md"},
                    {"type": "filler"}]},
                "footer": {"type": "box", "layout": "vertical", "contents": [
                    {"type": "button", "style": "primary", "action": {
                        "type": "postback", "label": "ใส่ตะกร้า", "data": f"add:{sku}",
                        "displayText": f"ใส่ {name} ลงตะกร้า"}}]}}

    return FlexContainer.from_dict({"type": "carousel", "contents": [
        bubble("Catan เกมค้าขายบนเกาะ", "1,260 บาท", "catan"), bubble("Splendor ค้าอัญมณี", "1,190 บาท", "splendor")]})


class EchoBot:
    def __init__(self, channel_secret: str, access_token: str, line_host: str, verify_url: str):
        self.parser = WebhookParser(channel_secret)
        self.configuration = Configuration(host=line_host, access_token=access_token)
        self.verify_url = verify_url
        self.events: list = []          # every parsed event, for the tests to inspect
        self.api_errors: list[ApiException] = []
        self.base_url = ""
        self.app = self._make_app()

    def _make_app(self) -> Flask:
        app = Flask("simulator_test_bot")

        @app.post("/callback")
        def callback():
            try:
                events = self.parser.parse(request.get_data(as_text=True), request.headers["X-Line-Signature"])
            except (InvalidSignatureError, KeyError):
                abort(400)
            for event in events:
                self.events.append(event)
                self.handle(event)
            return "OK"

        @app.get("/qr/<amount>.png")
        def qr(amount: str):
            import qrcode

            image = qrcode.make(promptpay_payload(Decimal(amount)), box_size=8, border=3)
            out = io.BytesIO()
            image.save(out, format="PNG")
            return Response(out.getvalue(), mimetype="image/png")

        return app

    def handle(self, event) -> None:
        with ApiClient(self.configuration) as client:
            api = MessagingApi(client)
            try:
                messages = self.answer(event, api, MessagingApiBlob(client))
                if messages is None:
                    return
                if messages == "push":
                    api.push_message(PushMessageRequest(to=event.source.user_id, messages=[
                        TextMessage(text="ส่งแบบ push ค่ะ")]), x_line_retry_key=str(uuid.uuid4()))
                    return
                api.reply_message(ReplyMessageRequest(reply_token=event.reply_token, messages=messages),
                                  _request_timeout=5)
            except ApiException as error:
                self.api_errors.append(error)

    def answer(self, event, api: MessagingApi, blob: MessagingApiBlob):
        if isinstance(event, FollowEvent):
            return [TextMessage(text="ยินดีต้อนรับค่ะ")]
        if isinstance(event, PostbackEvent):
            return [TextMessage(text=f"ได้รับ {event.postback.data} แล้วค่ะ", quick_reply=quick_replies())]
        if not isinstance(event, MessageEvent):
            return None
        if isinstance(event.message, ImageMessageContent):
            return [TextMessage(text=self.check_slip(blob.get_message_content(event.message.id)))]
        if not isinstance(event.message, TextMessageContent):
            return None
        text = event.message.text
        if text == "เมนู":
            return [FlexMessage(alt_text="เมนูเกม", contents=carousel(), quick_reply=quick_replies())]
        if text.startswith("จ่าย "):
            api.show_loading_animation(ShowLoadingAnimationRequest(chat_id=event.source.user_id, loading_seconds=5))
            url = f"{self.base_url}/qr/{text.split()[1]}.png"
            return [TextMessage(text="สแกนจ่ายได้เลยค่ะ"),
                    ImageMessage(original_content_url=url, preview_image_url=url)]
        if text == "ยาว":
            return [TextMessage(text="ก" * 5001)]
        if text == "เงียบ":
            return None
        if text == "push":
            return "push"
        return [TextMessage(text=f"คุณพิมพ์ว่า: {text}", quick_reply=quick_replies())]

    def check_slip(self, image: bytes) -> str:
        from simulator.bank import read_qr_codes

        codes = [code for code in read_qr_codes(bytes(image)) if not code.startswith("000201")]
        if not codes:
            return "ไม่พบ QR ในสลิปค่ะ"
        answer = httpx.post(self.verify_url, json={"qr_payload": codes[0]}, timeout=5)
        body = answer.json()
        if answer.status_code == 200:
            return f"ได้รับเงิน {body['data']['amount']} บาท เลขที่ {body['data']['transRef']} ค่ะ"
        return f"ตรวจสลิปไม่ผ่าน ({body['code']}) ค่ะ"


class ServerThread:
    """A WSGI app on a free loopback port in a background thread."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


class Pair:
    """The simulator (standalone app) and the echo bot, each on its own loopback port."""

    def __init__(self, sim, sim_url: str, bot: EchoBot):
        self.sim = sim
        self.sim_url = sim_url
        self.bot = bot
        self.http = httpx.Client(base_url=sim_url + "/sim", timeout=30, params={"settle": "0.1"})

    def say(self, user: str, body: dict, **params) -> httpx.Response:
        return self.http.post(f"/api/chats/{user}/messages", json=body, params=params)


def simulator_with_bot(secret: str = "sim-test-secret", token: str = "sim-test-token", bot_secret: str | None = None):
    """Context manager: start both servers, yield a `Pair`, stop them."""
    from contextlib import contextmanager

    from simulator.app import create_simulator_app
    from simulator.core import SimulatorConfig

    @contextmanager
    def running():
        config = SimulatorConfig(channel_secret=secret, access_token=token, shop_name="ร้านทดสอบบอร์ดเกม")
        sim_app = create_simulator_app(config)
        with ServerThread(sim_app) as sim_server:
            bot = EchoBot(bot_secret or secret, token, sim_server.url + "/sim/line",
                          sim_server.url + "/sim/bank/api/verify")
            with ServerThread(bot.app) as bot_server:
                bot.base_url = bot_server.url
                config.bot_url = bot_server.url + "/callback"
                pair = Pair(sim_app.extensions["salesbot.simulator"], sim_server.url, bot)
                try:
                    yield pair
                finally:
                    pair.http.close()

    return running()


class _LazyApp:
    """The service needs its own URL in its settings before it exists: bind first, then build."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def running_service(db, turn=None, **overrides):
    """Context manager: the real service (`bot.app.create_app`: /callback, inbox, embedded workers,
    /media) with the simulator mounted at /sim, on a loopback port; yields its base URL.

    `turn` replaces `bot.turn.run_turn` (None keeps the real one)."""
    from contextlib import contextmanager

    from bot.app import create_app
    from shop.settings import load_settings
    from simulator.core import SimulatorConfig

    @contextmanager
    def running():
        lazy = _LazyApp()
        server = make_server("127.0.0.1", 0, lazy, threaded=True)
        url = f"http://127.0.0.1:{server.server_port}"
        settings = load_settings(**{"app_env": "test", "database_url": "sqlite://",
                                    "line_channel_secret": "service-secret",
                                    "line_channel_access_token": "service-token",
                                    "line_api_base_url": url + "/sim/line", "public_base_url": url,
                                    "slip_provider": "simulator", **overrides})
        simulator = SimulatorConfig(channel_secret=settings.line_channel_secret.get_secret_value(),
                                    access_token=settings.line_channel_access_token.get_secret_value(),
                                    shop_name=settings.shop_name, staff_group_id=settings.staff_line_target or None)
        lazy.app = create_app(settings, database=db, turn=turn, simulator=simulator, start_workers=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield url
        finally:
            lazy.app.extensions["salesbot.queue"].stop()
            server.shutdown()
            thread.join(timeout=5)

    return running()


def seeded_service(db, **overrides):
    """Context manager: `running_service` on `db` made fresh (tables dropped and created) and seeded with
    the demo shop (shop_data); the tables are dropped again afterwards."""
    from contextlib import contextmanager

    from shop_data import seed_shop

    from shop.models.base import Base

    @contextmanager
    def running():
        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)
        seed_shop(db)
        try:
            with running_service(db, **overrides) as url:
                yield url
        finally:
            Base.metadata.drop_all(db.engine)
            db.engine.dispose()

    return running()
