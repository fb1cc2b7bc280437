"""Staff accounts (shop.staff) and the staff, slip and orders commands: scrypt hashes only, the
sign-in slow-down and its end, and the CLI doing what the back office does."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from backoffice_data import make_order, slip_for_review, status
from click.testing import CliRunner
from shop_data import seed_shop
from sqlalchemy import select

from shop import audit
from shop.models import AuditEntry, Notification, StaffAccount
from shop.staff import SignInRefused, StaffError, add_staff, session_staff, set_password, sign_in

OWNER = audit.Actor(None, "owner")
T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def test_passwords_are_stored_as_scrypt_hashes_only(any_db):
    staff = add_staff(any_db, "  Malee ", "a long enough password", display_name="มาลี", actor=OWNER)
    assert staff.username == "malee"
    with any_db.session() as session:
        stored = session.scalar(select(StaffAccount.password_hash))
    assert stored.startswith("scrypt:") and "a long enough password" not in stored
    assert sign_in(any_db, "MALEE", "a long enough password", address="1.2.3.4").username == "malee"


@pytest.mark.parametrize("username, password, message", [
    ("x", "a long enough password", "2-32 characters"),
    ("has space", "a long enough password", "2-32 characters"),
    ("malee", "short", "at least 10"),
])
def test_account_rules(db, username, password, message):
    with pytest.raises(StaffError, match=message):
        add_staff(db, username, password, actor=OWNER)


def test_a_username_is_taken_once(db):
    add_staff(db, "malee", "a long enough password", actor=OWNER)
    with pytest.raises(StaffError, match="already exists"):
        add_staff(db, "MALEE", "another long password", actor=OWNER)


def test_the_slow_down_grows_then_ends(db):
    add_staff(db, "malee", "a long enough password", actor=OWNER)
    for attempt in range(5):
        with pytest.raises(SignInRefused) as refused:
            sign_in(db, "malee", "wrong wrong wrong", address="1.2.3.4", now=T0 + timedelta(seconds=attempt))
        assert refused.value.reason == "invalid"
    with pytest.raises(SignInRefused) as slowed:  # the right password, but too soon
        sign_in(db, "malee", "a long enough password", address="9.9.9.9", now=T0 + timedelta(seconds=5))
    assert slowed.value.reason == "slowed" and 1 <= slowed.value.retry_after <= 15
    with pytest.raises(SignInRefused):  # wait out 15 s, fail again: now 30 s
        sign_in(db, "malee", "wrong again wrong", address="1.2.3.4", now=T0 + timedelta(seconds=20))
    with pytest.raises(SignInRefused) as longer:
        sign_in(db, "malee", "a long enough password", address="1.2.3.4", now=T0 + timedelta(seconds=21))
    assert 15 < longer.value.retry_after <= 30
    staff = sign_in(db, "malee", "a long enough password", address="1.2.3.4", now=T0 + timedelta(seconds=51))
    assert staff.username == "malee"
    # a success clears the count for that username and address
    with pytest.raises(SignInRefused) as fresh:
        sign_in(db, "malee", "wrong wrong wrong", address="1.2.3.4", now=T0 + timedelta(seconds=52))
    assert fresh.value.reason == "invalid"


def test_unknown_usernames_are_counted_too(db):
    for attempt in range(5):
        with pytest.raises(SignInRefused):
            sign_in(db, f"guess{attempt}", "whatever whatever", address="6.6.6.6", now=T0)
    with pytest.raises(SignInRefused) as slowed:  # the address is slowed, whatever the name
        sign_in(db, "another", "whatever whatever", address="6.6.6.6", now=T0)
    assert slowed.value.reason == "slowed"


def test_a_new_password_ends_open_sessions(db):
    staff = add_staff(db, "malee", "a long enough password", actor=OWNER)
    assert session_staff(db, staff.id, staff.session_version) is not None
    set_password(db, "malee", "a brand new password", actor=OWNER)
    assert session_staff(db, staff.id, staff.session_version) is None
    assert session_staff(db, "1", 0) is None  # a tampered session value is no session


@pytest.fixture
def cli_db(db, monkeypatch):
    from shop.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def run(command, args, stdin: str | None = None):
    result = CliRunner().invoke(command, args, input=stdin)
    return result


def test_staff_commands(cli_db):
    from bot.commands.staff import staff

    added = run(staff, ["add", "malee", "--name", "มาลี", "--password-stdin"], "a long enough password\n")
    assert added.exit_code == 0, added.output
    assert "created" in added.output and "a long enough password" not in added.output
    prompted = run(staff, ["add", "somchai"], "another fine password\nanother fine password\n")
    assert prompted.exit_code == 0, prompted.output
    short = run(staff, ["add", "tiny", "--password-stdin"], "short\n")
    assert short.exit_code == 1 and "at least 10" in short.output
    listed = run(staff, ["list"])
    assert "malee" in listed.output and "มาลี" in listed.output and "active" in listed.output
    assert run(staff, ["disable", "malee"]).exit_code == 0
    assert "disabled" in run(staff, ["list"]).output
    with pytest.raises(SignInRefused) as refused:
        sign_in(cli_db, "malee", "a long enough password", address="1.1.1.1")
    assert refused.value.reason == "disabled"
    assert run(staff, ["disable", "nobody"]).exit_code == 1
    with cli_db.session() as session:
        entries = session.execute(select(AuditEntry.actor, AuditEntry.action).order_by(AuditEntry.id)).all()
    assert [action for _, action in entries] == ["staff.add", "staff.add", "staff.disable"]
    assert all(actor.startswith("cli:") for actor, _ in entries)


def test_slip_and_orders_commands(cli_db, settings):
    from bot.commands.orders import orders
    from bot.commands.slip import slip

    shop = seed_shop(cli_db)
    first, second = make_order(cli_db, shop.alice), make_order(cli_db, shop.bob, sku="TTR")
    slip_for_review(cli_db, settings, shop.alice, first)
    slip_for_review(cli_db, settings, shop.bob, second)

    approved = run(slip, ["approve", first])
    assert approved.exit_code == 0, approved.output
    assert status(cli_db, first) == "paid"
    again = run(slip, ["approve", first])
    assert again.exit_code == 1 and "no_slip_to_review" in again.output
    assert run(slip, ["reject", second]).exit_code == 2  # --reason is required
    rejected = run(slip, ["reject", second, "--reason", "ยอดไม่ตรงค่ะ"])
    assert rejected.exit_code == 0 and status(cli_db, second) == "awaiting_payment"

    shipped = run(orders, ["ship", first, "--carrier", "Kerry Express", "--tracking", "KEX0001"])
    assert shipped.exit_code == 0, shipped.output
    assert status(cli_db, first) == "shipped"
    not_paid = run(orders, ["ship", second, "--carrier", "Kerry Express", "--tracking", "KEX0002"])
    assert not_paid.exit_code == 1 and "step_not_allowed" in not_paid.output
    assert "shipped: Kerry Express KEX0001" in run(orders, []).output
    listing = run(orders, ["--json"])
    assert listing.exit_code == 0 and {o["status"] for o in json.loads(listing.output)["orders"]} == {
        "shipped", "awaiting_payment"}
    with cli_db.session() as session:
        keys = session.scalars(select(Notification.key).order_by(Notification.id)).all()
    assert [key.split("-")[1] for key in keys] == ["approved", "rejected", "ship"]


def test_line_chats_lists_the_groups_the_bot_is_in(cli_db):
    from bot.commands.staff import staff
    from shop.models import InboxEvent

    group = "C" + "1" * 32
    with cli_db.session() as session:
        for n, chat in enumerate([group, group, "U" + "2" * 32]):
            session.add(InboxEvent(webhook_event_id=f"e{n}", chat_id=chat, event_type="join" if n == 0 else "message",
                                   timestamp_ms=n, body="{}"))
    listed = run(staff, ["line-chats"])
    assert listed.exit_code == 0 and group in listed.output and "2 event(s)" in listed.output
    assert "U" + "2" * 32 not in listed.output
