"""GPU work per LLM turn over a purchase with the shop's real tools, and visual tokens per photo.

Runs the real loop (agent.llm.loop) and client (inference.client) over HTTP against the fake vLLM server
from tests/ (a TEST DOUBLE: no model; its answers come from a scripted policy that reads the prompt).
Per request it reports the fake server's accounting: prompt tokens, the start identical to the previous
request's, the start found in any earlier request (vLLM's automatic prefix caching), completion tokens;
per run requests per turn. Tokens are estimated like the app does (text ≈ 3 characters a token, images
1 token per 28×28 block + 2); a real Qwen2.5 tokenizer gives other absolute numbers.

    PYTHAINLP_OFFLINE=1 .venv/bin/python bench/llm.py
"""
from __future__ import annotations

import io
import json
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_vllm_server import FakeVLLMServer, Say, last_user_text, tool_results  # noqa: E402
from PIL import Image  # noqa: E402

from agent.llm.history import trim_history  # noqa: E402
from agent.llm.loop import run_llm_turn  # noqa: E402
from agent.llm.prompts import SHOP_FACTS_HEADER  # noqa: E402
from inference.client import ChatClient  # noqa: E402
from inference.images import prepare_image, raw_visual_tokens  # noqa: E402

HISTORY_BUDGET_TOKENS = 1500


def _photo(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height), (30, 90, 160))
    image.paste((220, 200, 40), (width // 4, height // 4, width // 2, height // 2))  # some structure
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def call(tool: str, **arguments) -> str:
    """A Hermes tool-call block as Qwen2.5 writes it."""
    payload = json.dumps({"name": tool, "arguments": arguments}, ensure_ascii=False)
    return f"<tool_call>\n{payload}\n</tool_call>"


# -- the scripted model: it reads its prompt like a model would and calls a tool only when the answer is
#    in neither the shop facts after the customer's words nor a tool result already in the prompt --------


def _fact(body: dict, pattern: str) -> re.Match | None:
    text = last_user_text(body)
    facts = text.split(SHOP_FACTS_HEADER, 1)[1] if SHOP_FACTS_HEADER in text else ""
    return re.search(pattern, facts)


class Model:
    """Qwen's side of the purchase, scripted: answers from what its prompt holds, else calls the tool."""

    def __init__(self) -> None:
        self.sku = ""
        self.total_satang = 0

    def greet(self, body: dict) -> Say:
        return Say("สวัสดีค่ะ ทางร้านยินดีช่วยเลือกบอร์ดเกมค่ะ สนใจเกมแนวไหนคะ")

    def price(self, game: str):
        def step(body: dict) -> Say:
            hits = [h for r in tool_results(body) for h in r.get("results", []) if h.get("sku") and h.get("in_stock")]
            if hits:
                self.sku = hits[0]["sku"]
                return Say(f"{hits[0]['name']} ราคา {hits[0]['price_text']} ค่ะ สนใจใส่ตะกร้าไหมคะ")
            fact = _fact(body, r"สินค้า (.+?) \(sku ([^)]+)\) ราคา ([\d,]+ บาท) มีของ")
            if fact:
                self.sku = fact.group(2)
                return Say(f"{fact.group(1)} ราคา {fact.group(3)} ค่ะ สนใจใส่ตะกร้าไหมคะ")
            return Say(call("search_products", query=game))
        return step

    def players(self, game: str):
        def step(body: dict) -> Say:
            details = [r for r in tool_results(body) if "min_players" in r]
            if details:
                return Say(f"เล่นได้ {details[0]['min_players']}-{details[0]['max_players']} คนค่ะ")
            fact = _fact(body, r"เล่น (\d+-\d+) คน")
            if fact:
                return Say(f"{game} เล่นได้ {fact.group(1)} คนค่ะ")
            return Say(call("get_product_details", name=game))
        return step

    def add(self, body: dict) -> Say:
        return Say(call("add_to_cart", sku=self.sku, quantity=1))

    def cart(self, body: dict) -> Say:
        carts = [r for r in tool_results(body) if "items" in r]
        if carts:
            return Say(f"ในตะกร้ารวม {carts[0]['total_text']} ค่ะ")
        fact = _fact(body, r"ตะกร้า: .* รวม ([\d,]+ บาท)")
        if fact:
            return Say(f"ในตะกร้ามีเกมที่เลือกไว้ รวม {fact.group(1)} ค่ะ")
        return Say(call("view_cart"))

    def pickup(self, body: dict) -> Say:
        summaries = [r for r in tool_results(body) if "ready_to_confirm" in r]
        if summaries:
            self.total_satang = summaries[0]["total_satang"]
            return Say(f"สรุปยอดชำระ {summaries[0]['total_text']} รับที่ร้านค่ะ ยืนยันสั่งซื้อไหมคะ")
        return Say(call("set_shipping_details", fulfilment="pickup"))

    def confirm(self, body: dict) -> Say:
        if any("order" in r for r in tool_results(body)):
            return Say(call("create_payment_qr"))
        return Say(call("create_order", confirmed=True, expected_total_satang=self.total_satang))

    def deadline(self, body: dict) -> Say:
        orders = [o for r in tool_results(body) for o in r.get("orders", [])]
        if orders:
            return Say(f"ชำระได้ภายใน {orders[0].get('pay_before_text', '')} ค่ะ")
        fact = _fact(body, r"ภายใน ([^\n]+)")
        if fact:
            return Say(f"ชำระได้ภายใน {fact.group(1)} ค่ะ")
        return Say(call("get_order_status"))

    def thanks(self, body: dict) -> Say:
        return Say("ขอบคุณที่อุดหนุนทางร้านค่ะ ได้รับสลิปแล้วทางร้านจะแจ้งให้ทราบนะคะ")


def purchase(model: Model) -> list[tuple[str, object, int]]:
    """(customer's words, the model's policy for the turn, most requests it may take)."""
    return [
        ("สวัสดีค่ะ", model.greet, 1),
        ("Splendor ราคาเท่าไหร่คะ", model.price("Splendor"), 2),
        ("Splendor เล่นได้กี่คนคะ", model.players("Splendor"), 2),
        ("เอา Splendor 1 กล่องค่ะ", model.add, 2),
        ("ในตะกร้ามีอะไรบ้างคะ", model.cart, 2),
        ("Dobble ราคาเท่าไหร่คะ", model.price("Dobble"), 2),
        ("รับที่ร้านค่ะ", model.pickup, 2),
        ("ยืนยันค่ะ", model.confirm, 3),
        ("ต้องโอนภายในเมื่อไหร่คะ", model.deadline, 2),
        ("ขอบคุณค่ะ", model.thanks, 1),
    ]


def _real_shop(folder: str):
    """The shop's real tools over the in-memory MCP client, catalogue loaded, one customer bound."""
    from agent.mcp_client import ToolSession
    from agent.tools import ToolContext
    from shop.catalog import load_catalog
    from shop.customers import get_or_create_customer
    from shop.db import Database
    from shop.models import create_all
    from shop.settings import load_settings

    settings = load_settings(app_env="test", database_url=f"sqlite:///{folder}/bench.db")
    database = Database(settings.database_url)
    create_all(database)
    with database.session() as session:
        load_catalog(session)
        customers = [get_or_create_customer(session, "U" + c * 32).id for c in "abcde"]
    return database, [ToolSession(ToolContext(db=database, settings=settings, customer_id=c)) for c in customers]


def run_purchase(server, client, tools, *, mode: str, shop_context: bool) -> list[dict]:
    """One customer's purchase; a row per model request with its prompt, shared-prefix and completion tokens."""
    from agent.llm.turn import customer_says_yes

    model = Model()
    history: list[dict] = []
    rows: list[dict] = []
    awaiting = False
    for text, policy, most in purchase(model):
        server.script(*[policy] * most)
        before = len(server.accounting)
        reply = run_llm_turn(client, tools, history=trim_history(history, HISTORY_BUDGET_TOKENS), user_text=text,
                             image_jpeg=None, tool_mode=mode, deadline_s=30, shop_name="ร้านบอร์ดเกมตัวอย่าง",
                             awaiting_confirmation=awaiting, customer_confirmed=awaiting and customer_says_yes(text),
                             shop_context=shop_context)
        with server._lock:
            del server._script[:]          # steps the turn did not need
        assert reply.fallback_reason is None, (text, reply.fallback_reason)
        awaiting = any(name == "set_shipping_details" and out.get("ready_to_confirm")
                       for name, _, out in reply.tool_results)
        history += [{"role": "user", "content": text}, {"role": "assistant", "content": reply.text}]
        for index, entry in enumerate(server.accounting[before:]):
            rows.append({"turn": text if index == 0 else "", **entry})
    return rows


def print_purchase() -> None:
    import tempfile

    print("\n## a purchase with the shop's real tools (10 turns; the model is the fake server's scripted policy)")
    with tempfile.TemporaryDirectory() as folder, FakeVLLMServer() as server:
        database, sessions = _real_shop(folder)
        client = ChatClient(server.base_url, server.model, timeout_s=10)
        results = {}
        try:
            runs = (("without shop facts, every tool in full (first customer)", "prompt", False),
                    ("without shop facts, every tool in full (next customer)", "prompt", False),
                    ("with shop facts and stage tools (first customer)", "prompt", True),
                    ("with shop facts and stage tools (next customer)", "prompt", True),
                    ("with shop facts and stage tools, native tool mode (first customer)", "native", True))
            for (label, mode, shop_context), tools in zip(runs, sessions, strict=True):   # one customer each
                if "first" in label:   # a fresh server: nothing cached
                    server.accounting.clear()
                    server._last_prompt, server._earlier_prompts = "", []
                results[label] = run_purchase(server, client, tools, mode=mode, shop_context=shop_context)
        finally:
            client.close()
            for session in sessions:
                session.close()
            database.engine.dispose()
    for label, rows in results.items():
        print(f"\n### {label}")
        print(f"{'turn':26} {'prompt tok':>10} {'= previous start':>16} {'share':>6} {'cached (APC)':>12} "
              f"{'share':>6} {'completion':>10}")
        for row in rows:
            print(f"{row['turn'][:26]:26} {row['prompt_tokens']:10,d} {row['shared_prefix_tokens']:16,d} "
                  f"{row['shared_prefix_tokens'] / row['prompt_tokens']:6.0%} {row['cached_prefix_tokens']:12,d} "
                  f"{row['cached_prefix_tokens'] / row['prompt_tokens']:6.0%} {row['completion_tokens']:10d}")
        turns = sum(1 for row in rows if row["turn"])
        prompt = sum(row["prompt_tokens"] for row in rows)
        shared = sum(row["shared_prefix_tokens"] for row in rows)
        cached = sum(row["cached_prefix_tokens"] for row in rows)
        print(f"requests/turn {len(rows) / turns:.2f}; prompt tokens/request mean {prompt / len(rows):,.0f} "
              f"(max {max(r['prompt_tokens'] for r in rows):,}); identical to the previous request's start "
              f"{shared / prompt:.0%}, in the prefix cache {cached / prompt:.0%}; completion tokens/request "
              f"{statistics.mean(r['completion_tokens'] for r in rows):.0f}; prompt tokens/turn {prompt / turns:,.0f}; "
              f"not cached per turn {(prompt - cached) / turns:,.0f}")


PHOTO_SIZES = [(4032, 3024, "12 MP phone photo"), (3024, 4032, "12 MP portrait"), (4000, 6000, "24 MP camera"),
               (1920, 1080, "Full HD screenshot"), (1080, 2340, "phone screenshot"), (1024, 768, "LINE-compressed"),
               (640, 480, "small photo")]


def print_photos() -> None:
    print("\n## visual tokens per photo: raw (model defaults) vs prepared (budget 1,280 and 512)")
    print(f"{'photo':34} {'raw tokens':>10} {'1280: W×H':>11} {'tokens':>6} {'ratio':>6} "
          f"{'512: tokens':>11} {'JPEG KB':>7} {'prep ms p50':>11}")
    for width, height, label in PHOTO_SIZES:
        data = _photo(width, height)
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            prepared = prepare_image(data)
            timings.append((time.perf_counter() - started) * 1000)
        small = prepare_image(data, max_visual_tokens=512)
        raw = raw_visual_tokens(height, width)
        print(f"{f'{width}×{height} {label}':34} {raw:10,d} {f'{prepared.width}×{prepared.height}':>11} "
              f"{prepared.visual_tokens:6,d} {raw / prepared.visual_tokens:5.1f}x {small.visual_tokens:11,d} "
              f"{prepared.jpeg_bytes / 1024:7.0f} {statistics.median(timings):11.1f}")


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.ERROR)
    print_purchase()
    print_photos()
