"""vLLM as it really behaves (tests/fake_vllm_server.py reproduces it, see docs/llm.md) and the outcome the
client and the agent loop give each behaviour: cut replies, error shapes, context overflow, images the
server refuses, tool choices it was not started for, native-mode repairs."""
from __future__ import annotations

import base64
import io
import json

import httpx
import pytest
from fake_shop_tools import FakeShopTools
from fake_vllm_server import FakeVLLMServer, RequestRefused, Say, server_resize
from PIL import Image

from agent.llm.loop import run_llm_turn
from inference.client import ChatClient, LLMContextOverflow, LLMRequestRejected
from inference.images import ImageError, prepare_image, smart_resize

ADD_TWO = '<tool_call>\n{"name": "add_to_cart", "arguments": {"name": "Splendor", "quantity": 2}}\n</tool_call>'
PREAMBLE = "ทางร้านจะเพิ่มสินค้าลงตะกร้าให้นะคะ " * 6   # ~70 tokens before the call


@pytest.fixture
def server():
    with FakeVLLMServer() as fake:
        yield fake


@pytest.fixture
def client(server):
    chat = ChatClient(server.base_url, server.model, timeout_s=5, retry_backoff_s=0.01, cooldown_s=60)
    yield chat
    chat.close()


@pytest.fixture
def shop():
    return FakeShopTools(customer_id="cust-A")


def turn(client, shop, text="เอา Splendor 2 กล่อง", *, mode="prompt", history=None, **options):
    return run_llm_turn(client, shop, history=history or [], user_text=text, image_jpeg=None, tool_mode=mode,
                        deadline_s=10, shop_name="ร้านทดสอบ", **options)


def _data_url(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _post(server, body: dict) -> httpx.Response:
    return httpx.post(server.base_url + "/chat/completions", json={"model": server.model, **body}, timeout=5)


# -- a reply cut by max_tokens ------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["prompt", "native"])
def test_a_call_cut_by_max_tokens_is_never_executed(server, client, shop, mode):
    server.script(Say(PREAMBLE + ADD_TWO), Say(PREAMBLE + ADD_TWO))
    reply = turn(client, shop, mode=mode, max_tokens=40)      # the block is cut inside its JSON both times
    assert reply.fallback_reason == "llm_truncated" and reply.text == ""
    assert shop.calls == [] and shop.cart == {}
    assert [body["max_completion_tokens"] for body in server.requests] == [40, 80]
    assert all(entry["completion_tokens"] <= 80 for entry in server.accounting)


def test_a_cut_reply_is_asked_again_with_room_and_then_acted_on(server, client, shop):
    server.script(Say(PREAMBLE + ADD_TWO), Say(PREAMBLE + ADD_TWO), Say("เพิ่ม Splendor 2 กล่องแล้วค่ะ รวม 2,520 บาทค่ะ"))
    reply = turn(client, shop, max_tokens=60)                 # 60 cuts it, 120 is room enough
    assert reply.fallback_reason is None
    assert shop.calls == [("add_to_cart", {"name": "Splendor", "quantity": 2})]   # once, with the whole quantity
    assert [body["max_completion_tokens"] for body in server.requests] == [60, 120, 120]


def test_the_fake_cuts_like_vllm(server):
    server.script(Say(ADD_TWO))
    tools = [{"type": "function", "function": {"name": "add_to_cart", "parameters": {"type": "object"}}}]
    body = _post(server, {"messages": [{"role": "user", "content": "x"}], "tools": tools,
                          "max_completion_tokens": 10}).json()
    choice = body["choices"][0]
    assert choice["finish_reason"] == "length" and "tool_calls" not in choice["message"]
    assert choice["message"]["content"] == ADD_TWO[:30] and "reasoning" in choice["message"]
    assert "reasoning_content" not in choice["message"]


# -- errors in vLLM's shape -----------------------------------------------------------------------------
def test_errors_have_vllm_shape(server):
    for body, status in (({"messages": []}, 400), ({"model": "other", "messages": [{"role": "user", "content": "x"}]}, 404)):
        response = _post(server, body)
        assert response.status_code == status
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
        assert response.json()["error"]["code"] == status


def test_a_prompt_over_the_context_is_400_with_vllms_words():
    with FakeVLLMServer(max_model_len=200) as small:
        response = _post(small, {"messages": [{"role": "user", "content": "ก" * 900}]})
    error = response.json()["error"]
    assert response.status_code == 400 and error["param"] == "input_tokens"
    assert error["message"].startswith("This model's maximum context length is 200 tokens. However, your prompt "
                                       "contains at least ")


def test_overflow_trims_the_history_and_asks_once_more(shop):
    history = [{"role": "user", "content": "เล่าเรื่องยาว ๆ " + "ก" * 1500},
               {"role": "assistant", "content": "ค่ะ " + "ข" * 1500}]
    with FakeVLLMServer(max_model_len=1600) as small:
        chat = ChatClient(small.base_url, small.model, retry_backoff_s=0.01)
        small.script(Say("สวัสดีค่ะ ยินดีให้บริการค่ะ"))
        reply = turn(chat, shop, "สวัสดีค่ะ", history=history)
        assert reply.fallback_reason is None and reply.llm_calls == 2
        first, second = small.requests
        assert len(first["messages"]) == 4 and [m["role"] for m in second["messages"]] == ["system", "user"]
        assert chat.available()   # a refused prompt is not an outage


def test_overflow_without_history_to_trim_falls_back(shop):
    with FakeVLLMServer(max_model_len=100) as tiny:
        chat = ChatClient(tiny.base_url, tiny.model, retry_backoff_s=0.01)
        reply = turn(chat, shop, "สวัสดีค่ะ")
    assert reply.fallback_reason == "llm_context_overflow" and reply.llm_calls == 1


def test_the_client_tells_overflow_from_other_refusals(server, client):
    with pytest.raises(LLMRequestRejected) as refused:
        client.chat([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png,abc"}}]}])
    assert refused.value.status == 501 and "Only base64 data URLs" in refused.value.server_message
    assert not isinstance(refused.value, LLMContextOverflow)
    with FakeVLLMServer(max_model_len=50) as tiny:
        chat = ChatClient(tiny.base_url, tiny.model)
        with pytest.raises(LLMContextOverflow):
            chat.chat([{"role": "user", "content": "ก" * 600}])


# -- images ---------------------------------------------------------------------------------------------
def test_the_fake_refuses_what_vllm_refuses_in_images(server):
    def refusal(url):
        response = _post(server, {"messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": url}}, {"type": "text", "text": "x"}]}]})
        return response.status_code, response.json()["error"]["message"]

    assert refusal("data:image/png,notbase64") == (501, "Only base64 data URLs are supported for now.")
    assert refusal("data:image/png;base64,aGVsbG8=")[0] == 400                      # not an image
    status, message = refusal(_data_url(30, 5999))                                   # 28×5992 after resizing
    assert status == 400 and message.startswith("absolute aspect ratio must be smaller than 200")


def test_the_client_refuses_a_ratio_the_server_would_refuse_after_resizing():
    with pytest.raises(RequestRefused, match="got 214"):     # 30×5999 becomes 28×5992 on the server
        server_resize(30, 5999, max_pixels=16384 * 784)
    with pytest.raises(ImageError, match="too long and thin"):
        smart_resize(5999, 30)
    buffer = io.BytesIO()
    Image.new("RGB", (30, 5999), (0, 0, 0)).save(buffer, format="PNG")
    with pytest.raises(ImageError):
        prepare_image(buffer.getvalue())
    assert smart_resize(5000, 28 * 26)[0] / smart_resize(5000, 28 * 26)[1] < 200   # still fine below the limit


def test_client_and_server_agree_on_visual_tokens(server, client):
    buffer = io.BytesIO()
    Image.new("RGB", (4032, 3024), (10, 90, 30)).save(buffer, format="JPEG")
    image = prepare_image(buffer.getvalue(), max_visual_tokens=1280)
    server.script(Say("ค่ะ"), Say("ค่ะ"))
    with_image = client.chat([{"role": "user", "content": [image.content_part(), {"type": "text", "text": "x"}]}])
    without = client.chat([{"role": "user", "content": [{"type": "text", "text": "x"}]}])
    assert with_image.prompt_tokens - without.prompt_tokens == image.visual_tokens + 2


# -- tool choice ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("choice", ["auto", "required", {"type": "function", "function": {"name": "view_cart"}}])
def test_tool_choice_without_the_parser_flags_is_400(choice):
    tools = [{"type": "function", "function": {"name": "view_cart", "parameters": {"type": "object"}}}]
    with FakeVLLMServer(hermes_parser=False) as plain:
        response = _post(plain, {"messages": [{"role": "user", "content": "x"}], "tools": tools, "tool_choice": choice})
    assert response.status_code == 400 and "--enable-auto-tool-choice" in response.json()["error"]["message"]


def test_no_empty_tool_calls_list(server):
    server.script(Say("สวัสดีค่ะ"))
    tools = [{"type": "function", "function": {"name": "view_cart", "parameters": {"type": "object"}}}]
    message = _post(server, {"messages": [{"role": "user", "content": "x"}], "tools": tools}).json()["choices"][0]
    assert message["finish_reason"] == "stop" and "tool_calls" not in message["message"]


# -- native-mode repairs -------------------------------------------------------------------------------
def test_arguments_written_as_a_string_are_decoded_once(server, client, shop):
    # Qwen wrote the arguments as a JSON string; vLLM's hermes parser json.dumps it again
    doubled = ('<tool_call>\n{"name": "add_to_cart", "arguments": "{\\"name\\": \\"Splendor\\", \\"quantity\\": 2}"}'
               '\n</tool_call>')
    server.script(Say(doubled), Say("เพิ่ม Splendor 2 กล่องแล้วค่ะ รวม 2,520 บาทค่ะ"))
    reply = turn(client, shop, mode="native")
    first_answer = server.accounting and server.requests[0]
    assert first_answer
    sent_back = server.requests[1]["messages"][-2]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(sent_back) == {"name": "Splendor", "quantity": 2}   # passed back decoded, not doubled
    assert reply.fallback_reason is None and shop.calls == [("add_to_cart", {"name": "Splendor", "quantity": 2})]


def test_two_objects_in_one_block_become_two_calls(server, client, shop):
    shop.cart["Splendor"] = 1
    block = ('<tool_call>\n{"name": "search_products", "arguments": {"query": "Catan"}}\n'
             '{"name": "view_cart", "arguments": {}}\n</tool_call>')
    server.script(Say(block), Say("ในตะกร้ามี Splendor รวม 1,260 บาท ส่วน Catan หมดชั่วคราวค่ะ"))
    reply = turn(client, shop, "ดูตะกร้า แล้ว Catan มีไหม", mode="native")
    assert [name for name, _ in shop.calls] == ["search_products", "view_cart"]
    assert reply.fallback_reason is None


@pytest.mark.parametrize("server_budget,exit_code", [(1280, 0), (512, 1)])
def test_health_compares_the_visual_token_budgets(server_budget, exit_code):
    from click.testing import CliRunner

    from inference.cli import inference

    with FakeVLLMServer(max_visual_tokens=server_budget) as fake:
        fake.script(Say("."), Say("."))
        result = CliRunner().invoke(inference, ["health", "--base-url", fake.base_url, "--model", fake.model,
                                                "--max-visual-tokens", "1280"])
    assert result.exit_code == exit_code, result.output
    assert ("costs 1230 visual tokens on both sides" in result.output) == (exit_code == 0)
    if exit_code:
        assert "the bot prepares photos for 1230 tokens, the server counts 494" in result.output
