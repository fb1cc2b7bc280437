"""Database engine and sessions. SQLite file by default, PostgreSQL through DATABASE_URL."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

# PostgreSQL waits (seconds): none of them may be unbounded, or one stuck server stalls every thread.
CONNECT_TIMEOUT_SECONDS = 3          # libpq's minimum is 2
STATEMENT_TIMEOUT_SECONDS = 15.0     # no query of the service takes a fraction of this
LOCK_TIMEOUT_SECONDS = 5.0           # a row lock held longer than this is a stuck transaction
IDLE_IN_TRANSACTION_SECONDS = 60.0   # a session that died mid-transaction releases its locks
POOL_TIMEOUT_SECONDS = 5.0           # waiting for a free pooled connection


def postgres_timeouts(connect_timeout: float, statement_timeout: float) -> dict:
    """libpq connection arguments: a connect timeout, server-side statement/lock/idle timeouts, and TCP
    keepalives so a connection to a vanished server is noticed."""
    def ms(seconds: float) -> int:
        return max(1, int(seconds * 1000))

    return {"connect_timeout": max(2, int(connect_timeout)),
            "options": f"-c statement_timeout={ms(statement_timeout)} -c lock_timeout={ms(LOCK_TIMEOUT_SECONDS)} "
                       f"-c idle_in_transaction_session_timeout={ms(IDLE_IN_TRANSACTION_SECONDS)}",
            "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}


def ensure_sqlite_directory(url: str) -> None:
    """SQLite creates the file but not its folder (var/ does not exist on a fresh clone)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and "///" in url:
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str, *, connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
                statement_timeout: float = STATEMENT_TIMEOUT_SECONDS) -> Engine:
    if url.startswith("sqlite"):
        ensure_sqlite_directory(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, pool_timeout=POOL_TIMEOUT_SECONDS,
                         connect_args=postgres_timeouts(connect_timeout, statement_timeout))


class Database:
    """An engine and its session factory; `session()` commits on success and rolls back on error."""

    def __init__(self, url: str, *, connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
                 statement_timeout: float = STATEMENT_TIMEOUT_SECONDS):
        self.url = url
        self.engine = make_engine(url, connect_timeout=connect_timeout, statement_timeout=statement_timeout)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


class StepDatabase:
    """A `Database` for work made of several sessions that must commit as one (a tool call and the
    record that it ran). Outside `step()` it is the database itself; inside, every `session()` joins
    the step's transaction as a savepoint, so what the sessions wrote commits or rolls back with what
    the step adds at its end. Sessions may be opened from other threads (the MCP server's) while one
    caller waits: one step runs at a time."""

    def __init__(self, db: Database):
        self.db, self.url, self.engine = db, db.url, db.engine
        self._connection = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        connection = self._connection
        if connection is None:
            with self.db.session() as session:
                yield session
            return
        session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
            session.commit()  # releases the savepoint; the step's transaction stays open
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def step(self) -> Iterator[Session]:
        """One transaction around everything the sessions opened inside do; yields a session for the
        step's own writes, committed last."""
        with self.engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # pysqlite begins lazily, before the first write: a savepoint released before that would
                # commit on its own. Begin now, and take the write lock at once (no upgrade deadlock).
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            self._connection = connection
            try:
                with self.session() as own:
                    yield own
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
            finally:
                self._connection = None


@lru_cache(maxsize=8)
def get_database(url: str | None = None) -> Database:
    if url is None:
        from shop.settings import get_settings

        url = get_settings().database_url
    return Database(url)
