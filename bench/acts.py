"""Dialogue acts of whole messages: several products, greetings around requests, context, shop questions.

    PYTHAINLP_OFFLINE=1 .venv/bin/python bench/acts.py [--misses]

Scores tests/data/utterances_compound.tsv (written before the act reader, see docs/benchmarks.md): a
message counts only when every act is found in order with its labelled items (sku and quantity),
topics and constraints. The real catalogue is loaded into a temporary SQLite database, because product
mentions are found by span search over it. Two systems in the same run:
- the act reader (`agent.offline.acts.read_acts` with `shop.search.spans.find_mentions`);
- baseline, the previous design: one intent and one product phrase per message (`understand()`), the
  phrase resolved by the shop's name lookup (`shop.cart.find_product`), as the old dialogue did.
Also the time per message (act reader, after warm-up).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.offline.evaluation import catalogue_reader, evaluate_acts, load_labelled_acts  # noqa: E402
from agent.offline.intents import Intent  # noqa: E402
from agent.offline.nlu import understand  # noqa: E402
from shop.catalog import load_catalog  # noqa: E402
from shop.db import Database  # noqa: E402
from shop.models import create_all  # noqa: E402

DATA = ROOT / "tests" / "data" / "utterances_compound.tsv"

# The old dialogue's reading of one intent (agent/offline/dialogue.py before the act reader).
_OLD_KIND = {
    Intent.GREETING: "greeting", Intent.THANKS_BYE: "thanks", Intent.ADD_TO_CART: "add",
    Intent.CHANGE_CART: "set_quantity", Intent.REMOVE_FROM_CART: "remove", Intent.VIEW_CART: "view_cart",
    Intent.CHECKOUT: "checkout", Intent.ORDER_STATUS: "order_status", Intent.CANCEL: "cancel",
    Intent.CONFIRM: "confirm", Intent.DENY: "deny", Intent.TALK_TO_STAFF: "talk_to_staff",
    Intent.UNKNOWN: "unknown", Intent.RECOMMENDATION: "recommend", Intent.AVAILABILITY: "ask_product",
    Intent.PRODUCT_QUESTION: "ask_product", Intent.PRICE: "ask_price", Intent.PAYMENT_QUESTION: "shop_question",
    Intent.SHIPPING_DETAILS: "shop_question",
}


def baseline_reader(session):
    from shop.cart import find_product
    from shop.errors import ShopError

    def read(text: str, expecting: str | None):
        u = understand(text, expecting=expecting)
        e = u.entities
        kind = _OLD_KIND[u.intent]
        topics = []
        if kind == "shop_question":
            topics = ["payment"] if u.intent is Intent.PAYMENT_QUESTION else ["pickup" if e.fulfilment == "pickup"
                                                                              else "delivery"]
            if u.intent is Intent.SHIPPING_DETAILS and expecting == "fulfilment":
                kind, topics = "shipping_choice", []
        if kind == "ask_price" and any(w in text for w in ("ค่าส่ง", "ค่าจัดส่ง", "ส่งฟรี")):
            kind, topics = "shop_question", ["delivery"]
        items = []
        if e.product_query:
            try:
                skus = (find_product(session, e.product_query).sku,)
            except ShopError:
                skus = ()
            items.append(SimpleNamespace(skus=skus, ordinal=None, refers_to_previous=False, named=True,
                                         quantity=e.quantity))
        elif e.refers_to_previous or e.ordinal or e.quantity:
            items.append(SimpleNamespace(skus=(), ordinal=e.ordinal, refers_to_previous=True, named=False,
                                         quantity=e.quantity))
        return [SimpleNamespace(kind=SimpleNamespace(value=kind), items=items, topics=topics, entities=e)]

    return read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every message read wrongly")
    args = parser.parse_args()
    rows = load_labelled_acts(DATA)
    with tempfile.TemporaryDirectory() as directory:
        db = Database(f"sqlite:///{Path(directory) / 'catalog.db'}")
        create_all(db)
        with db.session() as session:
            load_catalog(session)
        with db.session() as session:
            systems = [("baseline: one intent per message", baseline_reader(session))]
            systems.insert(0, ("act reader", catalogue_reader(session)))
            for _, read in systems:   # warm-up: dictionaries, search index, encoder
                read("สวัสดีค่ะ มี splendor ไหม", None)
            print(f"{len(rows)} labelled messages ({DATA.name})\n")
            print("| system | whole message right | acts in the right order |\n| --- | ---: | ---: |")
            reports = {}
            for name, read in systems:
                times: list[float] = []

                def timed(text, expecting, read=read, times=times):
                    start = time.perf_counter()
                    out = read(text, expecting)
                    times.append((time.perf_counter() - start) * 1000)
                    return out

                report = evaluate_acts(rows, timed)
                reports[name] = (report, times)
                print(f"| {name} | {report.correct}/{report.total} ({report.accuracy:.1%}) | "
                      f"{report.kinds_correct}/{report.total} |")
            print("\nlatency per message:\n\n| system | p50 ms | max ms |\n| --- | ---: | ---: |")
            for name, (_report, times) in reports.items():
                print(f"| {name} | {statistics.median(times):.1f} | {max(times):.1f} |")
            if args.misses:
                for name, (report, _) in reports.items():
                    print(f"\nmisses of {name}:")
                    for row, got in report.misses:
                        shown = [f"{a.kind.value}({[(i.skus, i.ordinal, i.quantity) for i in a.items]})"
                                 f"{getattr(a, 'topics', '')}" for a in got]
                        print(f"  {row.text!r}\n     want {row.acts}\n     got  {shown}")
        db.engine.dispose()


if __name__ == "__main__":
    main()
