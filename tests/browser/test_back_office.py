"""The back office in headless Chromium against the real service with the simulator: a staff member
signs in, approves a slip a customer sent for review and the receipt arrives in the customer's chat;
ships an order with a tracking number and the card arrives; the staff group shows the alerts. Also
checks that the pages fit a phone screen."""
from __future__ import annotations

import pytest
from admin_client import PASSWORD, add_account
from backoffice_data import make_order, photo_png
from chat_steps import order_splendor_for_pickup
from shop_data import seed_shop
from simulator_bot import running_service

import bot.turn
from bot.housekeeping import run_once
from shop.settings import load_settings
from simulator.core import DEV_STAFF_GROUP_ID
from webhooks.line_api import LineApi

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif("PLACEHOLDER" in (bot.turn.__doc__ or ""), reason="needs the shop conversation")]
PHONE = {"width": 390, "height": 844}


def staff_sign_in(page, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(url + "/admin/")
    expect(page).to_have_url(url + "/admin/login?next=/admin/")
    page.fill('input[name="username"]', "somchai")
    page.fill('input[name="password"]', PASSWORD)
    page.get_by_role("button", name="ลงชื่อเข้าใช้").click()
    expect(page.get_by_role("heading", name="ภาพรวมวันนี้")).to_be_visible()


def housekeeping_round(url: str, db) -> None:
    """What the workers' housekeeping does every minute, now (it queues and pushes the staff alerts)."""
    settings = load_settings(app_env="test", database_url="sqlite://", line_channel_secret="service-secret",
                             line_channel_access_token="service-token", line_api_base_url=url + "/sim/line",
                             public_base_url=url, staff_line_target=DEV_STAFF_GROUP_ID)
    line = LineApi(settings)
    try:
        run_once(db, settings, line)
    finally:
        line.close()


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_approve_a_slip_sent_for_review_and_the_receipt_arrives(browser, db, tmp_path, shots):
    from playwright.sync_api import expect

    seed_shop(db)
    add_account(db)
    photo = tmp_path / "blurry-slip.png"
    photo.write_bytes(photo_png())
    with running_service(db, staff_line_target=DEV_STAFF_GROUP_ID) as url:
        chat = browser.new_page(viewport={"width": 1280, "height": 860}, locale="th-TH")
        chat.goto(url + "/sim/")
        order_splendor_for_pickup(chat)
        chat.set_input_files("#image-input", str(photo))  # a photo whose QR cannot be read
        expect(chat.locator(".row.bot", has_text="ยังไม่พบ QR ของสลิป").last).to_be_visible(timeout=30_000)

        housekeeping_round(url, db)
        chat.locator(".customer.group").click()
        expect(chat.locator(".row.bot", has_text="มีสลิปรอตรวจ")).to_be_visible()

        staff = browser.new_page(viewport=PHONE, locale="th-TH", timezone_id="Asia/Bangkok")
        staff.on("dialog", lambda dialog: dialog.accept())
        staff_sign_in(staff, url)
        assert fits_the_screen(staff)
        staff.get_by_role("link", name="สลิปรอตรวจ").first.click()
        staff.locator(".slip h2 a").first.click()
        expect(staff.locator("img.slip-full")).to_be_visible()
        expect(staff.get_by_text("อ่าน QR บนสลิปไม่ได้").first).to_be_visible()
        assert fits_the_screen(staff)
        staff.screenshot(path=str(shots / "admin-slip.png"), full_page=True)
        staff.get_by_role("button", name="อนุมัติ (ชำระเงินแล้ว)").click()
        expect(staff.locator(".flash.ok")).to_contain_text("อนุมัติสลิปแล้ว")

        chat.locator(".customer:not(.group)").first.click()
        expect(chat.locator(".row.bot", has_text="ชำระเงินเรียบร้อย").last).to_be_visible(timeout=15_000)
        chat.locator(".customer.group").click()
        expect(chat.locator(".row.bot", has_text="คำสั่งซื้อใหม่ชำระแล้ว")).to_be_visible(timeout=15_000)
        chat.close()
        staff.close()


def test_ship_an_order_with_a_tracking_number_and_it_arrives(browser, db, shots):
    from playwright.sync_api import expect

    from shop.customers import get_or_create_customer

    shop = seed_shop(db)
    add_account(db)
    with running_service(db) as url:
        chat = browser.new_page(viewport={"width": 1280, "height": 860}, locale="th-TH")
        chat.goto(url + "/sim/")
        expect(chat.locator(".customer.active")).to_have_count(1)
        user_id = chat.locator(".customer.active").get_attribute("data-user-id")
        with db.session() as session:
            customer_id = get_or_create_customer(session, user_id, "มานี มีนา").id
        number = make_order(db, customer_id, status="paid", fulfilment="delivery")
        assert shop.alice != customer_id

        staff = browser.new_page(viewport=PHONE, locale="th-TH", timezone_id="Asia/Bangkok")
        staff_sign_in(staff, url)
        staff.get_by_role("link", name="คำสั่งซื้อ").first.click()
        staff.select_option('select[name="status"]', "paid")  # the filter submits itself
        expect(staff.get_by_text("พบ 1 คำสั่งซื้อ")).to_be_visible()
        staff.get_by_role("link", name=number).click()
        assert fits_the_screen(staff)
        staff.fill('input[name="carrier"]', "Kerry Express")
        staff.fill('input[name="tracking_number"]', "KEX123456789TH")
        staff.get_by_role("button", name="จัดส่งแล้ว").click()
        expect(staff.locator(".flash.ok")).to_contain_text("จัดส่งแล้ว")
        expect(staff.get_by_text("order.ship")).to_be_visible()
        assert fits_the_screen(staff)  # the history with its changes too
        staff.screenshot(path=str(shots / "admin-order.png"), full_page=True)

        card = chat.locator(".flex-bubble", has_text="KEX123456789TH")
        expect(card).to_be_visible(timeout=15_000)
        expect(card).to_contain_text("Kerry Express")
        expect(card.locator(".flex-button", has_text="คัดลอกเลขพัสดุ")).to_be_visible()
        chat.close()
        staff.close()


def test_staff_take_over_a_chat_reply_and_give_it_back(browser, db, shots):
    from playwright.sync_api import expect

    seed_shop(db)
    add_account(db)
    with running_service(db) as url:
        chat = browser.new_page(viewport={"width": 1280, "height": 860}, locale="th-TH")
        chat.goto(url + "/sim/")
        chat.fill("#text-input", "ขอคุยกับพนักงานหน่อยค่ะ")
        chat.press("#text-input", "Enter")
        expect(chat.locator(".row.bot", has_text="ติดต่อกลับ").last).to_be_visible(timeout=30_000)

        staff = browser.new_page(viewport=PHONE, locale="th-TH", timezone_id="Asia/Bangkok")
        staff.on("dialog", lambda dialog: dialog.accept())
        staff_sign_in(staff, url)
        staff.get_by_role("link", name="แชตรอพนักงาน").first.click()
        expect(staff.locator(".chat").first).to_contain_text("ขอคุยกับพนักงานหน่อยค่ะ")
        assert fits_the_screen(staff)
        staff.fill('textarea[name="text"]', "สวัสดีค่ะ แอดมินมาแล้วค่ะ")
        staff.get_by_role("button", name="ส่งข้อความ").click()
        expect(staff.locator(".flash.ok")).to_contain_text("ส่งข้อความถึงลูกค้าแล้ว")
        staff.screenshot(path=str(shots / "admin-handoff.png"), full_page=True)
        expect(chat.locator(".row.bot", has_text="แอดมินมาแล้ว")).to_be_visible(timeout=15_000)

        bot_rows = chat.locator(".row.bot").count()
        chat.fill("#text-input", "มี Azul ไหมคะ")
        chat.press("#text-input", "Enter")
        chat.wait_for_timeout(3000)
        assert chat.locator(".row.bot").count() == bot_rows  # a person has the chat: the bot is quiet

        staff.get_by_role("button", name="ให้บอทดูแลต่อ").click()
        expect(staff.get_by_text("ไม่มีแชตที่รอพนักงาน")).to_be_visible()
        expect(chat.locator(".row.bot", has_text="กลับมาดูแล")).to_be_visible(timeout=15_000)
        chat.fill("#text-input", "มี Azul ไหมคะ")
        chat.press("#text-input", "Enter")
        expect(chat.locator(".row.bot", has_text="Azul").last).to_be_visible(timeout=30_000)
        chat.close()
        staff.close()


def test_import_a_csv_with_one_bad_row_and_the_new_product_is_found_in_chat(browser, db, tmp_path, shots):
    from playwright.sync_api import expect

    seed_shop(db)
    add_account(db)
    csv_file = tmp_path / "catalogue.csv"
    csv_file.write_bytes("\ufeffsku,name_en,name_th,price_thb,stock\nCASC-1,Cascadia,คาสคาเดีย,1450,3\n"
                         "BAD-1,Broken Box,,ราคาไม่รู้,1\n".encode())
    with running_service(db) as url:
        staff = browser.new_page(viewport=PHONE, locale="th-TH", timezone_id="Asia/Bangkok")
        staff_sign_in(staff, url)
        staff.get_by_role("link", name="สินค้า").first.click()
        staff.get_by_role("link", name="นำเข้าจากไฟล์ CSV").click()
        staff.set_input_files('input[name="file"]', str(csv_file))
        staff.get_by_role("button", name="ดูตัวอย่าง").click()
        expect(staff.locator(".flash.error")).to_contain_text("บรรทัด 3 · ราคา")
        assert fits_the_screen(staff)
        staff.screenshot(path=str(shots / "admin-import-preview.png"), full_page=True)
        staff.get_by_role("button", name="ยืนยันนำเข้า").click()
        expect(staff.locator(".flash.ok")).to_contain_text("เพิ่มสินค้าใหม่ 1 รายการ")

        chat = browser.new_page(viewport={"width": 1280, "height": 860}, locale="th-TH")
        chat.goto(url + "/sim/")
        chat.fill("#text-input", "มี Cascadia ไหมคะ")
        chat.press("#text-input", "Enter")
        expect(chat.locator(".row.bot", has_text="Cascadia").last).to_be_visible(timeout=30_000)
        chat.close()
        staff.close()
