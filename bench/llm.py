"""LLM agent cost per turn on scripted conversations, and visual tokens per photo before/after resizing.

Runs the real loop (agent.llm.loop) and client (inference.client) over HTTP against the fake vLLM server
from tests/ (a TEST DOUBLE: scripted model output, no model). Prompt tokens are the fake server's
`usage`, estimated the way the app estimates them (text ≈ 3 characters per token, images 1 token per
28×28 block + 2); a real Qwen2.5 tokenizer gives different absolute numbers, the comparison between
modes and turns is what this shows. Timings are loopback HTTP + our code, not model latency.

    .venv/bin/python bench/llm.py
"""
from __future__ import annotations

import io
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_shop_tools import FakeShopTools  # noqa: E402
from fake_vllm_server import FakeVLLMServer, Say  # noqa: E402
from PIL import Image  # noqa: E402

from agent.llm.history import estimate_tokens, trim_history  # noqa: E402
from agent.llm.loop import run_llm_turn  # noqa: E402
from agent.llm.prompts import build_system_prompt  # noqa: E402
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


# (label, customer text, photo size or None, scripted model outputs for this turn)
CONVERSATION = [
    ("greeting", "สวัสดีค่ะ", None, [Say("สวัสดีค่ะ ทางร้านยินดีช่วยเลือกบอร์ดเกมค่ะ สนใจเกมแนวไหนคะ")]),
    ("price question", "Splendor ราคาเท่าไหร่คะ", None,
     [Say(call("search_products", query="Splendor")), Say("Splendor ราคา 1,260 บาท มีของ 3 กล่องค่ะ")]),
    ("add to cart", "เอา 2 กล่องค่ะ", None,
     [Say(call("add_to_cart", name="Splendor", quantity=2)), Say("เพิ่ม Splendor 2 กล่องแล้วค่ะ ยอดรวม 2,520 บาทค่ะ")]),
    ("two tools at once", "ดูตะกร้า แล้วมี Catan ไหม", None,
     [Say(call("view_cart") + "\n" + call("search_products", query="Catan")),
      Say("ในตะกร้ามี Splendor 2 กล่อง รวม 2,520 บาทค่ะ ส่วน Catan หมดชั่วคราวค่ะ")]),
    ("box photo", None, (4032, 3024),
     [Say(call("search_products", query="Ticket to Ride")), Say("รูปนี้คือ Ticket to Ride ค่ะ ราคา 1,890 บาท มีของค่ะ")]),
    ("made-up price, regenerated", "Ticket to Ride ลดได้ไหม", None,
     [Say(call("search_products", query="Ticket to Ride")), Say("ลดเหลือ 1,500 บาทค่ะ"),
      Say("ขออภัยค่ะ ทางร้านลดราคาให้ไม่ได้ Ticket to Ride ราคา 1,890 บาทค่ะ")]),
]


def run_conversation(mode: str) -> list[dict]:
    rows = []
    with FakeVLLMServer() as server:
        client = ChatClient(server.base_url, server.model, timeout_s=10)
        shop = FakeShopTools()
        history: list[dict] = []
        for label, text, photo, outputs in CONVERSATION:
            server.script(*outputs)
            image = _photo(*photo) if photo else None
            started = time.perf_counter()
            reply = run_llm_turn(client, shop, history=trim_history(history, HISTORY_BUDGET_TOKENS),
                                 user_text=text, image_jpeg=image, tool_mode=mode, deadline_s=30)
            elapsed = (time.perf_counter() - started) * 1000
            assert reply.fallback_reason is None, (label, reply.fallback_reason)
            history += [{"role": "user", "content": text or "(รูปภาพ)"}, {"role": "assistant", "content": reply.text}]
            rows.append({"turn": label, "calls": reply.llm_calls, "prompt": reply.prompt_tokens,
                         "completion": reply.completion_tokens, "visual": reply.visual_tokens,
                         "tools": len(reply.tool_results), "ms": elapsed})
        client.close()
    return rows


def print_conversations() -> None:
    tools = FakeShopTools().list_tools()
    for mode in ("prompt", "native"):
        system = build_system_prompt(tools, tool_mode=mode)
        print(f"\n## {mode} mode (system prompt ≈ {estimate_tokens(system)} tokens"
              f"{' incl. the <tools> block' if mode == 'prompt' else '; tools sent in the request'})")
        print(f"{'turn':30} {'LLM calls':>9} {'tools':>5} {'prompt tok':>10} {'of which visual':>15} "
              f"{'completion':>10} {'ms (loopback)':>13}")
        rows = run_conversation(mode)
        for row in rows:
            print(f"{row['turn']:30} {row['calls']:9d} {row['tools']:5d} {row['prompt']:10,d} "
                  f"{row['visual']:15,d} {row['completion']:10d} {row['ms']:13.1f}")
        calls = [row["calls"] for row in rows]
        prompts = [row["prompt"] for row in rows]
        print(f"{'per turn: mean':30} {statistics.mean(calls):9.2f} {'':5} {statistics.mean(prompts):10,.0f}"
              f"  (median prompt tokens {statistics.median(prompts):,.0f}, max {max(prompts):,})")


def _answer_with_the_price(body: dict) -> Say:
    """Scripted model step: read the first search hit from the last <tool_response> and quote it."""
    last = body["messages"][-1]
    text = last["content"] if last["role"] == "user" else ""
    payload = text.split("<tool_response>\n", 1)[-1].split("\n</tool_response>", 1)[0] if text else last["content"]
    hit = json.loads(payload)["results"][0]
    return Say(f"{hit['name_th'] or hit['name']} ราคา {hit['price_text']} ค่ะ")


def print_real_tool_prompt() -> None:
    """The shop's real tools (agent/tools.py over the in-memory MCP client, catalogue loaded): the system
    prompt size and one price question answered through them."""
    import tempfile

    print("\n## with the real shop tools (catalogue loaded; the model is still the fake server)")
    try:
        import shop.models  # noqa: F401
        from agent.llm.prompts import openai_tools
        from agent.mcp_client import ToolSession
        from agent.tools import ToolContext
        from shop.catalog import load_catalog
        from shop.db import Database
        from shop.models.base import Base
        from shop.settings import load_settings

        with tempfile.TemporaryDirectory() as folder:
            settings = load_settings(app_env="test", database_url=f"sqlite:///{folder}/bench.db")
            database = Database(settings.database_url)
            Base.metadata.create_all(database.engine)
            with database.session() as session:
                load_catalog(session)
            rows = []
            with ToolSession(ToolContext(db=database, settings=settings)) as tools, FakeVLLMServer() as server:
                specs = tools.list_tools()
                client = ChatClient(server.base_url, server.model, timeout_s=10)
                for mode in ("prompt", "native"):
                    server.script(Say(call("search_products", query="Splendor")), _answer_with_the_price)
                    reply = run_llm_turn(client, tools, history=[], user_text="Splendor ราคาเท่าไหร่คะ",
                                         image_jpeg=None, tool_mode=mode, deadline_s=30)
                    rows.append((mode, reply))
                client.close()
            database.engine.dispose()
    except Exception as error:  # the shop tools are another part of the project; report, do not fail
        print(f"unavailable: {type(error).__name__}: {error}")
        return
    prompt_mode = build_system_prompt(specs, tool_mode="prompt")
    native_mode = build_system_prompt(specs, tool_mode="native")
    tools_field = json.dumps(openai_tools(specs), ensure_ascii=False)
    print(f"{len(specs)} tools; prompt mode system prompt ≈ {estimate_tokens(prompt_mode):,} tokens "
          f"({len(prompt_mode):,} chars); native mode ≈ {estimate_tokens(native_mode):,} + tools field "
          f"≈ {estimate_tokens(tools_field):,} tokens")
    for mode, reply in rows:
        print(f"{mode:6} price question: {reply.llm_calls} LLM calls, {reply.prompt_tokens:,} prompt tokens, "
              f"fallback={reply.fallback_reason}, reply: {reply.text}")


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
    print_conversations()
    print_real_tool_prompt()
    print_photos()
