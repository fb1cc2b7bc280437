"""The database is not a single point of waiting (issue 11, item 6), with PostgreSQL behind a TCP proxy
that refuses or freezes: acks answer 500 within a second while it is down, a worker gives its event
back as soon as the database answers again (not after the 2-minute lease), and statements time out."""
from __future__ import annotations

import threading
import time

import fake_line_api
import pytest
from fake_line_api import SECRET, TOKEN, sign, text_event, webhook_body
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from tcp_proxy import TcpProxy
from test_workers import row, store, wait_for

from shop.db import Database
from shop.settings import load_settings
from webhooks.app import create_app
from webhooks.line_api import LineApi
from webhooks.worker import Worker

fake_line = fake_line_api.fake_line  # the fixture


@pytest.fixture
def proxied(postgres_db):
    """(direct database, database through the proxy, proxy)."""
    url = make_url(postgres_db.url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    through = Database(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    yield postgres_db, through, proxy
    proxy.close()
    through.engine.dispose()


def ack(client, event) -> tuple[int, float]:
    body = webhook_body(event)
    started = time.monotonic()
    response = client.post("/callback", data=body, headers={"X-Line-Signature": sign(body, SECRET),
                                                            "Content-Type": "application/json"})
    return response.status_code, time.monotonic() - started


def test_acks_fail_fast_while_the_database_is_frozen_or_refused(proxied, fake_line):
    direct, through, proxy = proxied
    settings = load_settings(app_env="test", database_url=through.url, line_channel_secret=SECRET,
                             line_channel_access_token=TOKEN, line_api_base_url=fake_line.url)
    client = create_app(settings, database=through, turn=lambda *args: []).test_client()
    assert ack(client, text_event("ก่อน"))[0] == 200
    proxy.freeze()
    for _ in range(3):  # a frozen server: no error ever comes back on its own
        status, seconds = ack(client, text_event("ค้าง"))
        assert status == 500 and seconds < 1.0
    proxy.refuse()
    status, seconds = ack(client, text_event("ปิด"))
    assert status == 500 and seconds < 1.0
    proxy.forward()
    after = text_event("หลัง")
    assert wait_for(lambda: ack(client, after)[0] == 200, timeout=15)
    with direct.session() as session:
        texts = session.scalars(text("SELECT body FROM inbox_events")).all()
    assert any("ก่อน" in body for body in texts) and any("หลัง" in body for body in texts)


def test_a_worker_releases_its_event_when_the_database_comes_back(proxied, fake_line):
    direct, through, proxy = proxied
    attempts = []

    def turn(db, settings, event):
        attempts.append(time.monotonic())
        if len(attempts) == 1:  # the database goes away mid-turn, for 3 seconds
            proxy.refuse()
            threading.Timer(3.0, proxy.forward).start()
            with db.session() as session:
                session.execute(text("SELECT 1"))
        return [{"type": "text", "text": "ได้รับแล้วค่ะ"}]

    settings = load_settings(app_env="test", database_url=through.url, line_channel_secret=SECRET,
                             line_channel_access_token=TOKEN, line_api_base_url=fake_line.url,
                             inbox_lease_seconds=120)
    [event_id] = store(direct, text_event("ฐานข้อมูลล่ม"))
    worker = Worker(through, settings, turn, LineApi(settings))
    started = time.monotonic()
    assert worker.process_next()
    assert row(direct, event_id).status == "queued"  # given back, not left to its 120 s lease
    wait_for(lambda: worker.drain(), timeout=30)
    assert row(direct, event_id).status == "done" and time.monotonic() - started < 20
    assert [m["text"] for m in fake_line.delivered()] == ["ได้รับแล้วค่ะ"]


def test_statements_and_connections_time_out(postgres_db):
    slow = Database(postgres_db.url, statement_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="statement timeout"):
        with slow.engine.connect() as connection:
            connection.execute(text("SELECT pg_sleep(5)"))
    assert time.monotonic() - started < 2
    slow.engine.dispose()

    proxy = TcpProxy("127.0.0.1", make_url(postgres_db.url).port or 5432)
    proxy.freeze()  # accepts the connection, never answers the start-up
    frozen = Database(make_url(postgres_db.url).set(host="127.0.0.1", port=proxy.port).render_as_string(
        hide_password=False), connect_timeout=2)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="timeout"):
        with frozen.engine.connect():
            pass
    assert time.monotonic() - started < 5
    frozen.engine.dispose()
    proxy.close()

