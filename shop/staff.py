"""Staff accounts and signing in, shared by the back office (admin/) and `salesbot staff`.

Passwords are stored as werkzeug scrypt hashes only. Failed sign-ins are counted per username and per
client address; after FREE_FAILURES in a row each further one doubles a wait (15 s, 30 s, ... up to
15 minutes) during which that username or address cannot sign in at all, even with the right password.
A session names the account and its `session_version`; signing out or disabling bumps the version, so
an old cookie stops working at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from shop import audit
from shop.db import Database
from shop.models.staff import SignInFailures, StaffAccount

PASSWORD_METHOD = "scrypt"          # werkzeug's scrypt (n=2**15, r=8, p=1)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,31}")
FREE_FAILURES = 5
FIRST_WAIT = timedelta(seconds=15)
MAX_WAIT = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)   # a quiet hour and the count starts again


class StaffError(ValueError):
    """A staff account request that cannot be done; the message is one readable sentence (English,
    for the CLI; the back office never shows these)."""


@dataclass(frozen=True)
class Staff:
    """A signed-in staff member, as the back office keeps it for a request."""
    id: int
    username: str
    display_name: str
    session_version: int

    @property
    def label(self) -> str:
        return self.display_name or self.username


class SignInRefused(Exception):
    """`reason`: invalid (unknown user or wrong password), disabled, or slowed (wait `retry_after` s)."""

    def __init__(self, reason: str, retry_after: int = 0):
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise StaffError(f"the password may be at most {MAX_PASSWORD_LENGTH} characters")


def _view(account: StaffAccount) -> Staff:
    return Staff(account.id, account.username, account.display_name, account.session_version)


# --- managing accounts (CLI) ----------------------------------------------------------------------

def add_staff(db: Database, username: str, password: str, *, display_name: str = "",
              actor: audit.Actor) -> Staff:
    username = normalise_username(username)
    if not USERNAME.fullmatch(username):
        raise StaffError("the username must be 2-32 characters: a-z, 0-9, dot, dash or underscore")
    check_password_rules(password)
    try:
        with db.session() as session:
            account = StaffAccount(username=username, display_name=display_name.strip()[:120],
                                   password_hash=generate_password_hash(password, method=PASSWORD_METHOD))
            session.add(account)
            session.flush()
            audit.record(session, actor, "staff.add", "staff", username, None,
                         {"username": username, "display_name": account.display_name, "active": True})
            return _view(account)
    except IntegrityError:
        raise StaffError(f"a staff account named {username!r} already exists") from None


def set_password(db: Database, username: str, password: str, *, actor: audit.Actor) -> None:
    check_password_rules(password)
    with db.session() as session:
        account = _account(session, username)
        account.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
        account.session_version += 1  # signed-in sessions must sign in again with the new password
        audit.record(session, actor, "staff.password", "staff", account.username, None, None,
                     "password changed")


def set_active(db: Database, username: str, active: bool, *, actor: audit.Actor,
               now: datetime | None = None) -> bool:
    """Disable (or enable again) an account; returns False when it already was so."""
    with db.session() as session:
        account = _account(session, username)
        if account.active == active:
            return False
        account.active = active
        account.disabled_at = None if active else _now(now)
        account.session_version += 1
        audit.record(session, actor, "staff.enable" if active else "staff.disable", "staff", account.username,
                     {"active": not active}, {"active": active})
        return True


def list_staff(db: Database) -> list[dict]:
    with db.session() as session:
        return [{"username": a.username, "display_name": a.display_name, "active": a.active,
                 "created_at": a.created_at, "last_sign_in_at": a.last_sign_in_at}
                for a in session.scalars(select(StaffAccount).order_by(StaffAccount.username))]


def _account(session: Session, username: str) -> StaffAccount:
    account = session.scalar(select(StaffAccount).where(StaffAccount.username == normalise_username(username)))
    if account is None:
        raise StaffError(f"no staff account named {normalise_username(username)!r}")
    return account


# --- signing in (back office) ---------------------------------------------------------------------

@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked against for unknown usernames, so they take as long as a wrong password."""
    return generate_password_hash("not-a-password-anyone-has", method=PASSWORD_METHOD)


def _keys(username: str, address: str) -> list[str]:
    return [f"user:{username}"[:160], f"ip:{address or '-'}"[:160]]


def _wait_after(failures: int) -> timedelta:
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(FIRST_WAIT * 2 ** (failures - FREE_FAILURES), MAX_WAIT)


def _blocked_for(session: Session, keys: list[str], now: datetime) -> int:
    until = [row.blocked_until for row in session.scalars(select(SignInFailures).where(SignInFailures.key.in_(keys)))
             if row.blocked_until is not None and row.blocked_until > now]
    return int((max(until) - now).total_seconds()) + 1 if until else 0


def _count_failure(db: Database, keys: list[str], now: datetime) -> None:
    for key in keys:
        for _ in range(2):  # a concurrent first failure may insert the row first: then update it
            try:
                with db.session() as session:
                    row = session.scalar(select(SignInFailures).where(SignInFailures.key == key).with_for_update())
                    if row is None:
                        row = SignInFailures(key=key, failures=0, last_failed_at=now)
                        session.add(row)
                    elif now - row.last_failed_at > FORGET_AFTER:
                        row.failures = 0
                    row.failures += 1
                    row.last_failed_at = now
                    wait = _wait_after(row.failures)
                    row.blocked_until = now + wait if wait else None
                break
            except IntegrityError:
                continue


def sign_in(db: Database, username: str, password: str, *, address: str, now: datetime | None = None) -> Staff:
    """The account for these credentials, or SignInRefused. Every refusal but 'slowed' counts as a failure."""
    now = _now(now)
    username = normalise_username(username)[:64]
    keys = _keys(username, address)
    with db.session() as session:
        wait = _blocked_for(session, keys, now)
        if wait:
            raise SignInRefused("slowed", wait)
        account = session.scalar(select(StaffAccount).where(StaffAccount.username == username))
        ok = check_password_hash(account.password_hash if account else _dummy_hash(), password or "")
        if ok and account is not None and account.active:
            account.last_sign_in_at = now
            session.execute(SignInFailures.__table__.delete().where(SignInFailures.key.in_(keys)))
            audit.record(session, audit.Actor(account.id, account.username), "staff.sign_in", "staff",
                         account.username, None, None, f"from {address or '-'}")
            return _view(account)
    _count_failure(db, keys, now)
    raise SignInRefused("disabled" if ok and account is not None else "invalid")


def sign_out(db: Database, staff_id: int) -> None:
    with db.session() as session:
        account = session.get(StaffAccount, staff_id)
        if account is not None:
            account.session_version += 1  # every copy of the session cookie is dead now
            audit.record(session, audit.Actor(account.id, account.username), "staff.sign_out", "staff",
                         account.username, None, None)


def session_staff(db: Database, staff_id: int | None, version: int | None) -> Staff | None:
    """The staff member a session cookie names, if the account is still active and the session current."""
    if not isinstance(staff_id, int) or not isinstance(version, int):
        return None
    with db.session() as session:
        account = session.get(StaffAccount, staff_id)
        if account is None or not account.active or account.session_version != version:
            return None
        return _view(account)
