"""LINE-native behaviour through the simulator's JSON API, against the real service (SQLite): stickers,
locations, audio/video/files, product pictures, profiles, read receipts, the rich menu, and group
chats that never show anything personal.

Assertions are on behaviour: database state, message types, postback actions, key Thai phrases.
"""
from __future__ import annotations

import io
import uuid

import httpx
import pytest
from PIL import Image
from shop_data import DELIVERY
from simulator_bot import seeded_service
from sqlalchemy import select, update

import shop.models  # noqa: F401 - registers every table
from bot.commands import line as line_commands
from shop.db import Database
from shop.models import Customer, Order, Product
from shop.settings import load_settings
from simulator.client import Answer, SimulatorClient
from webhooks.line_api import LineApi

LOCATION_ADDRESS = "88/8 ถนนพระราม 9 แขวงห้วยขวาง เขตห้วยขวาง กรุงเทพมหานคร 10310"


class Shop:
    """The running service: its URL, database and a simulator client."""

    def __init__(self, url: str, db: Database, sim: SimulatorClient):
        self.url, self.db, self.sim = url, db, sim

    def settings(self):
        return load_settings(app_env="test", database_url="sqlite://", line_channel_secret="service-secret",
                             line_channel_access_token="service-token", line_api_base_url=self.url + "/sim/line",
                             public_base_url=self.url, slip_provider="simulator")

    def customer(self, user_id: str) -> Customer | None:
        with self.db.session() as session:
            customer = session.scalar(select(Customer).where(Customer.line_user_id == user_id))
            session.expunge_all()
            return customer

    def orders(self, user_id: str) -> list[Order]:
        with self.db.session() as session:
            rows = list(session.scalars(select(Order).join(Customer).where(Customer.line_user_id == user_id)))
            session.expunge_all()
            return rows


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('line') / 'shop.db'}")
    with seeded_service(db) as url, SimulatorClient(url, timeout=20, settle=0.1) as sim:
        yield Shop(url, db, sim)


@pytest.fixture
def shop(service: Shop) -> Shop:
    service.sim.reset()   # the shop's rows stay: every test speaks as new LINE users
    return service


def new_user() -> str:
    return "U" + uuid.uuid4().hex


def text_of(answer: Answer) -> str:
    return "\n".join(answer.texts)


def button(answer: Answer, data_prefix: str) -> dict:
    for action in answer.postbacks():
        if action["data"].startswith(data_prefix):
            return action
    raise AssertionError(f"no {data_prefix} button in {[a['data'] for a in answer.postbacks()]}")


def delivery_checkout_until_address(shop: Shop, user: str) -> Answer:
    """Add a game, check out for delivery, give name and phone: the bot now asks for the address."""
    found = shop.sim.say(user, "มี Splendor ไหมคะ")
    added = shop.sim.click(user, button(found, "a=add&sku=SPL-TH"))
    checkout = shop.sim.click(user, button(added, "a=checkout"))
    shop.sim.click(user, button(checkout, "a=delivery"))
    shop.sim.say(user, DELIVERY["name"])
    asked = shop.sim.say(user, DELIVERY["phone"])
    assert "ที่อยู่" in text_of(asked), asked.texts
    return asked


# ---------------------------------------------------------------- stickers

def test_a_thank_you_sticker_gets_a_kind_answer(shop):
    user = new_user()
    answer = shop.sim.sticker(user, "Thanks", "Grateful", "Brown")
    assert answer.texts and "ยินดีค่ะ" in answer.texts[0]
    assert "รับได้เฉพาะ" not in text_of(answer) and "ไม่เข้าใจ" not in text_of(answer)
    assert answer.messages[-1].get("quickReply")


def test_an_ok_sticker_confirms_the_order_summary(shop):
    user = new_user()
    found = shop.sim.say(user, "มี Splendor ไหมคะ")
    added = shop.sim.click(user, button(found, "a=add&sku=SPL-TH"))
    checkout = shop.sim.click(user, button(added, "a=checkout"))
    summary = shop.sim.click(user, button(checkout, "a=pickup"))
    assert any(m["type"] == "flex" and "สรุปคำสั่งซื้อ" in m["altText"] for m in summary.messages)
    assert not shop.orders(user)
    confirmed = shop.sim.sticker(user, "OK", "Okay", "Sure")
    [order] = shop.orders(user)
    assert order.status == "awaiting_payment" and order.number in text_of(confirmed)
    assert confirmed.messages[-1]["type"] == "image"   # the PromptPay QR


def test_a_message_sticker_is_read_as_its_words(shop):
    answer = shop.sim.send(new_user(), {"sticker": {"packageId": "789", "stickerId": "10855", "keywords": ["Hello"],
                                                    "stickerResourceType": "MESSAGE", "text": "มี Splendor ไหมคะ"}})
    assert any(m["type"] == "flex" and "สเพลนเดอร์" in m["altText"] for m in answer.messages)


def test_an_ok_sticker_without_a_question_is_just_acknowledged(shop):
    user = new_user()
    answer = shop.sim.sticker(user, "OK")
    assert "รับทราบ" in text_of(answer) and not shop.orders(user)


# ---------------------------------------------------------------- locations

def test_a_location_during_delivery_checkout_fills_the_address_after_confirmation(shop):
    user = new_user()
    delivery_checkout_until_address(shop, user)
    proposed = shop.sim.location(user, LOCATION_ADDRESS)
    assert LOCATION_ADDRESS in text_of(proposed) and "ใช้ที่อยู่นี้" in text_of(proposed)
    assert not shop.customer(user).ship_address   # proposed only: nothing kept before the customer says so
    summary = shop.sim.click(user, button(proposed, "loc=use"))
    [card] = [m for m in summary.messages if m["type"] == "flex"]
    assert "สรุปคำสั่งซื้อ" in card["altText"] and "10310" in str(card["contents"])
    assert shop.customer(user).ship_address == LOCATION_ADDRESS
    created = shop.sim.click(user, button(summary, "a=confirm"))
    [order] = shop.orders(user)
    assert order.ship_address == LOCATION_ADDRESS and order.number in text_of(created)


def test_an_ok_sticker_accepts_a_proposed_address_even_on_an_order_summary(shop):
    user = new_user()
    delivery_checkout_until_address(shop, user)
    summary = shop.sim.say(user, DELIVERY["address"])
    assert any(m["type"] == "flex" for m in summary.messages) and not shop.orders(user)
    shop.sim.location(user, LOCATION_ADDRESS)          # a new address for the shown summary
    again = shop.sim.sticker(user, "OK")
    assert not shop.orders(user)                        # the OK was for the address, not the order
    assert shop.customer(user).ship_address == LOCATION_ADDRESS and "10310" in str(again.messages)


def test_a_location_proposal_can_be_declined(shop):
    user = new_user()
    delivery_checkout_until_address(shop, user)
    proposed = shop.sim.location(user, LOCATION_ADDRESS)
    declined = shop.sim.click(user, button(proposed, "loc=type"))
    assert "พิมพ์ที่อยู่" in text_of(declined) and not shop.customer(user).ship_address
    summary = shop.sim.say(user, DELIVERY["address"])
    assert any(m["type"] == "flex" for m in summary.messages)
    assert "10110" in shop.customer(user).ship_address


def test_a_location_outside_a_checkout_is_thanked(shop):
    answer = shop.sim.location(new_user(), LOCATION_ADDRESS)
    assert "ขอบคุณที่ส่งตำแหน่ง" in text_of(answer) and "ใช้ที่อยู่นี้" not in text_of(answer)


# ---------------------------------------------------------------- audio, video, files

@pytest.mark.parametrize("kind, body", [("audio", {"duration": 4000}), ("video", {"duration": 9000}),
                                        ("file", {"fileName": "slip.pdf", "fileSize": 48213})])
def test_audio_video_and_files_get_a_polite_answer(shop, kind, body):
    answer = shop.sim.send(new_user(), {kind: body})
    text = text_of(answer)
    assert "ขออภัยค่ะ" in text and "พิมพ์ข้อความ" in text and "รับได้เฉพาะ" not in text
    if kind == "file":
        assert "รูปภาพ" in text   # a slip sent as a PDF: ask for a picture


# ---------------------------------------------------------------- product pictures

def _heroes(answer: Answer) -> list[dict]:
    heroes = []
    for message in answer.messages:
        if message["type"] != "flex":
            continue
        contents = message["contents"]
        for bubble in contents.get("contents", [contents]):
            heroes.append(bubble.get("hero"))
    return heroes


def test_every_product_card_has_a_hero_picture_served_from_media(shop):
    answer = shop.sim.say(new_user(), "แนะนำเกมหน่อย")
    heroes = _heroes(answer)
    assert len(heroes) >= 2 and all(heroes)
    assert {hero["aspectRatio"] for hero in heroes} == {"4:3"}
    picture = httpx.get(heroes[0]["url"], timeout=10)
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(picture.content)) as image:
        assert image.size == (1024, 768) and len(picture.content) < 1024 * 1024


def test_a_shop_photo_is_the_hero_when_it_is_https(shop):
    photo = "https://shop.example/images/azul.jpg"
    with shop.db.session() as session:
        session.execute(update(Product).where(Product.sku == "AZUL").values(image_url=photo))
        session.execute(update(Product).where(Product.sku == "SPL-TH").values(image_url="http://shop.example/s.jpg"))
    try:
        azul = _heroes(shop.sim.say(new_user(), "มีอาซูลไหมคะ"))
        assert azul[0]["url"] == photo
        splendor = _heroes(shop.sim.say(new_user(), "มี Splendor ไหมคะ"))
        assert all(hero["url"].startswith(shop.url + "/media/covers/") for hero in splendor)  # never the http one
        # development: the simulator shows the product's cover instead of the unreachable photo
        cover = httpx.get(shop.url + "/media/covers/by-photo", params={"url": photo}, timeout=10)
        assert cover.status_code == 200 and cover.headers["content-type"] == "image/jpeg"
    finally:
        with shop.db.session() as session:
            session.execute(update(Product).values(image_url=""))


# ---------------------------------------------------------------- profiles and read receipts

def test_follow_greets_by_display_name_and_keeps_it(shop):
    answer = shop.sim.follow("มานี มีนา")   # a chat alias: the simulated customer's display name
    assert answer.texts[0].startswith("สวัสดีค่ะ คุณมานี มีนา")
    [chat] = [c for c in shop.sim.http.get("/chats").json()["chats"] if c["display_name"] == "มานี มีนา"]
    customer = shop.customer(chat["user_id"])
    assert customer.display_name == "มานี มีนา" and customer.profile_fetched_at is not None


def test_the_customers_message_is_marked_read(shop):
    user = new_user()
    shop.sim.say(user, "สวัสดีค่ะ")
    [entry] = [e for e in shop.sim.transcript(user) if e["from"] == "user"]
    assert entry["read"] is True
    log = shop.sim.http.get("/log").json()["entries"]
    assert any(e["summary"] == "mark as read" for e in log)


# ---------------------------------------------------------------- the rich menu

def test_rich_menu_install_status_remove_and_a_tap(shop):
    api = LineApi(shop.settings())
    try:
        first = line_commands.install(api)
        second = line_commands.install(api)   # a reinstall replaces the shop's menu
        status = line_commands.status(api)
        assert status["default"] == second and [m["richMenuId"] for m in status["menus"]] == [second]
        assert first != second
        menu = shop.sim.rich_menu()
        assert menu["richMenuId"] == second and len(menu["areas"]) == 6
        labels = {area["action"]["label"]: area["action"] for area in menu["areas"]}
        assert set(labels) == {"แนะนำเกม", "ค้นหาเกม", "ตะกร้า", "สถานะคำสั่งซื้อ", "โปรโมชัน", "คุยกับแอดมิน"}
        user = new_user()
        recommended = shop.sim.click(user, labels["แนะนำเกม"])
        assert any(m["type"] == "flex" for m in recommended.messages)
        cart = shop.sim.click(user, labels["ตะกร้า"])
        assert "ตะกร้ายังว่าง" in text_of(cart)
        search = shop.sim.click(user, labels["ค้นหาเกม"])
        assert "พิมพ์ชื่อเกม" in text_of(search) and labels["ค้นหาเกม"]["inputOption"] == "openKeyboard"
        promotions = shop.sim.click(user, labels["โปรโมชัน"])
        skus = {b["footer"]["contents"][-1]["action"]["data"].split("sku=")[1]
                for m in promotions.messages if m["type"] == "flex"
                for b in m["contents"].get("contents", [m["contents"]])}
        assert skus == {"SPL-TH", "TTR"}   # the two games with a sale price below the list price
        assert line_commands.remove(api) == [second] and shop.sim.rich_menu() is None
    finally:
        api.close()


# ---------------------------------------------------------------- groups and rooms

def test_in_a_group_a_cart_request_gets_the_invitation_and_nothing_personal(shop):
    alice, bob = new_user(), new_user()
    # alice has a delivery order in her one-to-one chat: name, phone, address, a PromptPay QR
    delivery_checkout_until_address(shop, alice)
    summary = shop.sim.say(alice, DELIVERY["address"])
    shop.sim.click(alice, button(summary, "a=confirm"))
    assert shop.orders(alice)
    group = shop.sim.group("ก๊วนบอร์ดเกม", [alice, bob])["chat_id"]

    answers = [shop.sim.group_say(group, alice, "ขอดูตะกร้าหน่อยค่ะ"),
               shop.sim.group_say(group, alice, "สถานะคำสั่งซื้อของฉันเป็นยังไงบ้าง"),
               shop.sim.group_say(group, alice, "ขอ QR จ่ายเงินอีกทีค่ะ"),
               shop.sim.group_send(group, alice, {"postback": {"data": "a=cart"}}),
               shop.sim.group_send(group, alice, {"postback": {"data": "a=pay"}}),
               shop.sim.group_send(group, alice, {"postback": {"data": "a=checkout"}})]
    for answer in answers:
        assert "แชทส่วนตัว" in text_of(answer), answer.messages
    said_in_group = [e["message"] for e in shop.sim.transcript(group) if e["from"] == "bot"]
    assert said_in_group and {m["type"] for m in said_in_group} == {"text"}
    everything = str(said_in_group)
    for private in (DELIVERY["name"], DELIVERY["phone"], "0812345678", "10110", "ถนนสุขุมวิท",
                    shop.orders(alice)[0].number):
        assert private not in everything
    assert "ตะกร้ายังว่าง" not in everything   # not even a (false) statement about her cart


def test_in_a_group_catalogue_questions_are_answered(shop):
    alice, bob = new_user(), new_user()
    group = shop.sim.group("เพื่อนเล่นเกม", [alice, bob])["chat_id"]
    found = shop.sim.group_say(group, bob, "มี Splendor ไหมคะ")
    assert any(m["type"] == "flex" for m in found.messages)
    chips = [item["action"] for m in found.messages for item in (m.get("quickReply") or {}).get("items", [])]
    assert not any(a.get("data", "").startswith(("a=cart", "a=status", "a=staff")) for a in chips)
    added = shop.sim.group_send(group, bob, {"postback": {"data": "a=add&sku=SPL-TH&q=1"}})
    assert "แชทส่วนตัว" in text_of(added)
    assert shop.customer(bob) is None   # nobody's cart was touched: no customer even exists for bob


def test_group_join_member_joined_and_leave(shop):
    alice, carol = new_user(), new_user()
    group = shop.sim.group("ก๊วนใหม่", [alice], joined=False)["chat_id"]
    joined = shop.sim.group_event(group, "join")
    assert "ขอบคุณที่ชวน" in text_of(joined)
    welcome = shop.sim.group_event(group, "members", {"join": [carol]})
    assert "ยินดีต้อนรับสมาชิกใหม่" in text_of(welcome)
    left = shop.sim.group_event(group, "leave")
    assert left.messages == [] and left.raw["webhooks"][0]["status"] == 200
    chatter = shop.sim.http.post(f"/groups/{group}/messages", json={"from": alice, "text": "เย็นนี้ไปไหนกัน"})
    assert chatter.status_code == 409   # the bot left: nothing reaches it any more
