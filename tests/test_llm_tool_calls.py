"""Reading Qwen2.5's Hermes tool calls tolerantly, and writing tool results back."""
from __future__ import annotations

import json

import pytest

from agent.llm.tool_calls import parse_native_tool_calls, parse_tool_calls, render_tool_calls, render_tool_responses


def _calls(text: str) -> list[tuple[str, dict]]:
    return [(call.name, call.arguments) for call in parse_tool_calls(text).calls]


def test_one_block():
    text = '<tool_call>\n{"name": "search_products", "arguments": {"query": "Splendor"}}\n</tool_call>'
    parsed = parse_tool_calls(text)
    assert _calls(text) == [("search_products", {"query": "Splendor"})]
    assert parsed.text == "" and parsed.errors == []


def test_several_blocks_in_order_with_text_around():
    text = ('ทางร้านขอเช็กให้นะคะ\n<tool_call>\n{"name": "search_products", "arguments": {"query": "Catan"}}\n'
            '</tool_call>\n<tool_call>\n{"name": "view_cart", "arguments": {}}\n</tool_call>\nรอสักครู่ค่ะ')
    parsed = parse_tool_calls(text)
    assert [(c.name, c.arguments) for c in parsed.calls] == [("search_products", {"query": "Catan"}),
                                                             ("view_cart", {})]
    assert parsed.text == "ทางร้านขอเช็กให้นะคะ\n\nรอสักครู่ค่ะ"
    assert len({call.id for call in parsed.calls}) == 2


@pytest.mark.parametrize("block,expected", [
    ("{'name': 'search_products', 'arguments': {'query': 'Ticket to Ride'}}", {"query": "Ticket to Ride"}),
    ('{"name": "search_products", "arguments": {"query": "Catan",},}', {"query": "Catan"}),
    ('{"name": "search_products", "arguments": {"query": "Catan"}', {"query": "Catan"}),
    ('{"name": "search_products", "arguments": {"query": "Catan', {"query": "Catan"}),
    ('```json\n{"name": "search_products", "arguments": {"query": "Catan"}}\n```', {"query": "Catan"}),
    ('เรียกเครื่องมือ: {"name": "search_products", "arguments": {"query": "Catan"}} เสร็จแล้ว', {"query": "Catan"}),
    ("{'name': 'search_products', 'arguments': {'query': 'it\\'s \"Catan\"', 'exact': True}}",
     {"query": 'it\'s "Catan"', "exact": True}),
    ('{"name": "search_products", "arguments": "{\\"query\\": \\"Catan\\"}"}', {"query": "Catan"}),
    ('{"function": {"name": "search_products", "parameters": {"query": "Catan"}}}', {"query": "Catan"}),
])
def test_common_json_faults_are_repaired(block, expected):
    assert _calls(f"<tool_call>\n{block}\n</tool_call>") == [("search_products", expected)]


def test_unclosed_last_block_is_read():
    assert _calls('<tool_call>{"name": "view_cart", "arguments": {}}') == [("view_cart", {})]


def test_fenced_call_without_tags_is_read():
    text = 'ได้ค่ะ\n```json\n{"name": "view_cart", "arguments": {}}\n```'
    parsed = parse_tool_calls(text)
    assert [(c.name, c.arguments) for c in parsed.calls] == [("view_cart", {})]
    assert parsed.text == "ได้ค่ะ"


def test_plain_json_in_prose_is_not_a_call():
    assert parse_tool_calls('ตัวอย่าง {"name": "x"} ค่ะ').calls == []


def test_unreadable_block_is_reported_and_the_good_one_kept():
    parsed = parse_tool_calls('<tool_call>ไม่ใช่ JSON</tool_call><tool_call>{"name": "view_cart", "arguments": {}}</tool_call>')
    assert [call.name for call in parsed.calls] == ["view_cart"]
    assert len(parsed.errors) == 1 and "unreadable" in parsed.errors[0]


def test_call_without_a_name_is_an_error():
    parsed = parse_tool_calls('<tool_call>{"arguments": {"q": 1}}</tool_call>')
    assert parsed.calls == [] and parsed.errors


def test_arguments_that_are_not_an_object_are_an_error():
    parsed = parse_tool_calls('<tool_call>{"name": "a", "arguments": [1, 2]}</tool_call>')
    assert parsed.calls == [] and "not an object" in parsed.errors[0]


def test_no_blocks_is_plain_text():
    parsed = parse_tool_calls("  สวัสดีค่ะ  ")
    assert parsed.calls == [] and parsed.errors == [] and parsed.text == "สวัสดีค่ะ"
    assert parse_tool_calls(None).text == ""


def test_native_tool_calls_keep_their_ids():
    parsed = parse_native_tool_calls([
        {"id": "chatcmpl-tool-1", "type": "function",
         "function": {"name": "search_products", "arguments": '{"query": "คาทาน"}'}},
        {"id": "chatcmpl-tool-2", "type": "function", "function": {"name": "view_cart", "arguments": ""}},
        {"id": "chatcmpl-tool-3", "type": "function", "function": {"arguments": "{}"}},
    ])
    assert [(c.id, c.name, c.arguments) for c in parsed.calls] == [
        ("chatcmpl-tool-1", "search_products", {"query": "คาทาน"}), ("chatcmpl-tool-2", "view_cart", {})]
    assert len(parsed.errors) == 1


def test_rendering_matches_qwen25_template_and_round_trips():
    calls = parse_tool_calls('<tool_call>{"name": "search_products", "arguments": {"query": "คาทาน"}}</tool_call>').calls
    rendered = render_tool_calls(calls)
    assert rendered == '<tool_call>\n{"name": "search_products", "arguments": {"query":"คาทาน"}}\n</tool_call>'
    assert [(c.name, c.arguments) for c in parse_tool_calls(rendered).calls] == [("search_products", {"query": "คาทาน"})]
    responses = render_tool_responses([{"price_satang": 126000, "name": "สเปลนเดอร์"}, {"error": "x"}])
    blocks = responses.split("\n</tool_response>\n")
    assert responses.startswith("<tool_response>\n") and responses.endswith("\n</tool_response>")
    assert len(blocks) == 2
    assert json.loads(blocks[0].removeprefix("<tool_response>\n")) == {"price_satang": 126000, "name": "สเปลนเดอร์"}
    assert "สเปลนเดอร์" in responses  # Thai stays readable, not \\u escapes


def test_two_objects_in_one_block_are_two_calls():
    text = ('<tool_call>\n{"name": "search_products", "arguments": {"query": "Catan"}}\n'
            '{"name": "view_cart", "arguments": {}}\n</tool_call>')
    assert _calls(text) == [("search_products", {"query": "Catan"}), ("view_cart", {})]


def test_arguments_encoded_twice_are_decoded_once_more():
    doubled = json.dumps(json.dumps({"query": "คาทาน"}, ensure_ascii=False), ensure_ascii=False)
    parsed = parse_native_tool_calls([{"id": "chatcmpl-tool-9", "type": "function",
                                       "function": {"name": "search_products", "arguments": doubled}}])
    assert [(c.name, c.arguments) for c in parsed.calls] == [("search_products", {"query": "คาทาน"})]
    plain_string = parse_native_tool_calls([{"function": {"name": "x", "arguments": json.dumps("hello")}}])
    assert plain_string.calls == [] and "not an object" in plain_string.errors[0]
