"""The scale-out layout measured: salesbot's edge on gunicorn, RQ on Redis, PostgreSQL, N `salesbot worker`
processes, a fake agent that takes 2 s a turn (a sibling of bench/webhook.py, whose helpers it reuses).

    .venv/bin/python bench/webhook_rq.py --database-url postgresql://… --redis-url redis://…/N \
        [--workers 2] [--rate 5] [--seconds 10] [--agent-seconds 2]

Each `salesbot worker` with REDIS_URL runs an RQ SimpleWorker: one job at a time in its process, so N
workers sustain at most N / agent-seconds events a second; the edge only stores and enqueues. Prints
ack latency p50/p99/max, acks/s, events answered per second from the first ack to the last answer,
lost and doubled counts. The database is migrated and its inbox emptied; use a scratch database.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from webhook import (
    ACK_TIMEOUT,
    AGENT_SECONDS,
    SECRET,
    TOKEN,
    answers,
    load,
    make_bodies,
    report,
    start_fake_line,
    start_gunicorn,
    start_worker,
    stop,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL (a scratch database)")
    parser.add_argument("--redis-url", required=True, help="a Redis database of its own, e.g. redis://127.0.0.1:6379/5")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=5.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--agent-seconds", type=float, default=AGENT_SECONDS)
    args = parser.parse_args()

    import redis
    from sqlalchemy import text

    from shop.db import Database
    from shop.migrate import upgrade

    upgrade(args.database_url)
    database = Database(args.database_url)
    with database.session() as session:
        session.execute(text("DELETE FROM outbound_messages"))
        session.execute(text("DELETE FROM inbox_events"))
    redis.Redis.from_url(args.redis_url).flushdb()
    count = int(args.rate * args.seconds)
    bodies = make_bodies(count)
    ids = [event_id for event_id, _, _ in bodies]
    with tempfile.TemporaryDirectory(prefix="salesbot-bench-rq-") as scratch:
        workdir = Path(scratch)
        fake, fake_url = start_fake_line()
        env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": args.database_url,
               "REDIS_URL": args.redis_url, "WORKER_IN_WEB": "false", "LINE_CHANNEL_SECRET": SECRET,
               "LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "LINE_API_BASE_URL": fake_url,
               "BENCH_AGENT_SECONDS": str(args.agent_seconds), "PYTHAINLP_OFFLINE": "1"}
        workers = []
        for number in range(args.workers):
            worker_dir = workdir / f"worker{number}"
            worker_dir.mkdir()
            workers.append(start_worker(env, worker_dir))
        web, url = start_gunicorn("inbox_app()", env, workdir)
        print(f"{count} signed events at {args.rate:.0f}/s; agent {args.agent_seconds:.1f} s; gunicorn 2 x 16 "
              f"gthread; {args.workers} RQ workers; PostgreSQL + Redis; {os.cpu_count()} CPUs; load average "
              f"{os.getloadavg()[0]:.1f}")
        try:
            started = time.monotonic()
            latencies, outcomes, elapsed, acked_ids = asyncio.run(load(url, bodies, args.rate))
            capacity = args.workers / max(args.agent_seconds, 0.01)
            deadline = time.monotonic() + 30 + 2 * count / capacity
            while True:
                counts = answers(fake_url)
                if all(counts[event_id] for event_id in acked_ids) or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            finished = time.monotonic() - started
            report("rq", latencies, outcomes, elapsed, ids, acked_ids, counts, finished - elapsed)
            answered = sum(1 for event_id in ids if counts[event_id])
            print(f"{'':6} answered {answered / finished:.2f} events/s from the first request to the last answer "
                  f"(ceiling {capacity:.2f}/s = workers / agent seconds); LINE timeout {ACK_TIMEOUT:.0f} s")
        finally:
            stop(web)
            for worker in workers:
                stop(worker)
            fake.kill()
            fake.wait()
    database.engine.dispose()


if __name__ == "__main__":
    main()
