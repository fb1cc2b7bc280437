"""What calling the shop tools through MCP costs, against calling the same functions directly.

    PYTHAINLP_OFFLINE=1 .venv/bin/python bench/mcp_tools.py [--calls 500]

Same process, same temporary SQLite database, same tool and arguments. Prints p50/p99 of: a direct
`agent.tools.call_tool`, the same call through the in-memory MCP client (sync facade `ToolSession`,
which hops to the shared event-loop thread and back), opening + closing a session (one per turn),
and `list_tools`. The difference between the first two is the MCP overhead per tool call.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from shop_data import seed_shop  # noqa: E402

from agent.mcp_client import ToolSession  # noqa: E402
from agent.tools import ToolContext, call_tool  # noqa: E402
from shop.db import Database  # noqa: E402
from shop.models import create_all  # noqa: E402
from shop.settings import load_settings  # noqa: E402


def timed(fn, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def line(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"{label:<44} p50 {statistics.median(ordered):7.3f} ms   p99 {p99:7.3f} ms   (n={len(ordered)})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite:///{Path(scratch) / 'bench.db'}")
        create_all(db)
        shop = seed_shop(db)
        ctx = ToolContext(db, load_settings(app_env="test", database_url=db.url), shop.alice)
        arguments = {"sku": "TTR"}
        for _ in range(50):  # warm-up: imports, SQLAlchemy compiled-statement cache, event loop thread
            call_tool(ctx, "get_product_price", arguments)
        direct = timed(lambda: call_tool(ctx, "get_product_price", arguments), args.calls)
        with ToolSession(ctx) as tools:
            for _ in range(50):
                tools.call_tool("get_product_price", arguments)
            via_mcp = timed(lambda: tools.call_tool("get_product_price", arguments), args.calls)
            listing = timed(tools.list_tools, 100)
        sessions = timed(lambda: ToolSession(ctx).close(), 200)
        db.engine.dispose()
    overhead = statistics.median(via_mcp) - statistics.median(direct)
    print(line("get_product_price, direct call_tool", direct))
    print(line("get_product_price, in-memory MCP (sync)", via_mcp))
    print(line("open + close a ToolSession", sessions))
    print(line("list_tools (17 tools)", listing))
    print(f"MCP overhead per call (p50 difference): {overhead:.3f} ms; "
          f"ratio {statistics.median(via_mcp) / statistics.median(direct):.2f}x")


if __name__ == "__main__":
    main()
