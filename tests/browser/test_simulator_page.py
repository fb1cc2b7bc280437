"""The chat page in headless Chromium (Debian's /usr/bin/chromium; Playwright never downloads a browser).

Set SIM_SCREENSHOTS=docs/img to refresh the README screenshots from this run.
"""
from __future__ import annotations

import pytest
from simulator_bot import simulator_with_bot

pytestmark = pytest.mark.browser


def send_text(page, text: str) -> None:
    page.fill("#text-input", text)
    page.press("#text-input", "Enter")


def test_text_quick_reply_flex_and_postback(page, shots):
    from playwright.sync_api import expect

    with simulator_with_bot() as pair:
        page.goto(pair.sim_url + "/sim/")
        expect(page.locator(".customer.active")).to_have_count(1)

        send_text(page, "สวัสดีค่ะ มีเกมอะไรแนะนำบ้าง")
        expect(page.locator(".row.user .bubble.text").last).to_have_text("สวัสดีค่ะ มีเกมอะไรแนะนำบ้าง")
        expect(page.locator(".row.bot .bubble.text").last).to_have_text("คุณพิมพ์ว่า: สวัสดีค่ะ มีเกมอะไรแนะนำบ้าง")

        page.locator(".quick-replies .chip", has_text="ดูเมนู").click()
        carousel = page.locator(".flex-carousel").last
        expect(carousel.locator(".flex-bubble")).to_have_count(2)
        expect(carousel.locator(".flex-text").first).to_have_text("Catan เกมค้าขายบนเกาะ")
        first_bubble = carousel.locator(".flex-bubble").first.bounding_box()
        second_bubble = carousel.locator(".flex-bubble").nth(1).bounding_box()
        assert second_bubble["x"] > first_bubble["x"] + first_bubble["width"] - 1  # side by side
        assert 250 <= first_bubble["width"] <= 270  # kilo bubble

        expect(carousel.locator('[data-postback="add:splendor"]')).to_have_count(1)
        carousel.locator(".flex-button", has_text="ใส่ตะกร้า").first.click()
        expect(page.locator(".row.user .bubble.text").last).to_have_text("ใส่ Catan เกมค้าขายบนเกาะ ลงตะกร้า")
        expect(page.locator(".row.bot .bubble.text").last).to_have_text("ได้รับ add:catan แล้วค่ะ")
        page.locator(".quick-replies .chip", has_text="ตะกร้า").click()
        expect(page.locator(".row.bot .bubble.text").last).to_have_text("ได้รับ cart แล้วค่ะ")

        raw = page.locator(".row.bot .raw-toggle").last
        raw.click()
        expect(page.locator(".row.bot .raw-json").last).to_contain_text('"type": "text"')
        expect(page.locator("#log-list .log-webhook").first).to_be_visible()
        page.locator(".row.bot .raw-toggle").last.click()
        page.screenshot(path=str(shots / "simulator-chat.png"))

        send_text(page, "ยาว")
        expect(page.locator(".line-error").last).to_contain_text("Length must be between 0 and 5000")


def test_pay_with_the_simulated_bank(page, shots):
    from playwright.sync_api import expect

    with simulator_with_bot() as pair:
        page.goto(pair.sim_url + "/sim/")
        send_text(page, "จ่าย 1260")
        pay = page.locator(".pay-button").last
        expect(pay).to_contain_text("1,260.00")
        pay.click()
        expect(page.locator("#pay-dialog")).to_be_visible()
        expect(page.locator("#pay-target")).to_have_text("0812345678")
        expect(page.locator("#pay-amount")).to_have_value("1260.00")
        page.screenshot(path=str(shots / "simulator-pay.png"))
        page.locator("#pay-submit").click()
        expect(page.locator("#pay-dialog")).to_be_hidden()
        expect(page.locator(".row.user .bubble.image img").last).to_be_visible()
        expect(page.locator(".row.bot .bubble.text").last).to_contain_text("ได้รับเงิน 1260.00 บาท")
        page.locator(".row.user .bubble.image img").last.evaluate("img => img.complete")
        page.screenshot(path=str(shots / "simulator-slip.png"))
        transfer = pair.http.get("/api/bank/transfers").json()["transfers"][0]
        assert transfer["mode"] == "normal" and transfer["amount_satang"] == 126_000

        # the same slip again, chosen in the dialog: the bank still knows it, the bot decides
        page.locator(".pay-button").last.click()
        page.select_option("#pay-mode", "unknown_ref")
        page.locator("#pay-submit").click()
        expect(page.locator(".row.bot .bubble.text").last).to_have_text("ตรวจสลิปไม่ผ่าน (not_found) ค่ะ")


SAMPLE_PRODUCTS = [
    {"sku": "CATAN-TH", "name_th": "คาทาน", "name_en": "Catan", "price_satang": 126_000,
     "list_price_satang": 139_000, "stock": 5, "min_players": 3, "max_players": 4},
    {"sku": "SPLENDOR", "name_th": "สเพลนเดอร์", "name_en": "Splendor", "price_satang": 119_000, "stock": 2,
     "min_players": 2, "max_players": 4},
    {"sku": "AZUL", "name_th": "อาซูล", "name_en": "Azul", "price_satang": 139_000, "stock": 0},
]


def test_the_shops_own_flex_cards_pass_lines_rules_and_render(page, shots):
    """The bot's real card builders, pushed through the platform API: accepted, and drawn as cards."""
    from playwright.sync_api import expect

    from bot.replies.flex import cart_bubble, product_carousel

    cart = {"items": [{"sku": "CATAN-TH", "name": "คาทาน", "quantity": 1, "unit_price_satang": 126_000,
                       "line_total_satang": 126_000}], "total_satang": 126_000}
    with simulator_with_bot() as pair:
        user = pair.http.post("/api/chats", json={"display_name": "มานี มีนา"}).json()["user_id"]
        pushed = pair.http.post("/line/v2/bot/message/push", headers={"Authorization": "Bearer sim-test-token"},
                                json={"to": user, "messages": [
                                    {"type": "text", "text": "ทางร้านแนะนำเกมเหล่านี้ค่ะ เล่นได้ 3-4 คน"},
                                    product_carousel(SAMPLE_PRODUCTS), cart_bubble(cart)]})
        assert pushed.status_code == 200, pushed.text
        page.goto(pair.sim_url + "/sim/")
        page.locator(".customer", has_text="มานี มีนา").click()
        carousel = page.locator(".flex-carousel")
        expect(carousel.locator(".flex-bubble")).to_have_count(3)
        expect(carousel.locator(".flex-button", has_text="ใส่ตะกร้า")).to_have_count(2)  # Azul is out of stock
        expect(page.locator(".flex-bubble", has_text="ตะกร้าสินค้า").locator(".flex-button", has_text="ชำระเงิน")) \
            .to_be_visible()
        page.screenshot(path=str(shots / "simulator-cards.png"))
        carousel.locator(".flex-button", has_text="ใส่ตะกร้า").first.click()
        expect(page.locator(".row.user .bubble.text").last).to_have_text("ใส่ Catan ลงตะกร้า")


def test_upload_follow_add_customer_and_send_again(page, tmp_path):
    from PIL import Image
    from playwright.sync_api import expect

    box_photo = tmp_path / "box.png"
    Image.new("RGB", (320, 240), (180, 90, 40)).save(box_photo)
    with simulator_with_bot() as pair:
        page.goto(pair.sim_url + "/sim/")
        page.locator("#follow").click()
        expect(page.locator(".row.system .pill").first).to_have_text("เพิ่มเพื่อน (follow)")
        expect(page.locator(".row.bot .bubble.text").last).to_have_text("ยินดีต้อนรับค่ะ")

        page.set_input_files("#image-input", str(box_photo))
        expect(page.locator(".row.user .bubble.image img")).to_have_count(1)
        expect(page.locator(".row.bot .bubble.text").last).to_have_text("ไม่พบ QR ในสลิปค่ะ")

        page.locator(".row.user .redeliver").last.click()
        expect(page.locator(".row.system .pill", has_text="redelivery")).to_have_count(1)
        assert pair.bot.events[-1].delivery_context.is_redelivery is True

        page.once("dialog", lambda dialog: dialog.accept("ปิติ ชูใจ"))
        page.locator("#add-customer").click()
        expect(page.locator(".customer")).to_have_count(2)
        expect(page.locator("#chat-title")).to_have_text("ปิติ ชูใจ")
        expect(page.locator(".row")).to_have_count(0)  # a new customer starts with an empty chat
        send_text(page, "สวัสดีค่ะ")
        expect(page.locator(".row.bot .bubble.text").last).to_have_text("คุณพิมพ์ว่า: สวัสดีค่ะ")


def test_loading_indicator_shows_until_the_bots_message(page):
    from playwright.sync_api import expect

    with simulator_with_bot() as pair:
        page.goto(pair.sim_url + "/sim/")
        expect(page.locator(".customer.active")).to_have_count(1)
        user = page.locator(".customer.active").get_attribute("data-user-id")
        auth = {"Authorization": "Bearer sim-test-token"}
        started = pair.http.post("/line/v2/bot/chat/loading/start", headers=auth,
                                 json={"chatId": user, "loadingSeconds": 30})
        assert started.status_code == 202
        expect(page.locator("#loading")).to_be_visible()
        pair.http.post("/line/v2/bot/message/push", headers=auth,
                       json={"to": user, "messages": [{"type": "text", "text": "รอสักครู่นะคะ"}]})
        expect(page.locator("#loading")).to_be_hidden()
        expect(page.locator(".row.bot .bubble.text").last).to_have_text("รอสักครู่นะคะ")
