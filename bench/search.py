"""Search quality and latency on the labelled query set, against a naive baseline in the same process.

    .venv/bin/python bench/search.py [--queries tests/data/search_queries.tsv] [--database-url URL] [--show-misses]

Without --database-url the catalogue is loaded into a temporary SQLite database first. Prints top-1 and
top-5 accuracy (overall and per query type) and p50/p99 latency per query after a warm-up, for
salesbot's search and for plain rapidfuzz WRatio over product and game names.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402
from sqlalchemy import select  # noqa: E402

from shop.catalog import load_catalog  # noqa: E402
from shop.db import Database  # noqa: E402
from shop.models import create_all  # noqa: E402
from shop.models.catalog import Game, Product, ProductAlias  # noqa: E402
from shop.search import get_index, search  # noqa: E402
from shop.text import normalize  # noqa: E402


def read_queries(path: Path) -> list[tuple[str, set[str], str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        query, expected, kind = line.split("\t")
        rows.append((query, set(expected.split("|")), kind))
    return rows


def hit_id(sku: str | None, game_id: int | None) -> str:
    return sku if sku else f"game:{game_id}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class NaiveBaseline:
    """Plain rapidfuzz WRatio over every product's English and Thai name and every BGG name."""

    def __init__(self, session):
        self.names, self.ids = [], []
        for sku, name_en, name_th in session.execute(select(Product.sku, Product.name_en, Product.name_th)):
            for name in (name_en, name_th):
                if name:
                    self.names.append(name.lower())
                    self.ids.append(sku)
        for game_id, name in session.execute(select(Game.id, Game.name)):
            self.names.append(name.lower())
            self.ids.append(f"game:{game_id}")

    def __call__(self, query: str) -> list[str]:
        out: list[str] = []
        for _name, _score, i in process.extract(query.lower(), self.names, scorer=fuzz.WRatio, limit=15):
            if self.ids[i] not in out:
                out.append(self.ids[i])
        return out[:5]


def measure(name: str, run, queries, show_misses: bool) -> None:
    for query, _expected, _kind in queries:  # warm-up pass: lazy model load, romanisation cache
        run(query)
    latencies, top1, top5 = [], 0, 0
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    misses = []
    for query, expected, kind in queries:
        started = time.perf_counter()
        ids = run(query)
        latencies.append((time.perf_counter() - started) * 1000)
        first, five = bool(ids) and ids[0] in expected, bool(expected & set(ids[:5]))
        top1 += first
        top5 += five
        by_kind[kind][0] += 1
        by_kind[kind][1] += first
        by_kind[kind][2] += five
        if not first:
            misses.append((query, ids[:3], sorted(expected)[:3]))
    n = len(queries)
    print(f"\n{name}: {n} queries  top-1 {100 * top1 / n:.1f} %  top-5 {100 * top5 / n:.1f} %  "
          f"latency p50 {statistics.median(latencies):.1f} ms  p99 {percentile(latencies, 0.99):.1f} ms  "
          f"max {max(latencies):.1f} ms")
    for kind, (count, first, five) in sorted(by_kind.items()):
        print(f"  {kind:12} {count:4}  top-1 {100 * first / count:5.1f} %  top-5 {100 * five / count:5.1f} %")
    if show_misses:
        for query, got, expected in misses:
            print(f"  miss: {query!r} -> {got} (want {expected})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=Path, default=ROOT / "tests" / "data" / "search_queries.tsv")
    parser.add_argument("--database-url", help="use this loaded database instead of a fresh temporary one")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    queries = read_queries(args.queries)

    with tempfile.TemporaryDirectory() as scratch:
        database = Database(args.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}")
        if not args.database_url:
            create_all(database)
            started = time.perf_counter()
            with database.session() as session:
                report = load_catalog(session)
            print(f"catalogue loaded in {time.perf_counter() - started:.1f} s: {report.summary()}")
        with database.session() as session:
            known = {normalize(n) for n in session.scalars(select(ProductAlias.alias))}
            known |= {normalize(n) for row in session.execute(select(Product.name_en, Product.name_th)) for n in row}
            verbatim = sum(1 for q, _e, _k in queries if normalize(q) in known)
            print(f"{len(queries)} labelled queries; {verbatim} are verbatim a product name or curated alias "
                  f"(the *_unseen types are none of them)")
            started = time.perf_counter()
            get_index(session).ensure_embeddings()
            print(f"search index built in {time.perf_counter() - started:.1f} s (embeddings cached under var/cache)")
            measure("salesbot search", lambda q: [hit_id(h.sku, h.game_id) for h in search(session, q, limit=5)],
                    queries, args.show_misses)
            baseline = NaiveBaseline(session)
            measure("baseline (rapidfuzz WRatio over names)", baseline, queries, args.show_misses and False)
        database.engine.dispose()


if __name__ == "__main__":
    main()
