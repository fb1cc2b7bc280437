"""The parts of the LINE-native features, one at a time: the rich-menu picture and request body (against
line-bot-sdk v3's models), sticker meanings, generated covers and hero URLs, group filtering, and the
simulator's rules for rich menus, quotes and the new message kinds."""
from __future__ import annotations

import io
import json

import pytest
from linebot.v3.messaging import Message, PostbackAction, RichMenuRequest
from PIL import Image
from sqlalchemy import select

from agent import actions
from bot import richmenu, stickers
from bot.groups import group_safe
from bot.product_images import hero_url
from bot.replies import flex
from shop.covers import HEIGHT, WIDTH, Cover, render_cover
from shop.settings import load_settings
from simulator import events as ev
from simulator.core import Simulator, SimulatorConfig
from simulator.rules import LineError, check_messages, check_rich_menu
from webhooks.outbox import with_quote

# ---------------------------------------------------------------- the rich menu


@pytest.mark.parametrize("size", richmenu.SIZES)
def test_the_default_rich_menu_picture_keeps_lines_rules(size):
    data = richmenu.draw_default_image(*size)
    assert len(data) < 1024 * 1024
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.format == "PNG" and picture.size == size
    assert richmenu.check_image(data) == ("image/png", *size)


def test_the_rich_menu_request_is_an_sdk_model_with_six_tiles_covering_the_picture():
    request = richmenu.menu_request()
    body = request.to_dict()
    assert RichMenuRequest.from_dict(body).to_dict() == body          # the SDK reads back what it wrote
    assert body["size"] == {"width": 2500, "height": 1686} and body["selected"] is True
    assert 1 <= len(body["chatBarText"]) <= 14 and len(body["areas"]) == 6
    covered = sum(a["bounds"]["width"] * a["bounds"]["height"] for a in body["areas"])
    assert covered == 2500 * 1686                                      # a 3×2 grid, no gaps, no overlaps
    for area in body["areas"]:
        action = area["action"]
        PostbackAction.from_dict(action)
        assert action["type"] == "postback" and len(action["label"]) <= 20 and action["displayText"]
        understood = actions.decode(action["data"]) or action["data"] in (richmenu.SEARCH_DATA,
                                                                          richmenu.PROMOTIONS_DATA)
        assert understood, action["data"]
    assert check_rich_menu(body).body_errors == []                     # and the simulator accepts it
    half = richmenu.menu_request(2500, 843).to_dict()
    assert max(a["bounds"]["y"] + a["bounds"]["height"] for a in half["areas"]) == 843


def test_a_shops_own_picture_is_checked_against_lines_rules():
    def picture(size, kind="PNG", noise=False):
        image = Image.effect_noise(size, 100).convert("RGB") if noise else Image.new("RGB", size, "#06C755")
        out = io.BytesIO()
        image.save(out, format=kind)
        return out.getvalue()

    assert richmenu.check_image(picture((2500, 843), "JPEG"))[0] == "image/jpeg"
    with pytest.raises(richmenu.RichMenuImageError, match="2500×1686 or 2500×843"):
        richmenu.check_image(picture((1200, 810)))
    with pytest.raises(richmenu.RichMenuImageError, match="JPEG or PNG"):
        richmenu.check_image(picture((2500, 1686), "GIF"))
    with pytest.raises(richmenu.RichMenuImageError, match="at most 1 MB"):
        richmenu.check_image(picture((2500, 1686), noise=True))
    with pytest.raises(richmenu.RichMenuImageError, match="not a JPEG or PNG"):
        richmenu.check_image(b"not a picture")


def test_the_simulator_refuses_rich_menus_and_pictures_line_would_refuse():
    sim = Simulator(SimulatorConfig(channel_secret="s", access_token="t"))
    bad = richmenu.menu_request().to_dict()
    bad["chatBarText"] = "เมนูร้านบอร์ดเกมของเราทั้งหมด"
    bad["areas"][0]["bounds"]["x"] = 2400
    properties = {e["property"] for e in check_rich_menu(bad).body_errors}
    assert properties == {"chatBarText", "areas[0].bounds"}
    menu_id = sim.create_rich_menu(richmenu.menu_request().to_dict())
    with pytest.raises(LineError, match="must upload"):
        sim.set_default_rich_menu(menu_id)
    png = richmenu.draw_default_image()
    with pytest.raises(LineError) as wrong_type:
        sim.upload_rich_menu_image(menu_id, png, "image/gif")
    assert wrong_type.value.status == 415
    with pytest.raises(LineError, match="2500x843; this rich menu is 2500x1686"):
        sim.upload_rich_menu_image(menu_id, richmenu.draw_default_image(2500, 843), "image/png")
    sim.upload_rich_menu_image(menu_id, png, "image/png")
    sim.set_default_rich_menu(menu_id)
    assert sim.default_rich_menu_shown().rich_menu_id == menu_id


# ---------------------------------------------------------------- stickers

@pytest.mark.parametrize("keywords, meaning", [
    (["Brown", "Thanks", "Grateful"], "thanks"), (["OK", "Cony"], "ok"), (["thumbs up"], "ok"),
    (["No", "OK"], "no"), (["Sad", "Crying"], "sad"), (["Hello"], "hello"), (["Good_Night"], "bye"),
    (["ขอบคุณ"], "thanks"), (["Moon", "Cony"], None), ([], None)])
def test_sticker_keywords_give_the_meaning(keywords, meaning):
    assert stickers.meaning(keywords) == meaning
    reply = stickers.reply_text(meaning, "มานี")
    assert "ค่ะ" in reply or "คะ" in reply                  # the shop's polite voice
    assert ("คุณมานี" in reply) == (meaning == "hello")      # the name only where it greets


# ---------------------------------------------------------------- product pictures

PRODUCT = {"sku": "SPL-TH", "name_th": "สเพลนเดอร์", "name_en": "Splendor", "min_players": 2, "max_players": 4,
           "min_minutes": 30, "max_minutes": 30, "price_satang": 126000, "stock": 5}


def test_a_generated_cover_is_a_4_by_3_jpeg_within_lines_flex_image_limits():
    data = render_cover(Cover.of(PRODUCT))
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG" and image.size == (WIDTH, HEIGHT) == (1024, 768)
    assert len(data) < 1024 * 1024
    assert Cover.of(PRODUCT).facts() == ["2-4 คน", "30 นาที"]
    renamed = Cover.of({**PRODUCT, "name_th": "สเพลนเดอร์ ฉบับไทย"})
    assert renamed.version != Cover.of(PRODUCT).version and renamed.colour == Cover.of(PRODUCT).colour


def test_production_never_sends_a_picture_that_is_not_https():
    production = load_settings(app_env="production", public_base_url="https://shop.example",
                               line_channel_secret="0123456789abcdef0123456789abcdef",  # LINE's 32 characters
                               line_channel_access_token="t", slip_provider="none", secret_key="k" * 32,
                               database_url="sqlite://")
    for image_url in ("", "http://shop.example/splendor.jpg", "ftp://x/y.jpg"):
        url = hero_url(production, {**PRODUCT, "image_url": image_url})
        assert url.startswith("https://shop.example/media/covers/") and url.endswith("/SPL-TH.jpg")
    photo = "https://cdn.shop.example/splendor.jpg"
    assert hero_url(production, {**PRODUCT, "image_url": photo}) == photo
    bubble = flex.product_bubble(PRODUCT, hero=lambda product: hero_url(production, product))
    assert bubble["hero"]["aspectRatio"] == "4:3" and bubble["hero"]["size"] == "full"
    Message.from_dict(flex.product_carousel([PRODUCT, {**PRODUCT, "sku": "AZUL"}],
                                            hero=lambda p: hero_url(production, p)))


# ---------------------------------------------------------------- groups: the outgoing filter

def test_the_group_filter_lets_product_cards_through_and_nothing_personal():
    settings = load_settings(app_env="test", database_url="sqlite://")
    card = flex.product_carousel([PRODUCT])
    cart = flex.cart_bubble({"items": [{"sku": "SPL-TH", "name": "สเพลนเดอร์", "quantity": 1,
                                        "unit_price_satang": 126000, "line_total_satang": 126000}],
                             "total_satang": 126000})
    order = {"number": "A-1", "items": [], "total_satang": 126000, "fulfilment": "delivery",
             "ship_name": "สมชาย ใจดี", "ship_phone": "0812345678", "ship_address": "99/1 ถนนสุขุมวิท"}
    qr = {"type": "image", "originalContentUrl": "https://x/qr.png", "previewImageUrl": "https://x/qr.png"}
    text = {"type": "text", "text": "มีค่ะ", "quickReply": {"items": [
        {"type": "action", "action": {"type": "postback", "label": "ดูตะกร้า", "data": "a=cart"}},
        {"type": "action", "action": {"type": "message", "label": "เกมปาร์ตี้", "text": "เกมปาร์ตี้"}}]}}
    kept = group_safe([text, card, cart, flex.order_summary(order), flex.receipt(order), qr], settings)
    assert [m["type"] for m in kept] == ["text", "flex"] and kept[1] == card
    assert [i["action"]["label"] for i in kept[0]["quickReply"]["items"]] == ["เกมปาร์ตี้"]
    assert "สมชาย" not in json.dumps(kept, ensure_ascii=False)


# ---------------------------------------------------------------- quotes and the new message kinds

def test_a_late_push_quotes_the_customers_message_and_the_simulator_checks_quotes():
    event = ev.text_event(ev.new_user_id(), "มี Catan ไหม")
    messages = [{"type": "flex", "altText": "x", "contents": {}}, {"type": "text", "text": "มีค่ะ"}]
    quoted = with_quote(messages, event)
    assert quoted[1]["quoteToken"] == event["message"]["quoteToken"] and "quoteToken" not in quoted[0]
    assert with_quote(messages, ev.postback_event(ev.new_user_id(), "a=cart")) == messages

    sim = Simulator(SimulatorConfig(channel_secret="s", access_token="t", bot_url="http://127.0.0.1:9/callback"))
    customer = sim.add_customer("มานี")
    said = ev.text_event(customer.user_id, "มี Catan ไหม")
    sim.send(customer.user_id, said, {"message": {"type": "text", "text": "มี Catan ไหม"}}, "http://127.0.0.1:9/x")
    sim.push({"to": customer.user_id, "messages": with_quote([{"type": "text", "text": "มีค่ะ"}], said)}, None)
    [answer] = [e for e in sim.transcript(customer.user_id) if e["from"] == "bot"]
    assert answer["quoted"]["message"]["text"] == "มี Catan ไหม"
    with pytest.raises(LineError, match="1 error"):
        sim.push({"to": customer.user_id, "messages": [{"type": "text", "text": "x", "quoteToken": "made-up"}]}, None)


def test_the_simulator_checks_sticker_and_location_messages_the_bot_sends():
    report = check_messages([{"type": "sticker", "packageId": "446"},
                             {"type": "location", "title": "ร้าน", "address": "", "latitude": "13.7", "longitude": 100.5}])
    assert {e["property"] for e in report.body_errors} == {"messages[0].stickerId", "messages[1].address",
                                                           "messages[1].latitude"}
    ok = check_messages([{"type": "sticker", "packageId": "446", "stickerId": "1988"}])
    assert ok.body_errors == []


def test_the_richmenu_command_refuses_a_picture_line_would_refuse(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from bot.cli import main

    picture = tmp_path / "menu.png"
    Image.new("RGB", (1200, 800), "#06C755").save(picture)
    monkeypatch.delenv("LINE_CHANNEL_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    runner = CliRunner()
    no_token = runner.invoke(main, ["line", "richmenu", "install"])
    assert no_token.exit_code != 0 and "LINE_CHANNEL_ACCESS_TOKEN is not set" in no_token.output
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", "t")
    monkeypatch.setenv("LINE_API_BASE_URL", "http://127.0.0.1:9")   # never reached: the picture is refused first
    wrong = runner.invoke(main, ["line", "richmenu", "install", "--image", str(picture)])
    assert wrong.exit_code != 0 and "1200×800" in wrong.output and "2500×1686 or 2500×843" in wrong.output


# ---------------------------------------------------------------- profiles: never in the way of the answer

def test_a_slow_or_failing_profile_call_never_holds_the_answer(db):
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from bot import profiles
    from shop.customers import get_or_create_customer
    from shop.models import Customer

    class SlowProfiles(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if "Ufail" in self.path:
                self.send_response(404)
                body = b'{"message": "Not found"}'
            else:
                time.sleep(1.0)
                self.send_response(200)
                body = json.dumps({"displayName": "มานี มีนา", "userId": "Uslow"}).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowProfiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = load_settings(app_env="test", database_url="sqlite://", line_channel_access_token="t",
                             line_api_base_url=f"http://127.0.0.1:{server.server_port}")
    try:
        with db.session() as session:
            get_or_create_customer(session, "Uslow")
            get_or_create_customer(session, "Ufail")
        started = time.monotonic()
        assert profiles.display_name(db, settings, "Uslow", cached="", fetched_at=None, wait=0.2) == ""
        assert time.monotonic() - started < 0.6          # the greeting went without the name
        started = time.monotonic()
        assert profiles.display_name(db, settings, "Ufail", cached="", fetched_at=None, wait=0.8) == ""
        assert time.monotonic() - started < 0.6          # a refusal returns at once
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:               # the slow call finishes in the background
            with db.session() as session:
                slow = session.scalar(select(Customer).where(Customer.line_user_id == "Uslow"))
                if slow.profile_fetched_at is not None:
                    break
            time.sleep(0.05)
        assert slow.display_name == "มานี มีนา"
        # once read, the name is used without another call until it is older than the refresh age
        assert profiles.display_name(db, settings, "Uslow", cached=slow.display_name,
                                     fetched_at=slow.profile_fetched_at) == "มานี มีนา"
    finally:
        server.shutdown()
