"""Back-office page times with many orders: the filtered, paged orders list and one order's page.

    .venv/bin/python bench/backoffice.py [--orders 20000] [--requests 200] [--database-url URL]

Builds a database with the migrations (`salesbot db upgrade`; a temporary SQLite file unless
--database-url names an empty PostgreSQL database), then the test catalogue, 2,000 customers and
--orders orders spread over 180 days (1-3 lines each, every status, a payment for paid ones, a slip
check for one in ten), and a staff account. Then, through Flask's test client signed in as staff
(the whole request: session check, queries, template, no network), times --requests GETs of each:
  list:status  /admin/orders?status=paid&page=N       (one status, a random page)
  list:search  /admin/orders?q=NAME&page=N            (text search over number, names, phone, tracking)
  list:dates   /admin/orders?date_from=..&date_to=..&status=shipped  (a 30-day window)
  order        /admin/orders/NUMBER                   (a random order: lines, customer, payment, slips, history)
and prints p50/p95/max per kind. Then the catalogue import: a CSV of --import-rows new products is
previewed and committed (shop.catalog_csv, as `salesbot catalog import` and the back office do), and the
time until the last new product is found by the shop search (index rebuild and its embeddings included).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
os.environ["APP_ENV"] = "test"

NAMES = ["สมชาย", "มานี", "ปิติ", "วีระ", "ชูใจ", "Somchai", "Mana", "Napat", "Kanya", "Arthit"]
STATUSES = ["awaiting_payment", "expired", "cancelled", "paid", "packed", "shipped", "delivered", "picked_up",
            "needs_review"]
WEIGHTS = [5, 10, 5, 10, 5, 10, 40, 10, 5]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "development"}
    subprocess.run([str(ROOT / ".venv" / "bin" / "salesbot"), "db", "upgrade"], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)


def seed(db, orders: int, rng: random.Random) -> list[str]:
    """The test catalogue, customers and `orders` orders; returns the order numbers."""
    from shop_data import seed_shop
    from sqlalchemy import insert, select

    from shop.models import Customer, Order, OrderItem, Payment, Product, SlipCheck
    from shop.orders import order_number

    seed_shop(db)
    now = datetime.now(UTC)
    with db.session() as session:
        products = session.execute(select(Product.id, Product.name_en, Product.list_price_satang)).all()
        session.execute(insert(Customer), [
            {"line_user_id": f"U{n:032x}", "display_name": f"{rng.choice(NAMES)} {n}", "state": {}}
            for n in range(1, 2001)])
        customer_ids = session.scalars(select(Customer.id)).all()
        first_id = (session.scalar(select(Order.id).order_by(Order.id.desc()).limit(1)) or 0) + 1
        order_rows, item_rows, payment_rows, check_rows, numbers = [], [], [], [], []
        for offset in range(orders):
            order_id = first_id + offset
            created = now - timedelta(minutes=rng.randrange(180 * 24 * 60))
            status = rng.choices(STATUSES, WEIGHTS)[0]
            lines = [rng.choice(products) for _ in range(rng.randint(1, 3))]
            subtotal = sum(price for _, _, price in lines)
            delivery = status != "picked_up" and rng.random() < 0.7
            total = subtotal + (5000 if delivery else 0)
            paid = status in ("paid", "packed", "shipped", "delivered", "picked_up")
            number = order_number(order_id, created)
            numbers.append(number)
            order_rows.append({
                "id": order_id, "number": number, "customer_id": rng.choice(customer_ids), "status": status,
                "fulfilment": "delivery" if delivery else "pickup", "ship_name": rng.choice(NAMES) if delivery else "",
                "ship_phone": f"08{rng.randrange(10**8):08d}" if delivery else "",
                "ship_address": "99/1 ถนนสุขุมวิท กรุงเทพฯ 10110" if delivery else "",
                "subtotal_satang": subtotal, "shipping_satang": total - subtotal, "total_satang": total,
                "created_at": created, "expires_at": created + timedelta(hours=1),
                "paid_at": created + timedelta(minutes=3) if paid else None,
                "carrier": "Kerry Express" if status in ("shipped", "delivered") else "",
                "tracking_number": f"KEX{order_id:010d}" if status in ("shipped", "delivered") else "",
                "cancel_reason": "", "closed_at": None, "packed_at": None, "shipped_at": None, "fulfilled_at": None})
            item_rows += [{"order_id": order_id, "product_id": pid, "name": name, "unit_price_satang": price,
                           "quantity": 1} for pid, name, price in lines]
            if paid:
                payment_rows.append({"order_id": order_id, "amount_satang": total, "sending_bank": "004",
                                     "trans_ref": f"B{order_id:012d}", "paid_at": created + timedelta(minutes=3)})
            if offset % 10 == 0:
                check_rows.append({"order_id": order_id, "outcome": "paid" if paid else "rejected", "reason": "",
                                   "qr_payload": "", "provider_raw": {"status": 200}, "created_at": created})
        for rows, model in ((order_rows, Order), (item_rows, OrderItem), (payment_rows, Payment),
                            (check_rows, SlipCheck)):
            for start in range(0, len(rows), 2000):
                session.execute(insert(model), rows[start:start + 2000])
    return numbers


def timed(client, urls: list[str]) -> list[float]:
    times = []
    for url in urls:
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--import-rows", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    from admin_client import add_account, sign_in, staff_app

    from shop.db import Database
    from shop.settings import load_settings

    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        settings = load_settings(_env_file=None, app_env="test", database_url=url)
        migrate(settings.database_url)
        db = Database(settings.database_url)
        started = time.perf_counter()
        numbers = seed(db, args.orders, rng)
        add_account(db)
        print(f"{db.engine.dialect.name}: {len(numbers):,} orders seeded in {time.perf_counter() - started:.1f} s")
        client = staff_app(db, settings, []).test_client()
        assert sign_in(client).status_code == 302
        from shop import backoffice

        with db.session() as session:
            paid_pages = backoffice.orders_page(session, backoffice.OrderFilter(status="paid"))["pages"]
        today = datetime.now(UTC).date()
        kinds = {
            "list:status": [f"/admin/orders?status=paid&page={rng.randint(1, paid_pages)}"
                            for _ in range(args.requests)],
            "list:search": [f"/admin/orders?q={rng.choice(NAMES)}&page={rng.randint(1, 5)}"
                            for _ in range(args.requests)],
            "list:dates": [f"/admin/orders?status=shipped&date_from={today - timedelta(days=d + 30)}"
                           f"&date_to={today - timedelta(days=d)}" for d in (rng.randint(0, 150)
                                                                              for _ in range(args.requests))],
            "order": [f"/admin/orders/{rng.choice(numbers)}" for _ in range(args.requests)],
        }
        timed(client, [urls[0] for urls in kinds.values()])  # warm up templates and connections
        print(f"{'page':<12} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for kind, urls in kinds.items():
            times = timed(client, urls)
            print(f"{kind:<12} {len(times):>5} {statistics.median(times):>8.1f} {percentile(times, 95):>8.1f} "
                  f"{max(times):>8.1f}")
        catalogue_import(db, args.import_rows)
        db.engine.dispose()


def catalogue_import(db, rows: int) -> None:
    """Preview and commit a CSV of `rows` new products; then how long until search finds the last one."""
    from shop import catalog_csv
    from shop.search import search

    header = "sku,name_th,name_en,price_thb,stock,min_players,max_players,category\n"
    text = header + "".join(f"BENCH-{n:05d},เกมทดลองลำดับที่ {n},Bench Quest {n:05d},{390 + n % 900},{n % 9},2,5,ปาร์ตี้\n"
                            for n in range(rows))
    with db.session() as session:
        search(session, "Splendor", limit=1)  # the index as it was before the import
        started = time.perf_counter()
        plan = catalog_csv.preview(session, text)
        previewed = time.perf_counter()
        catalog_csv.commit(session, plan)
    committed = time.perf_counter()
    wanted = f"BENCH-{rows - 1:05d}"
    with db.session() as session:
        found = [hit.sku for hit in search(session, f"Bench Quest {rows - 1:05d}", limit=3)]
    findable = time.perf_counter()
    print(f"catalogue import of {rows:,} new rows: preview {1000 * (previewed - started):.0f} ms, "
          f"commit {1000 * (committed - previewed):.0f} ms, findable by search "
          f"{1000 * (findable - committed):.0f} ms later ({'found' if wanted in found else 'NOT found'})")


if __name__ == "__main__":
    main()
