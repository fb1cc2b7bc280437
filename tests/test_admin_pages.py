"""The back office's handoffs, catalogue and customers pages through Flask's test client: what they show
(escaped), what their forms change (audit log, the customer's push sent at once), and what they refuse."""
from __future__ import annotations

import html as html_lib
import io
import json
import re

import test_admin
from admin_client import add_account, csrf_of, post, sign_in, staff_app
from shop_data import seed_shop
from sqlalchemy import func, select

from shop.models import AuditEntry, ChatMessage, Customer, Game, Notification, Order, Product
from shop.models.customers import StaffRequest
from shop.search import search

SCRIPT = '<script>alert("x")</script>'
# the back office's test shop, app and signed-in client, shared with test_admin.py
settings, world, pushes, app, client, signed_in = (test_admin.settings, test_admin.world, test_admin.pushes,
                                                   test_admin.app, test_admin.client, test_admin.signed_in)


def _actions(db) -> list[str]:
    with db.session() as session:
        return session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()


def _open_handoff(db, customer_id: int, text: str = "ขอคุยกับพนักงานค่ะ") -> None:
    with db.session() as session:
        session.add(ChatMessage(customer_id=customer_id, role="user", text=text))
        session.add(StaffRequest(customer_id=customer_id, reason=text))


# ---------------------------------------------------------------- handoffs

def test_open_handoffs_show_the_conversation_escaped(signed_in, db, world):
    _open_handoff(db, world["shop"].bob, SCRIPT)
    _open_handoff(db, world["shop"].alice, "อยากถามเรื่องส่งของค่ะ")
    html = signed_in.get("/admin/handoffs").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert(" in html
    assert html.index("Bob") < html.index("Alice")  # oldest first
    assert html.count('name="text"') == 2
    tiles = signed_in.get("/admin/").get_data(as_text=True)
    assert "แชตรอพนักงาน" in tiles and 'href="/admin/handoffs"' in tiles


def test_reply_pushes_at_once_and_close_gives_the_chat_back(signed_in, db, world, pushes):
    _open_handoff(db, world["shop"].alice)
    alice = "U" + "a" * 32
    post(signed_in, "/admin/handoffs/reply", {"line_user_id": alice, "text": "สวัสดีค่ะ พนักงานมาแล้วค่ะ"},
         "/admin/handoffs")
    assert pushes == [1]
    with db.session() as session:
        note = session.scalar(select(Notification))
        assert "พนักงานมาแล้ว" in note.messages and note.customer_id == world["shop"].alice
    assert "ส่งข้อความถึงลูกค้าแล้ว" in signed_in.get("/admin/handoffs").get_data(as_text=True)
    post(signed_in, "/admin/handoffs/reply", {"line_user_id": alice, "text": "  "}, "/admin/handoffs")
    assert pushes == [1] and "กรุณาพิมพ์ข้อความ" in signed_in.get("/admin/handoffs").get_data(as_text=True)
    post(signed_in, "/admin/handoffs/close", {"line_user_id": alice}, "/admin/handoffs")
    assert pushes == [1, 1]
    with db.session() as session:
        assert session.scalar(select(StaffRequest.resolved_at)) is not None
        assert session.scalar(select(Notification.id).where(Notification.messages.contains("กลับมาดูแล")))
    assert "ไม่มีแชตที่รอพนักงาน" in signed_in.get("/admin/handoffs").get_data(as_text=True)
    assert _actions(db)[-2:] == ["handoff.reply", "handoff.close"]
    log = signed_in.get("/admin/audit").get_data(as_text=True)
    assert f'href="/admin/customers/{world["shop"].alice}"' in log and "ให้บอทดูแลแชตต่อ" in log
    post(signed_in, "/admin/handoffs/reply", {"line_user_id": "Unobody", "text": "hi"}, "/admin/handoffs")
    assert "ไม่พบลูกค้า" in signed_in.get("/admin/handoffs").get_data(as_text=True)


# ---------------------------------------------------------------- catalogue

def test_products_search_and_paging(signed_in, db, world):
    with db.session() as session:
        for n in range(40):
            session.add(Product(sku=f"X{n:03}", name_en=f"Extra {n}", list_price_satang=10000))
    first = signed_in.get("/admin/products").get_data(as_text=True)
    assert "หน้า 1 จาก 2" in first and 'rel="next"' in first
    found = signed_in.get("/admin/products?q=ต่อรถไฟ").get_data(as_text=True)
    assert "พบ 1 รายการ" in found and "TTR" in found
    assert "พบ 1 รายการ" in signed_in.get("/admin/products?q=ttr").get_data(as_text=True)


def test_edit_a_product_through_the_audit_log_and_search_sees_it(signed_in, db, world):
    pid = world["shop"].product_ids["TTR"]
    url = f"/admin/products/{pid}"
    with db.session() as session:
        session.add(Game(id=14996, name="Ticket to Ride: Europe", min_players=2, max_players=5))
    page = signed_in.get(url).get_data(as_text=True)
    assert 'value="1890.00"' in page or 'value="1890"' in page
    form = {"name_th": "ต่อรถไฟ ฉบับยุโรป", "name_en": "Ticket to Ride Europe", "price_thb": "1,990",
            "sale_price_thb": "", "stock": "7", "image_url": "https://img.example/ttr.jpg",
            "aliases": "ทีทีอาร์ยุโรป | ttr eu", "bgg_id": "14996", "active": "yes"}
    assert post(signed_in, url, form, url).status_code == 302
    with db.session() as session:
        product = session.get(Product, pid)
        assert (product.name_th, product.list_price_satang, product.sale_price_satang, product.stock) == \
               ("ต่อรถไฟ ฉบับยุโรป", 199000, None, 7)
        assert product.game_id == 14996 and product.revised_at is not None
        assert sorted(a.alias for a in product.aliases) == ["ttr eu", "ทีทีอาร์ยุโรป"]
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "product.edit"))
        assert entry.subject_key == "TTR" and entry.before["list_price_satang"] == 189000
        hits = search(session, "ทีทีอาร์ยุโรป", limit=3)
        assert hits and hits[0].sku == "TTR"
    assert "product.edit" in signed_in.get(url).get_data(as_text=True)


def test_a_bad_edit_names_the_field_and_changes_nothing(signed_in, db, world):
    pid = world["shop"].product_ids["TTR"]
    url = f"/admin/products/{pid}"
    form = {"name_th": SCRIPT, "name_en": "Ticket to Ride", "price_thb": "abc", "stock": "5",
            "image_url": "http://insecure.example/x.jpg", "aliases": "", "sale_price_thb": "", "bgg_id": "9999999"}
    response = post(signed_in, url, form, url)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "ราคา: ไม่ใช่ราคาเป็นบาท" in html and "ลิงก์รูป: ต้องเป็นลิงก์ https://" in html
    assert "รหัส BoardGameGeek: BoardGameGeek id 9999999" in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html  # the typed value comes back, escaped
    with db.session() as session:
        assert session.get(Product, pid).list_price_satang == 189000
    assert "product.edit" not in _actions(db)


def test_csv_import_preview_then_confirm(signed_in, db, world):
    text = ("sku,name_en,name_th,price_thb,stock\n"
            "NEW1,Cascadia,คาสคาเดีย,1450,3\n"
            "TTR,Ticket to Ride,ต่อรถไฟ,1890,4\n"
            "BAD1,Broken,,not-a-price,1\n")
    page = "/admin/products/import"
    assert "ดูตัวอย่าง" in signed_in.get(page).get_data(as_text=True)
    data = {"file": (io.BytesIO(("\ufeff" + text).encode()), "shop.csv"), "deactivate_missing": "yes"}
    token = csrf_of(signed_in.get(page).get_data(as_text=True))
    preview = signed_in.post(page, data={**data, "csrf_token": token}, content_type="multipart/form-data")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "บรรทัด 4 · ราคา: ไม่ใช่ราคาเป็นบาท" in html and "ยืนยันนำเข้า" in html
    tiles = dict(re.findall(r"<small>([^<]+)</small><b[^>]*>(\d+)</b>", html))
    assert (tiles["สินค้าใหม่"], tiles["แก้ไข"], tiles["แถวที่มีปัญหา (จะข้าม)"]) == ("1", "1", "1")
    assert "SPL-TH" in html  # missing from the file: to be hidden
    assert "<b>ราคา</b>: - → 1,450 บาท" in html and "<b>คงเหลือ</b>: 9 → 4" in html  # one TTR is reserved
    with db.session() as session:
        assert session.scalar(select(Product).where(Product.sku == "NEW1")) is None  # nothing written yet
    hidden = html.split('name="csv_text" value="')[1].split('"')[0]
    response = signed_in.post("/admin/products/import/commit", content_type="multipart/form-data",
                              data={"csv_text": html_lib.unescape(hidden), "deactivate_missing": "yes",
                                    "csrf_token": token})
    done = response.get_data(as_text=True)
    assert response.status_code == 200 and "เพิ่มสินค้าใหม่ 1 รายการ" in done
    with db.session() as session:
        assert session.scalar(select(Product.stock).where(Product.sku == "NEW1")) == 3
        assert session.scalar(select(Product.stock).where(Product.sku == "TTR")) == 4
        assert session.scalar(select(Product.active).where(Product.sku == "SPL-TH")) is False
        assert session.scalar(select(Product).where(Product.sku == "BAD1")) is None
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "catalog.import"))
        assert entry.after["new"] == 1 and entry.after["problem_rows"] == 1


def _upload_and_confirm(client, text: str) -> str:
    page = "/admin/products/import"
    token = csrf_of(client.get(page).get_data(as_text=True))
    preview = client.post(page, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(text.encode()), "big.csv"), "csrf_token": token})
    hidden = preview.get_data(as_text=True).split('name="csv_text" value="')[1].split('"')[0]
    return client.post("/admin/products/import/commit", content_type="multipart/form-data",
                       data={"csv_text": html_lib.unescape(hidden), "csrf_token": token}).get_data(as_text=True)


def test_csv_import_of_1000_rows_on_sqlite_and_postgres(any_db, settings):
    seed_shop(any_db)
    add_account(any_db)
    client = staff_app(any_db, settings).test_client()
    sign_in(client)
    rows = "".join(f"B{n:04},Game {n},เกม {n},{100 + n},{n % 7}\n" for n in range(1000))
    done = _upload_and_confirm(client, "sku,name_en,name_th,price_thb,stock\n" + rows)
    assert "เพิ่มสินค้าใหม่ 1,000 รายการ" in done or "เพิ่มสินค้าใหม่ 1000 รายการ" in done
    with any_db.session() as session:
        assert session.scalar(select(func.count()).select_from(Product).where(Product.sku.like("B%"))) == 1000
        assert session.scalar(select(Product.list_price_satang).where(Product.sku == "B0999")) == 109900
    again = _upload_and_confirm(client, "sku,stock\nB0001,50\n")  # a file that changes only the stock
    assert "แก้ไข 1 รายการ" in again, again[again.find("<h1>"):][:600]
    with any_db.session() as session:
        assert session.scalar(select(Product.stock).where(Product.sku == "B0001")) == 50


def test_csv_import_refuses_duplicates_and_non_utf8(signed_in, db, world):
    page = "/admin/products/import"
    token = csrf_of(signed_in.get(page).get_data(as_text=True))
    dup = b"sku,stock\nTTR,1\nttr,2\n"
    html = signed_in.post(page, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(dup), "d.csv"), "csrf_token": token}).get_data(as_text=True)
    assert "นำเข้าไม่ได้" in html and "lines 2, 3" in html and "ยืนยันนำเข้า" not in html
    latin1 = "sku,name_th\nTTR,ต่อ\n".encode("cp874")
    response = signed_in.post(page, content_type="multipart/form-data",
                              data={"file": (io.BytesIO(latin1), "t.csv"), "csrf_token": token})
    assert response.status_code == 302 and "CSV UTF-8" in signed_in.get(page).get_data(as_text=True)


def test_export_is_a_csv_download_with_a_bom(signed_in, world):
    response = signed_in.get("/admin/products/export")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeffsku,") and "TTR" in body


# ---------------------------------------------------------------- customers

def test_customers_list_search_and_page(signed_in, db, world):
    with db.session() as session:
        session.add(ChatMessage(customer_id=world["shop"].alice, role="user", text=SCRIPT))
    listed = signed_in.get("/admin/customers").get_data(as_text=True)
    assert "Alice" in listed and "Bob" in listed
    found = signed_in.get("/admin/customers?q=ali").get_data(as_text=True)
    assert "พบ 1 คน" in found
    page = signed_in.get(f"/admin/customers/{world['shop'].alice}").get_data(as_text=True)
    assert world["paid"] in page and "&lt;script&gt;" in page and "<script>alert" not in page
    order_page = signed_in.get(f"/admin/orders/{world['paid']}").get_data(as_text=True)
    assert f'href="/admin/customers/{world["shop"].alice}"' in order_page
    assert signed_in.get("/admin/customers/999999").status_code == 404


def test_forget_a_customer_needs_the_confirmation_and_keeps_the_order(signed_in, db, world):
    alice = world["shop"].alice
    url = f"/admin/customers/{alice}"
    post(signed_in, f"{url}/forget", {}, url)
    assert "กรุณาเลือกช่องยืนยัน" in signed_in.get(url).get_data(as_text=True)
    with db.session() as session:
        assert session.get(Customer, alice).display_name == "Alice"
    post(signed_in, f"{url}/forget", {"confirm": "yes"}, url)
    page = signed_in.get(url).get_data(as_text=True)
    assert "ลบข้อมูลส่วนบุคคลแล้ว" in page and "Alice" not in page
    with db.session() as session:
        customer = session.get(Customer, alice)
        assert customer.display_name == "" and customer.line_user_id.startswith("forgotten-")
        order = session.scalar(select(Order).where(Order.number == world["paid"]))
        assert order.total_satang > 0 and order.ship_address == ""
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "customer.forget"))
        assert entry.subject_key == str(alice) and "Alice" not in json.dumps(entry.after, ensure_ascii=False)
