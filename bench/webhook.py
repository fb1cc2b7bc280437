"""Webhook ack latency under load: salesbot's inbox edge vs a synchronous handler, same run.

    .venv/bin/python bench/webhook.py [--rate 200] [--seconds 10] [--agent-seconds 2] [--agent-cpu-ms 0]
                                      [--database-url URL] [--setups inbox,inbox*,sync]

Runs, each in its own process: a fake LINE platform (tests/fake_line_api.py), gunicorn on loopback
(random port, 2 processes x 16 gthread threads) and, for salesbot, the worker. Three setups:
1. `inbox`: salesbot's edge (verify, store in the inbox, 200) with a separate `salesbot worker`
   process (embedded loop, no Redis, niced) running a fake agent that takes --agent-seconds and
   replies through the fake LINE;
2. `inbox*`: the zero-config default: worker threads (8) inside the web processes;
3. `sync`: line-bot-sdk's kitchensink style, `WebhookHandler` with the same agent inside the request.
Each gets the same fixed rate of signed text events (one event per request, 200 chats) for a fixed
time, with LINE's 2-second webhook timeout on the client (a later answer counts as a timeout). Prints
ack latency p50/p99/max, throughput, and events answered, lost or answered twice.
Without --database-url a temporary SQLite file is used.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

SECRET, TOKEN = "bench-secret", "bench-token"
AGENT_SECONDS = float(os.environ.get("BENCH_AGENT_SECONDS", "2"))
ACK_TIMEOUT = 2.0  # LINE records request_timeout after 2 s
CHATS = 200  # distinct customers sending the events


AGENT_CPU_MS = float(os.environ.get("BENCH_AGENT_CPU_MS", "0"))


def fake_agent_turn(db, settings, event):
    """Stands for an LLM turn: waits, then answers with the event id so the bench can count answers.
    With --agent-cpu-ms it first computes for that long in Python (holding the GIL), as the offline
    Thai agent does (tokenising, matching, the sentence encoder)."""
    deadline = time.perf_counter() + AGENT_CPU_MS / 1000
    while time.perf_counter() < deadline:
        sum(i * i for i in range(200))
    time.sleep(AGENT_SECONDS)
    return [{"type": "text", "text": f"ตอบ {event['webhookEventId']}"}]


def inbox_app():
    """gunicorn factory: salesbot's edge with the fake agent as the turn (settings from the environment)."""
    from shop.settings import get_settings
    from webhooks.app import create_app, start_embedded_workers

    app = create_app(turn=fake_agent_turn)
    settings = get_settings()
    if settings.worker_in_web and not settings.redis_url:  # what gunicorn.conf.py's hook does
        start_embedded_workers(app)
    return app


def sync_app():
    """gunicorn factory: the SDK kitchensink pattern, the agent runs inside the request."""
    from flask import Flask, abort, request
    from linebot.v3 import WebhookHandler
    from linebot.v3.exceptions import InvalidSignatureError
    from linebot.v3.webhooks import MessageEvent, TextMessageContent

    from shop.settings import get_settings
    from webhooks.line_api import LineApi, LineApiError

    handler = WebhookHandler(SECRET)
    line = LineApi(get_settings())
    app = Flask(__name__)

    @handler.add(MessageEvent, message=TextMessageContent)
    def on_text(event):
        time.sleep(AGENT_SECONDS)
        line.reply(event.reply_token, [{"type": "text", "text": f"ตอบ {event.webhook_event_id}"}])

    @app.get("/healthz")
    def healthz():
        return "ok"

    @app.post("/callback")
    def callback():
        try:
            handler.handle(request.get_data(as_text=True), request.headers["X-Line-Signature"])
        except InvalidSignatureError:
            abort(400)
        except LineApiError as error:
            app.logger.warning("%s", error)
        return "OK"

    return app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(factory: str, env: dict, workdir: Path) -> tuple[subprocess.Popen, str]:
    """gunicorn serving `factory` from this file; waits until both processes answer."""
    port = free_port()
    log = open(workdir / f"{factory.split('(')[0]}.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "16",
         "--worker-class", "gthread", "--timeout", "120", "--keep-alive", "10",
         "--pythonpath", f"{ROOT / 'bench'},{ROOT}", f"webhook:{factory}"],
        env=env, cwd=workdir, stdout=log, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        raise SystemExit(f"gunicorn ({factory}) did not start; see {log.name}")
    # warm up both gunicorn processes (the second may still be importing) with LINE's verify call
    from fake_line_api import sign

    verify = b'{"destination":"U0","events":[]}'
    time.sleep(3)
    with httpx.Client(timeout=10) as client:
        for _ in range(50):
            client.post(url + "/callback", content=verify, headers={"X-Line-Signature": sign(verify, SECRET)})
    return process, url


def stop(process: subprocess.Popen) -> None:
    """Stop a process started in its own session, and everything it started."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def make_bodies(count: int, chats: int = CHATS) -> list[tuple[str, bytes, str]]:
    from fake_line_api import sign, text_event, webhook_body

    bodies = []
    for n in range(count):
        event = text_event(f"ขอดูเกมหน่อยค่ะ 🎲 #{n}", user="U" + f"{n % chats:032x}", event_id=uuid.uuid4().hex[:26])
        body = webhook_body(event)
        bodies.append((event["webhookEventId"], body, sign(body, SECRET)))
    return bodies


async def load(url: str, bodies, rate: float) -> tuple[list[float], Counter, float, list[str]]:
    """Open loop: request n starts at n/rate seconds whatever happened to the others."""
    import httpx

    acked_ids: list[str] = []
    latencies: list[float] = []
    outcomes: Counter = Counter()
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    async with httpx.AsyncClient(timeout=ACK_TIMEOUT, limits=limits) as client:
        async def one(event_id: str, body: bytes, signature: str):
            started = time.perf_counter()
            try:
                response = await asyncio.wait_for(client.post(
                    url + "/callback", content=body,
                    headers={"X-Line-Signature": signature, "Content-Type": "application/json"}), ACK_TIMEOUT)
                outcomes[response.status_code] += 1
                latencies.append(time.perf_counter() - started)
                if response.status_code == 200:
                    acked_ids.append(event_id)
            except (TimeoutError, httpx.TimeoutException):
                outcomes["timeout"] += 1
                latencies.append(float("inf"))
            except httpx.HTTPError as error:
                outcomes[type(error).__name__] += 1
                latencies.append(float("inf"))

        tasks = []
        begin = time.perf_counter()
        for n, (event_id, body, signature) in enumerate(bodies):
            delay = begin + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(event_id, body, signature)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - begin
    return latencies, outcomes, elapsed, acked_ids


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def ms(value: float) -> str:
    return f">{ACK_TIMEOUT * 1000:.0f}" if value == float("inf") else f"{value * 1000:.1f}"


def answers(fake_url: str) -> Counter:
    import httpx

    return Counter(text.removeprefix("ตอบ ") for text in httpx.get(fake_url + "/_delivered", timeout=30).json())


def report(name: str, latencies, outcomes, elapsed, ids, acked_ids, counts: Counter, drain_seconds=None) -> None:
    acked = outcomes.get(200, 0)
    lost = sum(1 for event_id in acked_ids if counts[event_id] == 0)
    doubled = sum(1 for event_id in ids if counts[event_id] > 1)
    print(f"{name:6} sent {len(ids)}  acked 200: {acked}  timeouts(>2s): {outcomes.get('timeout', 0)}  "
          f"other: {dict((k, v) for k, v in outcomes.items() if k not in (200, 'timeout'))}")
    print(f"{'':6} ack p50 {ms(percentile(latencies, 0.50))} ms  p99 {ms(percentile(latencies, 0.99))} ms  "
          f"max {ms(max(latencies))} ms  throughput {acked / elapsed:.0f} acks/s over {elapsed:.1f} s")
    drained = f" (all answered {drain_seconds:.1f} s after the last ack)" if drain_seconds is not None else ""
    print(f"{'':6} answered {sum(1 for event_id in ids if counts[event_id])} of {len(ids)}; acked but never "
          f"answered (lost) {lost}; answered twice {doubled}{drained}")


def start_fake_line() -> tuple[subprocess.Popen, str]:
    code = ("import sys, time; sys.path.insert(0, sys.argv[1]); from fake_line_api import FakeLine; "
            "fake = FakeLine().start(); print(fake.url, flush=True); time.sleep(10**6)")
    process = subprocess.Popen([sys.executable, "-c", code, str(ROOT / "tests")], stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().strip()


def start_worker(env: dict, workdir: Path) -> subprocess.Popen:
    log = open(workdir / "worker.log", "w")
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "worker", "--turn", "webhook:fake_agent_turn"],
                            env={**env, "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT}"}, cwd=workdir, stdout=log,
                            stderr=log, start_new_session=True)


def wait_answered(fake_url: str, ids: list[str], timeout: float) -> tuple[Counter, float]:
    started = time.monotonic()
    while True:
        counts = answers(fake_url)
        if all(counts[event_id] for event_id in ids) or time.monotonic() - started > timeout:
            return counts, time.monotonic() - started
        time.sleep(1)


def run_setup(name: str, factory: str, env: dict, workdir: Path, args, fake_url: str, separate_worker: bool):
    count = int(args.rate * min(args.seconds, 60.0))
    bodies = make_bodies(count)
    ids = [event_id for event_id, _, _ in bodies]
    worker = start_worker(env, workdir) if separate_worker else None
    process = None
    try:  # the worker is stopped even when gunicorn fails to start
        process, url = start_gunicorn(factory, env, workdir)
        latencies, outcomes, elapsed, acked_ids = asyncio.run(load(url, bodies, args.rate))
        if name == "sync":
            time.sleep(ACK_TIMEOUT)
            counts, drain = answers(fake_url), None
        else:
            threads = args.worker_threads if separate_worker else 2 * 8
            capacity = min(threads / max(args.agent_seconds, 0.01), 1000 / max(args.agent_cpu_ms, 0.01))
            counts, drain = wait_answered(fake_url, acked_ids, 30 + 2 * count / capacity)
    finally:
        if process is not None:
            stop(process)
        if worker is not None:
            stop(worker)
    report(name, latencies, outcomes, elapsed, ids, acked_ids, counts, drain)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to send (max 60)")
    parser.add_argument("--agent-seconds", type=float, default=AGENT_SECONDS)
    parser.add_argument("--agent-cpu-ms", type=float, default=AGENT_CPU_MS,
                        help="CPU the fake agent burns per turn before waiting (the offline agent's kind of load)")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--worker-threads", type=int, default=64, help="threads of the separate worker process")
    parser.add_argument("--setups", default="inbox,inbox*,sync", help="comma-separated subset of inbox,inbox*,sync")
    args = parser.parse_args()
    setups = args.setups.split(",")

    from sqlalchemy import text

    from shop.db import Database
    from shop.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="salesbot-bench-") as scratch:
        workdir = Path(scratch)
        database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
        upgrade(database_url)
        env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": database_url,
               "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
               "WORKER_THREADS": str(args.worker_threads), "BENCH_AGENT_SECONDS": str(args.agent_seconds),
               "BENCH_AGENT_CPU_MS": str(args.agent_cpu_ms),
               "PYTHAINLP_OFFLINE": "1"}
        env.pop("REDIS_URL", None)
        print(f"{int(args.rate * min(args.seconds, 60.0))} signed events at {args.rate:.0f}/s; agent "
              f"{args.agent_seconds:.1f} s + {args.agent_cpu_ms:.0f} ms CPU; gunicorn 2 x 16 gthread; "
              f"{os.cpu_count()} CPUs; load average "
              f"{os.getloadavg()[0]:.1f} before start; database {database_url.split(':')[0]}")
        for name in setups:
            fake, fake_url = start_fake_line()
            try:
                env["LINE_API_BASE_URL"] = fake_url
                if name == "inbox":
                    run_setup(name, "inbox_app()", {**env, "WORKER_IN_WEB": "false"}, workdir, args, fake_url, True)
                elif name == "inbox*":  # the default: 8 worker threads per web process
                    in_web = {key: value for key, value in env.items() if key != "WORKER_THREADS"}
                    run_setup(name, "inbox_app()", {**in_web, "WORKER_IN_WEB": "true"}, workdir, args, fake_url,
                              False)
                elif name == "sync":
                    run_setup(name, "sync_app()", env, workdir, args, fake_url, False)
            finally:
                fake.kill()
                fake.wait()
            database = Database(database_url)
            with database.session() as session:  # next setup starts from an empty inbox
                session.execute(text("DELETE FROM outbound_messages"))
                session.execute(text("DELETE FROM inbox_events"))
            database.engine.dispose()


if __name__ == "__main__":
    main()
