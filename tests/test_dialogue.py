"""The offline Thai agent's dialogue over the real shop tools (called directly, without MCP)."""
from __future__ import annotations

import pytest
from shop_data import stock_of

from agent import actions
from agent.offline.dialogue import OfflineAgent
from agent.tools import ToolContext, call_tool
from bot.compose import compose


class DirectTools:
    """The tool registry called in-process, bound to one customer (the MCP client does the same over MCP)."""

    def __init__(self, ctx: ToolContext):
        self.ctx = ctx

    def call_tool(self, name: str, arguments: dict) -> dict:
        return call_tool(self.ctx, name, arguments)


class Chat:
    def __init__(self, db, settings, customer_id):
        self.agent = OfflineAgent(DirectTools(ToolContext(db, settings, customer_id)), shop_name="ร้านทดสอบ")
        self.state: dict = {}

    def say(self, text: str):
        self.reply = self.agent.respond(self.state, text=text)
        self.messages = compose(self.reply)
        return self.reply

    def press(self, data: str):
        self.reply = self.agent.respond(self.state, action=actions.decode(data))
        self.messages = compose(self.reply)
        return self.reply

    def called(self, name: str) -> list[dict]:
        return [c.result for c in self.reply.tool_calls if c.name == name]


@pytest.fixture
def chat(shop, settings):
    return Chat(shop.db, settings, shop.alice)


def test_pickup_purchase_from_question_to_payment_qr(chat, shop):
    reply = chat.say("มีอาซูลไหมคะ")
    assert "อาซูล" in reply.text and "1,390 บาท" in reply.text
    assert chat.messages[1]["type"] == "flex"  # the product card

    reply = chat.say("เอาอันนี้ 1 กล่อง")
    assert "ลงตะกร้าแล้วค่ะ" in reply.text and "1,390 บาท" in reply.text

    reply = chat.say("ชำระเงินค่ะ")
    assert chat.state["expecting"] == "fulfilment"
    assert {s.label for s in reply.suggestions} >= {"รับเองที่ร้าน", "จัดส่ง"}

    reply = chat.press(actions.encode("pickup"))
    assert reply.show_summary["total_satang"] == 139000
    assert chat.state["expecting"] == "confirm_order"

    reply = chat.say("ยืนยันค่ะ")
    order = chat.called("create_order")[0]["order"]
    assert order["total_satang"] == 139000
    assert "1,390 บาท" in reply.text and "หนึ่งพันสามร้อยเก้าสิบบาทถ้วน" in reply.text
    assert chat.messages[1]["type"] == "image"
    assert chat.messages[1]["originalContentUrl"].endswith(".png")
    assert stock_of(shop.db, "AZUL") == 0  # the last copy is reserved


def test_delivery_details_one_at_a_time_with_a_bad_phone_asked_again(chat):
    chat.press(actions.encode("add", sku="TTR", q=2))
    chat.say("สั่งซื้อเลยค่ะ")
    chat.say("ให้จัดส่งค่ะ")
    assert chat.state["expecting"] == "shipping_name"
    chat.say("สมชาย ใจดี")
    assert chat.state["expecting"] == "shipping_phone"
    reply = chat.say("โทร 12345")
    assert "เบอร์" in reply.text and chat.state["expecting"] == "shipping_phone"
    chat.say("๐๘๑-๒๓๔-๕๖๗๘")
    assert chat.state["expecting"] == "shipping_address"
    reply = chat.say("99/1 ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพฯ 10110")
    summary = reply.show_summary
    assert summary["ship_phone"] == "0812345678"
    assert summary["total_satang"] == 2 * 175050 + 5000  # two boxes on sale plus the delivery fee


def test_adding_a_sold_out_game_says_so_and_adds_nothing(chat):
    reply = chat.say("เอาคาทาน 1 กล่อง")
    assert "หมด" in reply.text
    assert chat.agent.tools.call_tool("view_cart", {})["items"] == []


def test_a_price_change_request_changes_nothing(chat):
    chat.say("เอาอาซูล 1 กล่อง")
    reply = chat.say("ลดราคาให้เหลือ 1 บาทได้ไหม")
    assert reply.tool_calls == []
    assert "ราคา" in reply.text
    assert chat.agent.tools.call_tool("view_cart", {})["total_satang"] == 139000


def test_another_customers_order_is_never_shown(shop, settings):
    bob = Chat(shop.db, settings, shop.bob)
    bob.press(actions.encode("add", sku="TTR", q=1))
    bob.press(actions.encode("checkout"))
    bob.press(actions.encode("pickup"))
    bob.say("ยืนยัน")
    bob_number = bob.called("create_order")[0]["order"]["number"]

    alice = Chat(shop.db, settings, shop.alice)
    reply = alice.say(f"ขอดูสถานะออเดอร์ {bob_number}")
    assert alice.called("get_order_status")[0]["error"] == "order_not_found"
    assert "1,750.50" not in reply.text and "ไม่พบ" in reply.text
    reply = alice.say("ขอดูออเดอร์ของคนอื่นหน่อย")
    assert bob_number not in reply.text and "1,750.50" not in reply.text


def test_cancel_asks_first_then_releases_the_stock(chat, shop):
    chat.press(actions.encode("add", sku="AZUL", q=1))
    chat.press(actions.encode("checkout"))
    chat.press(actions.encode("pickup"))
    chat.say("ยืนยัน")
    assert stock_of(shop.db, "AZUL") == 0
    reply = chat.say("ยกเลิกออเดอร์ค่ะ")
    assert chat.state["expecting"] == "confirm_cancel" and "ใช่ไหมคะ" in reply.text
    reply = chat.say("ใช่ค่ะ")
    assert "ยกเลิกคำสั่งซื้อ" in reply.text and "เรียบร้อย" in reply.text
    assert stock_of(shop.db, "AZUL") == 1


def test_something_it_cannot_handle_gets_help_and_quick_replies(chat):
    reply = chat.say("อากาศวันนี้เป็นยังไงบ้าง")
    assert reply.text and reply.suggestions
    assert chat.messages[-1]["quickReply"]["items"]


def test_cart_postbacks_show_the_cart_card(chat):
    chat.press(actions.encode("add", sku="SPL-TH", q=1))
    chat.press(actions.encode("inc", sku="SPL-TH"))
    reply = chat.press(actions.encode("cart"))
    assert "2,520 บาท" in reply.text
    assert chat.messages[1]["altText"].startswith("ตะกร้าสินค้า")


def test_unknown_postback_data_is_not_an_action():
    assert actions.decode("a=drop_tables") is None
    assert actions.decode("") is None
    assert actions.decode("a=add&sku=X&q=2").get_int("q") == 2


def test_a_game_the_shop_does_not_sell_is_named_as_such_not_misunderstood(chat, shop):
    from shop.models import Game
    from shop.search import invalidate_index

    with shop.db.session() as session:
        session.add(Game(id=822, name="Carcassonne", min_players=2, max_players=5, play_minutes=45, min_age=7))
    invalidate_index()
    reply = chat.say("carcassonne มีไหมคะ")
    assert "ยังไม่มี" in reply.text and "Carcassonne" in reply.text
    assert "staff" in {s.action for s in reply.suggestions}


def test_delivery_questions_get_the_fee_from_settings_not_a_checkout_step(chat):
    for question in ("ค่าส่งเท่าไหร่คะ", "ส่งต่างจังหวัดได้ไหมคะ"):
        reply = chat.say(question)
        assert "50 บาท" in reply.text and "รับสินค้าเองที่ร้าน" in reply.text
        assert "expecting" not in chat.state
