"""GPU work per turn: the shop's own facts in the prompt (one request for a price question), a system
prompt that is the same bytes for every customer at a stage (vLLM's prefix cache), only the stage's tools
in full, actions that answer with the tool's own words; plus the customer's yes read by the offline
understanding and the account-number guardrail in the loop."""
from __future__ import annotations

import pytest
from fake_shop_tools import FakeShopTools
from fake_vllm_server import FakeVLLMServer, Say

from agent.llm.history import trim_history
from agent.llm.loop import run_llm_turn
from agent.llm.prompts import STAGE_TOOLS
from agent.llm.turn import customer_says_yes
from inference.client import ChatClient

ADD = '<tool_call>\n{"name": "add_to_cart", "arguments": {"name": "Splendor", "quantity": 2}}\n</tool_call>'


class ShopWithMessages(FakeShopTools):
    """The fake shop with the real tools' habit of a ready Thai sentence on a cart change."""

    def _add_to_cart(self, name: str, quantity: int = 1) -> dict:
        cart = super()._add_to_cart(name, quantity)
        if "error" not in cart:
            cart["message_th"] = f"ใส่ {name} {quantity} ชิ้นลงตะกร้าแล้วค่ะ"
        return cart


@pytest.fixture
def server():
    with FakeVLLMServer() as fake:
        yield fake


@pytest.fixture
def client(server):
    chat = ChatClient(server.base_url, server.model, timeout_s=5, retry_backoff_s=0.01)
    yield chat
    chat.close()


def turn(client, shop, text, *, history=None, **options):
    return run_llm_turn(client, shop, history=history or [], user_text=text, image_jpeg=None, tool_mode="prompt",
                        deadline_s=10, shop_name="ร้านทดสอบ", shop_context=True, **options)


def test_a_price_question_takes_one_request_and_the_guardrail_still_checks_it(server, client):
    shop = FakeShopTools()
    server.script(Say("Splendor ราคา 1,260 บาท มีของ 3 กล่องค่ะ"))
    reply = turn(client, shop, "Splendor ราคาเท่าไหร่คะ")
    assert reply.fallback_reason is None and reply.llm_calls == 1
    message = server.requests[0]["messages"][-1]["content"]
    assert message.startswith("Splendor ราคาเท่าไหร่คะ\n\n") and "1,260 บาท" in message
    assert [name for name, _, _ in reply.context_calls] == ["search_products"]   # the cards come from it
    server.script(Say("Splendor ราคา 990 บาทค่ะ"), Say("Splendor ลดเหลือ 900 บาทค่ะ"))
    assert turn(client, shop, "Splendor ราคาเท่าไหร่คะ").fallback_reason == "price_guardrail"


def test_no_search_when_the_message_names_no_game(server, client):
    shop = FakeShopTools()
    server.script(Say("สวัสดีค่ะ ยินดีต้อนรับค่ะ"))
    turn(client, shop, "ดูตะกร้าหน่อยค่ะ")
    assert "search_products" not in [name for name, _ in shop.calls]
    assert "[ข้อมูลจากระบบ" not in server.requests[0]["messages"][-1]["content"]   # empty cart: nothing to say


def test_the_system_prompt_is_the_same_bytes_for_every_customer_at_a_stage(server, client):
    server.script(*[Say("สวัสดีค่ะ ยินดีต้อนรับค่ะ")] * 3)
    turn(client, FakeShopTools("cust-A"), "สวัสดีค่ะ")
    turn(client, FakeShopTools("cust-B"), "Catan มีไหมคะ")
    in_cart = FakeShopTools("cust-A")
    in_cart.cart["Splendor"] = 1
    turn(client, in_cart, "สวัสดีค่ะ", awaiting_confirmation=True)     # a summary waits: create_order in full
    shopping, other_customer, confirm_stage = (body["messages"][0]["content"] for body in server.requests)
    assert shopping == other_customer                       # cacheable across customers and messages
    assert confirm_stage != shopping and '"name": "create_order"' in confirm_stage
    shared = next(i for i, (a, b) in enumerate(zip(shopping, confirm_stage, strict=False)) if a != b)
    assert shared > len(shopping) * 0.6        # the core tools come first: a stage change keeps most of the start
    # a prefix identical to the previous request's start: the whole system prompt at least
    assert server.accounting[1]["shared_prefix_tokens"] >= len(shopping) // 3 - 16


def test_only_the_stages_tools_are_described_in_full(server, client):
    shop = FakeShopTools()
    server.script(Say("สวัสดีค่ะ"))
    turn(client, shop, "สวัสดีค่ะ")
    system = server.requests[0]["messages"][0]["content"]
    described = {name for name in ("search_products", "add_to_cart", "view_cart", "get_order_status", "create_order")
                 if f'"name": "{name}"' in system}
    assert described == set(STAGE_TOOLS["shopping"]) & {"search_products", "add_to_cart", "view_cart",
                                                         "get_order_status", "create_order"}
    assert "create_order" in system.split("</tools>")[-1]   # named in one line: the model may still call it


def test_an_action_answers_with_the_tools_own_words_in_one_request(server, client):
    shop = ShopWithMessages()
    server.script(Say(ADD))
    reply = turn(client, shop, "เอา Splendor 2 กล่อง")
    assert reply.llm_calls == 1 and reply.text == "ใส่ Splendor 2 ชิ้นลงตะกร้าแล้วค่ะ"
    assert shop.cart == {"Splendor": 2}


def test_a_failed_action_goes_back_to_the_model(server, client):
    shop = ShopWithMessages()
    bad = ADD.replace("Splendor", "Monopoly")
    server.script(Say(bad), Say("ขออภัยค่ะ ทางร้านไม่มี Monopoly ค่ะ"))
    reply = turn(client, shop, "เอา Monopoly 2 กล่อง")
    assert reply.llm_calls == 2 and reply.text == "ขออภัยค่ะ ทางร้านไม่มี Monopoly ค่ะ"


def test_an_account_number_the_model_made_up_never_reaches_the_customer(server, client):
    server.script(Say("โอนเงินเข้าบัญชี 123-4-56789-0 ได้เลยค่ะ"))
    reply = turn(client, FakeShopTools(), "ขอเลขบัญชีโอนเงินหน่อยค่ะ")
    assert reply.fallback_reason == "number_guardrail" and reply.text == ""


@pytest.mark.parametrize("text,yes", [
    ("ยืนยันค่ะ", True), ("โอเค ยืนยัน", True), ("ยังไม่ยืนยันนะคะ อย่าเพิ่งสั่ง", False),
    ("เกมนี้เล่นได้กี่คนคะ", False), ("", False), (None, False),
])
def test_the_customers_yes_is_read_by_the_offline_understanding(text, yes):
    assert customer_says_yes(text) is yes


def test_the_history_window_moves_in_jumps_so_its_start_stays_cacheable():
    history = [{"role": "user" if n % 2 == 0 else "assistant", "content": f"ข้อความ {n} " + "ก" * 57}
               for n in range(40)]
    starts = []
    for length in range(24, 41, 2):
        kept = trim_history(history[:length], 600)
        starts.append(history.index(kept[0]))
        assert kept[-1] == history[length - 1] and len(kept) >= 12
    assert len(set(starts)) < len(starts) / 2       # most turns begin with the same message as the one before
