"""The rich menu and product pictures in the chat page, against the real service (headless Debian chromium).

Set SIM_SCREENSHOTS=docs/img to refresh the README screenshot from this run.
"""
from __future__ import annotations

import pytest
from shop_data import seed_shop
from simulator_bot import running_service
from sqlalchemy import update

from bot.commands import line as line_commands
from shop.models import Product
from shop.settings import load_settings
from webhooks.line_api import LineApi

pytestmark = pytest.mark.browser

PHOTO = "https://shop.example/images/azul.jpg"   # not reachable here: the page shows the cover instead


def _install_rich_menu(url: str) -> str:
    settings = load_settings(app_env="test", database_url="sqlite://", line_channel_secret="service-secret",
                             line_channel_access_token="service-token", line_api_base_url=url + "/sim/line",
                             public_base_url=url)
    api = LineApi(settings)
    try:
        return line_commands.install(api)
    finally:
        api.close()


def _loaded(locator) -> bool:
    return locator.evaluate("img => img.complete && img.naturalWidth > 0")


def test_rich_menu_taps_and_product_pictures(page, db, shots):
    from playwright.sync_api import expect

    seed_shop(db)
    with db.session() as session:
        session.execute(update(Product).where(Product.sku == "AZUL").values(image_url=PHOTO))
    with running_service(db) as url:
        _install_rich_menu(url)
        page.goto(url + "/sim/")
        menu = page.locator("#rich-menu")
        expect(menu).to_be_visible()
        expect(menu.locator(".rich-menu-area")).to_have_count(6)
        expect(page.locator("#rich-menu-bar")).to_have_text("เมนูร้าน ▾")
        assert _loaded(menu.locator("img"))

        menu.locator('[data-postback="a=cart"]').click()
        expect(page.locator(".row.user .bubble.text").last).to_have_text("ดูตะกร้าสินค้า")
        expect(page.locator(".row.bot .bubble.text").last).to_contain_text("ตะกร้ายังว่าง")

        menu.locator('[data-postback="a=recommend"]').click()
        carousel = page.locator(".flex-carousel").last
        expect(carousel.locator(".flex-bubble").nth(1)).to_be_visible(timeout=20_000)
        bubbles = carousel.locator(".flex-bubble").count()
        heroes = carousel.locator(".flex-hero img")
        expect(heroes).to_have_count(bubbles)   # every card has its picture
        for index in range(bubbles):
            expect(heroes.nth(index)).to_have_js_property("complete", True)
            assert _loaded(heroes.nth(index))
        boxes = [carousel.locator(".flex-hero").nth(i).bounding_box() for i in range(2)]
        assert abs(boxes[0]["height"] - boxes[1]["height"]) < 1 and abs(boxes[0]["width"] / boxes[0]["height"] - 4 / 3) < 0.02

        menu.locator('[data-postback="rm=search"]').click()
        expect(page.locator("#text-input")).to_be_focused()
        expect(page.locator(".row.bot .bubble.text").last).to_contain_text("พิมพ์ชื่อเกม")
        cards = page.locator(".flex-message").count()
        page.fill("#text-input", "มีอาซูลไหมคะ")
        page.press("#text-input", "Enter")
        expect(page.locator(".flex-message")).to_have_count(cards + 1, timeout=20_000)
        azul = page.locator(".flex-message").last.locator(".flex-hero img")
        expect(azul).to_have_attribute("data-url", PHOTO)
        expect(azul).to_have_class("substituted")
        expect(azul).to_have_js_property("complete", True)
        assert _loaded(azul) and "/media/covers/by-photo" in azul.get_attribute("src")
        page.screenshot(path=str(shots / "simulator-rich-menu.png"))


def test_stickers_locations_and_a_group_chat_in_the_page(page, db):
    from playwright.sync_api import expect

    seed_shop(db)
    with running_service(db) as url:
        page.goto(url + "/sim/")
        expect(page.locator(".customer.active")).to_have_count(1)
        page.locator("#sticker-button").click()
        page.locator('#sticker-picker button[data-keywords^="Thanks"]').click()
        expect(page.locator(".row.user .bubble.sticker small").last).to_contain_text("Thanks")
        expect(page.locator(".row.bot .bubble.text").last).to_contain_text("ยินดีค่ะ")
        expect(page.locator(".row.user .meta .read").last).to_be_visible()   # marked read by the bot

        page.once("dialog", lambda dialog: dialog.accept(dialog.default_value))
        page.locator("#location-button").click()
        expect(page.locator(".row.user .bubble.location").last).to_contain_text("ถนนพระราม 9")
        expect(page.locator(".row.bot .bubble.text").last).to_contain_text("ขอบคุณที่ส่งตำแหน่ง")

        page.select_option("#media-button", "audio")
        expect(page.locator(".row.bot .bubble.text").last).to_contain_text("ข้อความเสียง")

        page.once("dialog", lambda dialog: dialog.accept("ก๊วนบอร์ดเกม"))
        page.locator("#add-group").click()
        expect(page.locator("#group-list .customer.active")).to_have_count(1)
        expect(page.locator("#rich-menu")).to_be_hidden()
        page.locator("#group-join").click()
        expect(page.locator(".row.bot .bubble.text").last).to_contain_text("ขอบคุณที่ชวน")
        expect(page.locator("#sender option")).to_have_count(2)   # two simulated customers by now
        page.fill("#text-input", "ขอดูตะกร้าหน่อย")
        page.press("#text-input", "Enter")
        expect(page.locator(".row.user .sender-name").last).to_be_visible()
        expect(page.locator(".row.bot .bubble.text").last).to_contain_text("แชทส่วนตัว")
