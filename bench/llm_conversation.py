"""LLM calls and prompt tokens per turn through the REAL turn pipeline, on a scripted purchase.

Unlike bench/llm.py (the agent loop alone), every turn here goes the whole way: the simulator's JSON API →
signed webhook → inbox → worker → bot.turn (history from the database, the shop's 17 tools over the
in-memory MCP client, guardrails, the offline fallback) → compose → LINE reply, with the real catalogue
loaded. The model is the fake vLLM server from tests/ (a TEST DOUBLE that replays scripted Qwen2.5
output); the script reads SKUs and prices from the tool results the pipeline sent it, as a model would.

Prompt tokens are the fake server's `usage` estimate (text ≈ 3 characters a token, an image one token per
28 × 28 block + 2), summed over every request of the turn; a real Qwen2.5 tokenizer gives other absolute
numbers. Milliseconds are loopback HTTP + our code + the simulator's 0.1 s settle, not model time.

    .venv/bin/python bench/llm_conversation.py
"""
from __future__ import annotations

import io
import json
import logging
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_vllm_server import FakeVLLMServer, Say, Status, tool_results  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from simulator_bot import running_service  # noqa: E402

from simulator.client import SimulatorClient  # noqa: E402

USER = "bench-customer"


def call(tool: str, **arguments) -> str:
    return "<tool_call>\n" + json.dumps({"name": tool, "arguments": arguments}, ensure_ascii=False) + "\n</tool_call>"


class Script:
    """The model's side of the conversation: reads what the tools returned, remembers the SKU and total."""

    def __init__(self) -> None:
        self.sku = ""
        self.total_satang = 0

    def quote_first_hit(self, body: dict) -> Say:
        hit = next(hit for hit in tool_results(body)[0]["results"] if hit.get("in_stock"))
        self.sku = hit["sku"]
        return Say(f"ทางร้านมี {hit['name']} ราคา {hit['price_text']} ค่ะ สนใจใส่ตะกร้าไหมคะ")

    def quote_from_facts(self, body: dict) -> Say:
        """The shop search's result is already after the customer's words: answer from it."""
        last = body["messages"][-1]["content"]
        text = last if isinstance(last, str) else " ".join(p.get("text", "") for p in last if p.get("type") == "text")
        match = re.search(r"สินค้า (.+?) \(sku ([^)]+)\) ราคา ([\d,]+ บาท) มีของ", text)
        if match is None:
            raise SystemExit(f"no in-stock product in the shop facts: {text[-300:]!r}")
        self.sku = match.group(2)
        return Say(f"ทางร้านมี {match.group(1)} ราคา {match.group(3)} ค่ะ สนใจใส่ตะกร้าไหมคะ")

    def add(self, body: dict) -> Say:
        return Say(call("add_to_cart", sku=self.sku, quantity=1))

    def summary(self, body: dict) -> Say:
        summary = tool_results(body)[0]
        self.total_satang = summary["total_satang"]
        return Say(f"สรุปยอดชำระ {summary['total_text']} รับที่ร้านค่ะ ยืนยันสั่งซื้อไหมคะ")

    def create(self, body: dict) -> Say:
        return Say(call("create_order", confirmed=True, expected_total_satang=self.total_satang))

    def turns(self) -> list[tuple[str, str | bytes | None, list]]:
        """(label, what the customer sends: text, photo bytes, or None = pay the last QR, model steps)."""
        return [
            ("greeting", "สวัสดีค่ะ", [Say("สวัสดีค่ะ ทางร้านยินดีช่วยเลือกบอร์ดเกมค่ะ สนใจเกมแนวไหนคะ")]),
            # the shop search for the named game is in the prompt: one request
            ("price question", "Love Letter ราคาเท่าไหร่คะ", [self.quote_from_facts]),
            # an action's own words end the turn: one request
            ("add to cart", "เอา 1 กล่องค่ะ", [self.add]),
            ("pickup → summary", "รับที่ร้านค่ะ", [Say(call("set_shipping_details", fulfilment="pickup")), self.summary]),
            ("confirm → order + QR", "ยืนยันค่ะ", [self.create, Say(call("create_payment_qr"))]),
            ("slip (never the model)", None, []),
            ("box photo 12 MP", box_photo(), [Say(call("search_products", query="Exploding Kittens")),
                                              self.quote_first_hit]),
            ("made-up price → offline", "ลดให้หน่อยได้ไหมคะ",
             [Say("ลดให้เหลือ 990 บาทค่ะ"), Say("ได้ค่ะ เหลือ 999 บาทค่ะ")]),
            ("LLM 500s → offline", "มี Splendor ไหมคะ", [Status(500), Status(500), Status(500)]),
        ]


def box_photo(size: tuple[int, int] = (4032, 3024)) -> bytes:
    image = Image.new("RGB", size, (120, 90, 60))
    draw = ImageDraw.Draw(image)
    draw.rectangle((800, 600, 3200, 2400), fill=(20, 60, 140), outline=(240, 240, 240), width=16)
    draw.text((1000, 900), "EXPLODING KITTENS", fill=(250, 210, 60), font_size=200)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def run(mode: str, db) -> list[dict]:
    from agent.llm.loop import named_product

    named_product("Love Letter ราคาเท่าไหร่คะ")   # load the Thai word splitter before the first timed turn
    rows = []
    script = Script()
    with FakeVLLMServer() as fake, \
            running_service(db, llm_base_url=fake.base_url, llm_tool_mode=mode, llm_retry_after_seconds=0.2,
                            llm_timeout_seconds=5) as url, \
            SimulatorClient(url, timeout=30, settle=0.1) as sim:
        for label, sent, steps in script.turns():
            time.sleep(0.25)   # past any cool-down left by the previous turn
            fake.script(*steps)
            before = len(fake.requests)
            started = time.perf_counter()
            if sent is None:
                answer = sim.pay(USER)
            elif isinstance(sent, bytes):
                answer = sim.send_image(USER, sent)
            else:
                answer = sim.say(USER, sent)
            elapsed = (time.perf_counter() - started) * 1000
            requests = fake.requests[before:]
            images = [part for body in requests for m in body["messages"] if isinstance(m["content"], list)
                      for part in m["content"] if part.get("type") == "image_url"]
            kinds = [m["type"] for m in answer.messages]
            rows.append({"turn": label, "requests": len(requests),
                         "prompt": sum(fake.usage(body, "")["prompt_tokens"] for body in requests),
                         "history": max((len(body["messages"]) - 2 for body in requests[:1]), default=0),
                         "images": len(images), "ms": elapsed, "reply": "+".join(kinds),
                         "unused_steps": fake.pending})
            assert fake.pending == 0, (label, "the pipeline asked the model fewer times than scripted")
    return rows


def main() -> None:
    import shop.models  # noqa: F401
    from shop.catalog import load_catalog
    from shop.db import Database
    from shop.models.base import Base

    logging.disable(logging.WARNING)
    for mode in ("prompt", "native"):
        with tempfile.TemporaryDirectory() as folder:
            db = Database(f"sqlite:///{folder}/bench.db")
            Base.metadata.create_all(db.engine)
            with db.session() as session:
                load_catalog(session)
            rows = run(mode, db)
            db.engine.dispose()
        print(f"\n## {mode} mode: one scripted purchase through the real pipeline (17 shop tools, catalogue)")
        print(f"{'turn':26} {'HTTP req':>8} {'prompt tok':>10} {'history msgs':>12} {'images':>6} "
              f"{'ms':>7}  reply messages")
        for row in rows:
            print(f"{row['turn']:26} {row['requests']:8d} {row['prompt']:10,d} {row['history']:12d} "
                  f"{row['images']:6d} {row['ms']:7.0f}  {row['reply']}")
        asked = [row for row in rows if row["requests"]]
        print(f"{'total':26} {sum(r['requests'] for r in rows):8d} {sum(r['prompt'] for r in rows):10,d}")
        print(f"per turn that asked the model: {statistics.mean(r['requests'] for r in asked):.2f} requests, "
              f"{statistics.mean(r['prompt'] for r in asked):,.0f} prompt tokens "
              f"(median {statistics.median(r['prompt'] for r in asked):,.0f}); "
              f"per request: {sum(r['prompt'] for r in asked) / sum(r['requests'] for r in asked):,.0f}")


if __name__ == "__main__":
    main()
