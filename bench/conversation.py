"""Time from webhook receipt to reply sent for whole shop conversations, offline agent, real catalogue.

    .venv/bin/python bench/conversation.py [--customers 10] [--concurrency 1] [--show]

Builds a temporary SQLite database (`salesbot db upgrade` + `salesbot catalog load`, stock raised so
every customer can buy), runs the real service (`bot.app.create_app`: /callback, inbox, embedded
workers, /media) with the simulator at /sim on one loopback port (threaded werkzeug server, one
process), and drives each customer through a 12-step purchase with `simulator.client.SimulatorClient`:
follow, search, add (button), recommend, cart, checkout, delivery, name, phone, address (summary),
confirm (PromptPay QR), pay (simulated slip → receipt).

Measured per event, from the service's own records: inbox `received_at` (the edge stored the webhook)
→ the last outbound batch's `sent_at` (LINE's reply call returned). Also the customer's view: the
simulator API call from sending the event to the reply reaching the simulated chat. Baselines in the
same run: the same pipeline with an echo turn (what the edge, inbox, worker and LINE calls cost), and
the offline turn alone (`bot.turn.run_turn` called directly, no HTTP) on the text and button steps.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("PYTHAINLP_OFFLINE", "1")

DELIVERY = ("สมชาย ใจดี", "081-234-5678", "99/1 ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพฯ 10110")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summary(values: list[float]) -> str:
    if not values:
        return "-"
    return (f"n={len(values):4d}  p50 {statistics.median(values):7.1f} ms  p95 {percentile(values, 95):7.1f} ms  "
            f"p99 {percentile(values, 99):7.1f} ms  max {max(values):7.1f} ms")


# ---------------------------------------------------------------- the database

def make_database(directory: Path) -> str:
    url = f"sqlite:///{directory / 'bench.db'}"
    env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "development"}
    salesbot = str(ROOT / ".venv" / "bin" / "salesbot")
    for args in (["db", "upgrade"], ["catalog", "load"]):
        subprocess.run([salesbot, *args], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    from sqlalchemy import text

    from shop.db import Database

    db = Database(url)
    with db.session() as session:  # every customer buys: keep stock from running out mid-bench
        session.execute(text("UPDATE products SET stock = 100000"))
    db.engine.dispose()
    return url


# ---------------------------------------------------------------- the script

def find_action(answer, action: str) -> dict:
    for candidate in answer.postbacks():
        if candidate["data"].startswith(f"a={action}"):
            return candidate
    raise RuntimeError(f"no {action!r} button in the answer: {answer.texts}")


def purchase(sim, user: str, echo: bool = False):
    """Yield (step, Answer, seconds) for one customer's purchase. With `echo`, the same kinds of event
    without following the shop's buttons (the echo turn has none)."""
    def timed(step, call, *args):
        started = time.perf_counter()
        answer = call(*args)
        return step, answer, time.perf_counter() - started

    yield timed("follow", sim.follow, user)
    step = timed("search", sim.say, user, "มีเกม Splendor ไหมคะ")
    yield step
    found = step[1]
    step = timed("add", sim.postback, user, "a=add&sku=x" if echo else find_action(found, "add")["data"])
    yield step
    yield timed("recommend", sim.say, user, "แนะนำเกมเล่น 2 คน งบ 1,500")
    yield timed("cart", sim.say, user, "ดูตะกร้า")
    step = timed("checkout", sim.postback, user, "a=checkout")
    yield step
    step = timed("delivery", sim.postback, user, "a=delivery")
    yield step
    yield timed("name", sim.say, user, DELIVERY[0])
    yield timed("phone", sim.say, user, DELIVERY[1])
    step = timed("address", sim.say, user, DELIVERY[2])
    yield step
    summary_answer = step[1]
    step = timed("confirm", sim.postback, user, "a=confirm" if echo else find_action(summary_answer, "confirm")["data"])
    yield step
    if not echo:
        if not any(m.get("type") == "image" for m in step[1].messages):
            raise RuntimeError(f"no PromptPay QR after confirm: {step[1].texts}")
        yield timed("pay", sim.pay, user)


def echo_turn(db, settings, event):
    """Baseline turn: answers at once (a text echo with quick replies, like a cheap real answer)."""
    said = ((event.get("message") or {}).get("text") or event.get("type", ""))[:100]
    return [{"type": "text", "text": f"ได้รับ {said} แล้วค่ะ",
             "quickReply": {"items": [{"type": "action", "action": {"type": "message", "label": "เมนู",
                                                                     "text": "เมนู"}}]}}]


# ---------------------------------------------------------------- one run

def run(db_url: str, customers: int, concurrency: int, turn=None, show: bool = False) -> dict:
    from shop.db import Database
    from simulator.client import SimulatorClient

    db = Database(db_url)
    client_ms: dict[str, list[float]] = defaultdict(list)
    event_steps: dict[str, str] = {}
    errors: list[str] = []
    lock = threading.Lock()
    with service_process(db_url, echo=turn is not None) as url:
        with SimulatorClient(url, timeout=30, settle=0) as warm:  # load models and indexes first
            list(purchase(warm, "U" + uuid.uuid4().hex, echo=turn is not None))
            warm.reset()
        users = ["U" + uuid.uuid4().hex for _ in range(customers)]

        def customer(chunk: list[str]) -> None:
            with SimulatorClient(url, timeout=30, settle=0) as sim:
                for user in chunk:
                    try:
                        for step, answer, seconds in purchase(sim, user, echo=turn is not None):
                            if show and user == users[0]:
                                print(f"  {step:9s} {seconds * 1000:6.0f} ms  {' | '.join(answer.texts)[:150]}")
                            with lock:
                                client_ms[step].append(seconds * 1000)
                                for event_id in answer.raw.get("event_ids", []):
                                    event_steps[event_id] = step
                    except Exception as error:  # noqa: BLE001 - report and go on with the others
                        with lock:
                            errors.append(f"{user}: {error}")

        chunks = [users[i::concurrency] for i in range(concurrency)]
        threads = [threading.Thread(target=customer, args=(chunk,)) for chunk in chunks]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    server_ms = server_latencies(db, event_steps)
    db.engine.dispose()
    return {"client": client_ms, "server": server_ms, "errors": errors, "elapsed": elapsed}


@contextmanager
def service_process(db_url: str, echo: bool):
    """The service (+ simulator) in a child process, so the bench's client threads do not share its GIL."""
    args = [sys.executable, __file__, "--serve", db_url] + (["--echo"] if echo else [])
    child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        url = child.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError("the service did not start")
        yield url
    finally:
        child.stdin.close()  # the child stops when its stdin closes
        child.wait(timeout=30)


def serve(db_url: str, echo: bool) -> None:
    """Child process: run the service until stdin closes; print its URL first."""
    import logging

    from simulator_bot import running_service

    from shop.db import Database

    logging.disable(logging.WARNING)
    with running_service(Database(db_url), turn=echo_turn if echo else None, database_url=db_url) as url:
        print(url, flush=True)
        sys.stdin.read()


def server_latencies(db, event_steps: dict[str, str]) -> dict[str, list[float]]:
    """received_at → last sent_at per event, from the inbox and outbox tables."""
    from sqlalchemy import func, select

    from shop.models.inbox import InboxEvent, OutboundMessage

    found: dict[str, list[float]] = defaultdict(list)
    with db.session() as session:
        rows = session.execute(
            select(InboxEvent.webhook_event_id, InboxEvent.received_at, func.max(OutboundMessage.sent_at))
            .join(OutboundMessage, OutboundMessage.inbox_event_id == InboxEvent.id)
            .where(InboxEvent.webhook_event_id.in_(list(event_steps)))
            .group_by(InboxEvent.id)).all()
    for event_id, received, sent in rows:
        if sent is not None:
            found[event_steps[event_id]].append((sent - received).total_seconds() * 1000)
    return found


def turn_alone(db_url: str, customers: int) -> dict[str, list[float]]:
    """`bot.turn.run_turn` called directly on the text and button steps (no HTTP, no inbox, no LINE)."""
    from bot.turn import run_turn
    from shop.db import Database
    from shop.settings import load_settings

    db = Database(db_url)
    settings = load_settings(app_env="test", database_url=db_url, line_channel_secret="x",
                             line_channel_access_token="x", public_base_url="http://127.0.0.1:9")
    times: dict[str, list[float]] = defaultdict(list)

    def event(user: str, **fields) -> dict:
        return {"type": "message", "timestamp": int(time.time() * 1000), "source": {"type": "user", "userId": user},
                "replyToken": uuid.uuid4().hex, "webhookEventId": uuid.uuid4().hex, "mode": "active",
                "deliveryContext": {"isRedelivery": False}, **fields}

    def text(user, words):
        return event(user, message={"type": "text", "id": uuid.uuid4().hex[:18], "text": words})

    def postback(user, data):
        return {**event(user), "type": "postback", "postback": {"data": data}}

    def button(messages: list[dict], action: str) -> str:
        found = []

        def walk(node):
            if isinstance(node, dict):
                if node.get("type") == "postback" and str(node.get("data", "")).startswith(f"a={action}"):
                    found.append(node["data"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(messages)
        return found[0]

    for number in range(customers + 1):  # the first customer warms up and is not counted
        user = "U" + uuid.uuid4().hex
        last: list[dict] = []
        # each step makes its event from the user and the messages the previous step got back
        steps = [("follow", lambda u, _: {**event(u), "type": "follow"}),
                 ("search", lambda u, _: text(u, "มีเกม Splendor ไหมคะ")),
                 ("add", lambda u, shown: postback(u, button(shown, "add"))),
                 ("recommend", lambda u, _: text(u, "แนะนำเกมเล่น 2 คน งบ 1,500")),
                 ("cart", lambda u, _: text(u, "ดูตะกร้า")),
                 ("checkout", lambda u, _: postback(u, "a=checkout")),
                 ("delivery", lambda u, _: postback(u, "a=delivery")),
                 ("name", lambda u, _: text(u, DELIVERY[0])), ("phone", lambda u, _: text(u, DELIVERY[1])),
                 ("address", lambda u, _: text(u, DELIVERY[2])),
                 ("confirm", lambda u, shown: postback(u, button(shown, "confirm")))]
        for step, make in steps:
            the_event = make(user, last)
            started = time.perf_counter()
            last = run_turn(db, settings, the_event)
            if number:
                times[step].append((time.perf_counter() - started) * 1000)
    db.engine.dispose()
    return times


def report(title: str, by_step: dict[str, list[float]], per_step: bool) -> list[float]:
    values = [v for vs in by_step.values() for v in vs]
    print(f"{title:44s} {summary(values)}")
    if per_step:
        for step, vs in by_step.items():
            print(f"    {step:40s} {summary(vs)}")
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=1, help="customers talking at the same time")
    parser.add_argument("--show", action="store_true", help="print the first customer's conversation")
    parser.add_argument("--serve", metavar="DATABASE_URL", help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--echo", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.echo)
    import logging

    logging.disable(logging.WARNING)  # the service logs every request at INFO
    with tempfile.TemporaryDirectory(prefix="salesbot-bench-") as directory:
        db_url = make_database(Path(directory))
        print(f"{args.customers} customers x 12-step purchase, {args.concurrency} at a time, "
              f"real catalogue (SQLite), offline agent; service + simulator in one process, client in another\n")
        shop = run(db_url, args.customers, args.concurrency, show=args.show)
        echo = run(db_url, args.customers, args.concurrency, turn=echo_turn)
        alone = turn_alone(db_url, args.customers)
    logging.disable(logging.NOTSET)

    print()
    report("shop: webhook received -> reply sent", shop["server"], per_step=True)
    report("shop: customer's view (simulator API)", shop["client"], per_step=False)
    report("baseline: echo turn, received -> sent", echo["server"], per_step=False)
    report("baseline: echo turn, customer's view", echo["client"], per_step=False)
    report("baseline: offline turn alone (no HTTP)", alone, per_step=True)
    events = sum(len(v) for v in shop["server"].values())
    print(f"\nshop run: {events} events answered in {shop['elapsed']:.1f} s; "
          f"errors: {len(shop['errors']) + len(echo['errors'])}")
    for error in (shop["errors"] + echo["errors"])[:5]:
        print("  ", error)


if __name__ == "__main__":
    main()
