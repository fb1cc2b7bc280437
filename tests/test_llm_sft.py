"""`salesbot export sft`: the shop's conversations as fine-tuning data, on generated conversations.

Each generated customer gives a delivery name, phone and address to the real tools (so they travel in
tool arguments and results and in the customer's own words), and the bot's replies repeat some of them.
No such value may survive the export; LLM replies that fail the guardrails and offline-agent templates
are left out; a staff reply after a handoff is the example's answer."""
from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner

from agent.llm.sft import export_lines
from agent.mcp_server import tool_definitions
from agent.tools import ToolContext, call_tool
from shop.customers import get_or_create_customer
from shop.models import ChatMessage

FIRST = ["สมชาย", "สมหญิง", "วิภา", "ณัฐพล", "กมล", "ปิยะ"]
LAST = ["ใจดี", "ทองคำ", "ศรีสุข", "วงศ์ไทย", "มีสุข"]
STREETS = ["ถนนสุขุมวิท", "ถนนพหลโยธิน", "ซอยลาดพร้าว 71", "ถนนนิมมานเหมินท์"]
AREAS = [("แขวงคลองเตย เขตคลองเตย กรุงเทพฯ", "10110"), ("ตำบลสุเทพ อำเภอเมือง จังหวัดเชียงใหม่", "50200"),
         ("แขวงจอมพล เขตจตุจักร กรุงเทพฯ", "10900")]


def _specs() -> list[dict]:
    return [{"name": t.name, "description": t.description or "", "input_schema": t.parameters}
            for t in tool_definitions()]


def _say(session, customer_id: int, role: str, text: str, agent: str = "", calls=None) -> None:
    session.add(ChatMessage(customer_id=customer_id, role=role, text=text, agent=agent, tool_calls=calls))


def generate(shop, settings, count: int, seed: int = 7) -> list[dict]:
    """`count` customers who each buy Splendor for delivery; returns what each one's personal data was."""
    rng = random.Random(seed)
    people = []
    for number in range(count):
        person = {"name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                  "phone": f"08{rng.randint(1, 9)}-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                  "line_user_id": "U" + f"{number:02d}" + "e" * 30}
        area, postcode = rng.choice(AREAS)
        person["address"] = f"{rng.randint(1, 999)}/{rng.randint(1, 99)} {rng.choice(STREETS)} {area} {postcode}"
        with shop.db.session() as session:
            customer_id = get_or_create_customer(session, person["line_user_id"], person["name"]).id
        context = ToolContext(shop.db, settings, customer_id)
        added = call_tool(context, "add_to_cart", {"sku": "SPL-TH", "quantity": 1})
        details = {"fulfilment": "delivery", "name": person["name"], "phone": person["phone"],
                   "address": person["address"]}
        summary = call_tool(context, "set_shipping_details", details)
        order = call_tool(context, "create_order", {"confirmed": True, "expected_total_satang": summary["total_satang"]})
        assert "order" in order, order
        with shop.db.session() as session:
            _say(session, customer_id, "user", "Splendor ราคาเท่าไหร่คะ")
            _say(session, customer_id, "assistant", "Splendor ราคา 1,260 บาท มีของค่ะ", "llm",
                 [{"name": "search_products", "arguments": {"query": "Splendor"},
                   "result": call_tool(context, "search_products", {"query": "Splendor"})}])
            _say(session, customer_id, "user", "เอา 1 กล่องค่ะ")
            _say(session, customer_id, "assistant", added["message_th"], "llm",
                 [{"name": "add_to_cart", "arguments": {"sku": "SPL-TH", "quantity": 1}, "result": added}])
            _say(session, customer_id, "user",
                 f"ส่งให้ {person['name']} โทร {person['phone']} ที่อยู่ {person['address']} ค่ะ")
            _say(session, customer_id, "assistant",
                 f"สรุปส่งถึงคุณ {person['name']} เบอร์ {person['phone']} ยอดชำระ {summary['total_text']} ยืนยันไหมคะ",
                 "llm", [{"name": "set_shipping_details", "arguments": details, "result": summary}])
            _say(session, customer_id, "user", "ลดให้หน่อยได้ไหม")             # a made-up discount: not learned
            _say(session, customer_id, "assistant", "ลดเหลือ 990 บาทให้ค่ะ", "llm", [])
            _say(session, customer_id, "user", "อยากคุยกับพนักงานค่ะ")          # the bot hands over; staff answer
            _say(session, customer_id, "assistant", "ทางร้านแจ้งพนักงานแล้วค่ะ", "llm",
                 [{"name": "handoff_to_staff", "arguments": {}, "result": {"request_id": 1}}])
            _say(session, customer_id, "staff", f"สวัสดีค่ะ คุณ{person['name']} พนักงานรับเรื่องแล้วค่ะ "
                 f"จะโทรกลับที่ {person['phone']} นะคะ")       # as shop/handoff.py records a staff reply
            _say(session, customer_id, "user", "[ปุ่ม] a=confirm&t=131000")  # a button: nothing typed
            _say(session, customer_id, "assistant", "สร้างคำสั่งซื้อแล้วค่ะ", "offline")
            _say(session, customer_id, "user", "ขอบคุณค่ะ")
            _say(session, customer_id, "assistant", "ยินดีค่ะ", "offline")   # offline templates: not learned
        people.append(person)
    return people


def _all_strings(value) -> str:
    return json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize("fmt", ["chatml", "instruction"])
def test_no_personal_data_survives_the_export(shop, settings, fmt):
    people = generate(shop, settings, 5)       # the test catalogue has five Splendor
    with shop.db.session() as session:
        lines = list(export_lines(session, fmt=fmt, tool_specs=_specs()))
    text = "\n".join(lines)
    for person in people:
        digits = person["phone"].replace("-", "")
        for secret in (person["name"], person["phone"], digits, person["address"], person["line_user_id"]):
            assert secret not in text, (fmt, secret)
        street_and_number = person["address"].split(" ")[0]
        assert street_and_number not in text
    assert "<เบอร์โทร>" in text and "<ชื่อ>" in text and "<ที่อยู่>" in text
    assert "1,260 บาท" in text and "SPL-TH" in text       # prices and products stay


def test_only_guardrail_passing_llm_replies_and_staff_answers_are_examples(shop, settings):
    generate(shop, settings, 2)
    with shop.db.session() as session:
        records = [json.loads(line) for line in export_lines(session, fmt="instruction", tool_specs=_specs())]
    instructions = [record["instruction"] for record in records]
    assert instructions.count("Splendor ราคาเท่าไหร่คะ") == 2
    assert "ลดให้หน่อยได้ไหม" not in instructions          # "990 บาท" came from no tool
    assert "ขอบคุณค่ะ" not in instructions and not any(i.startswith("[ปุ่ม]") for i in instructions)
    handoffs = [record for record in records if record["instruction"] == "อยากคุยกับพนักงานค่ะ"]
    assert len(handoffs) == 2 and all(r["response"].startswith("สวัสดีค่ะ คุณ<ชื่อ> พนักงานรับเรื่องแล้วค่ะ")
                                      for r in handoffs)
    price = next(r for r in records if r["instruction"] == "Splendor ราคาเท่าไหร่คะ")
    assert "เครื่องมือ search_products" in price["context"] and price["response"] == "Splendor ราคา 1,260 บาท มีของค่ะ"


def test_chatml_is_qwens_tool_format(shop, settings):
    generate(shop, settings, 1)
    with shop.db.session() as session:
        records = [json.loads(line) for line in export_lines(session, fmt="chatml", tool_specs=_specs())]
    record = next(r for r in records if r["messages"][-1]["content"].startswith("ใส่ "))
    roles = [m["role"] for m in record["messages"]]
    assert roles[0] == "system" and roles[-3:] == ["assistant", "tool", "assistant"]
    call = record["messages"][-3]["tool_calls"][0]
    assert call["function"] == {"name": "add_to_cart", "arguments": {"sku": "SPL-TH", "quantity": 1}}
    assert record["messages"][-2]["tool_call_id"] == call["id"]
    assert {tool["function"]["name"] for tool in record["tools"]} >= {"add_to_cart", "search_products"}
    assert "<tools>" not in record["messages"][0]["content"]   # the template renders the tools field


def test_the_command_writes_the_file(shop, settings, tmp_path, monkeypatch):
    from agent.cli import export

    generate(shop, settings, 2)
    monkeypatch.setenv("DATABASE_URL", shop.db.url)
    monkeypatch.setenv("APP_ENV", "development")
    out = tmp_path / "sft.jsonl"
    result = CliRunner().invoke(export, ["sft", "--format", "instruction", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 8 and f"{len(lines)} examples" in result.output
    later = CliRunner().invoke(export, ["sft", "--since", "2999-01-01", str(out)])
    assert later.exit_code == 0 and out.read_text(encoding="utf-8") == ""
