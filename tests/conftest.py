"""Shared fixtures: settings for tests, a fresh database on SQLite and (when configured) PostgreSQL.

PostgreSQL tests use TEST_DATABASE_URL; each test session works in a database of its own, created
and dropped here, so parallel runs on one server never see each other's rows. CI sets the variable
and fails if the server is unreachable, so those tests never skip silently there.
"""
from __future__ import annotations

import os
import uuid

os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
os.environ["APP_ENV"] = "test"

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shop.db import Database
from shop.models.base import Base
from shop.settings import load_settings

IN_CI = os.environ.get("CI", "").lower() == "true"

# fixtures that live beside their test doubles (tests/ is on sys.path through rootdir-relative imports)
pytest_plugins = ["fake_line_api"]


def _require(var: str) -> str | None:
    value = os.environ.get(var)
    if not value and IN_CI:
        pytest.exit(f"{var} is not set in CI: database tests would skip silently", returncode=3)
    return value


@pytest.fixture(scope="session")
def postgres_url():
    """URL of a throw-away PostgreSQL database for this test session, or skip when none is configured."""
    base = _require("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL not set")
    base_url = make_url(load_settings(database_url=base).database_url)
    name = f"salesbot_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url():
    url = _require("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL not set")
    return url


def _fresh(database: Database) -> Database:
    import shop.models  # noqa: F401

    Base.metadata.drop_all(database.engine)
    Base.metadata.create_all(database.engine)
    return database


@pytest.fixture
def sqlite_db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'test.db'}")
    yield _fresh(database)
    database.engine.dispose()


@pytest.fixture
def postgres_db(postgres_url):
    database = Database(postgres_url)
    yield _fresh(database)
    Base.metadata.drop_all(database.engine)  # the session's database is shared: leave it empty
    database.engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_db(request):
    """The same test on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_db")


@pytest.fixture
def db(sqlite_db):
    """SQLite database for tests that do not depend on the engine."""
    return sqlite_db


@pytest.fixture
def settings(tmp_path):
    return load_settings(app_env="test", database_url=f"sqlite:///{tmp_path / 'app.db'}",
                         line_channel_secret="test-secret", line_channel_access_token="test-token")


@pytest.fixture
def shop(db):
    """The tiny test catalogue and two customers (tests/shop_data.py) on SQLite."""
    from shop_data import seed_shop

    return seed_shop(db)


@pytest.fixture
def alice(shop, settings):
    """Tool context bound to the first test customer."""
    from agent.tools import ToolContext

    return ToolContext(shop.db, settings, shop.alice)


@pytest.fixture
def bob(shop, settings):
    from agent.tools import ToolContext

    return ToolContext(shop.db, settings, shop.bob)


@pytest.fixture(scope="session")
def catalog_db(tmp_path_factory):
    """The full catalogue (135 products, 20k games) loaded once for every test that needs it (search, acts)."""
    from shop.catalog import load_catalog
    from shop.models import create_all

    database = Database(f"sqlite:///{tmp_path_factory.mktemp('search') / 'catalog.db'}")
    create_all(database)
    with database.session() as session:
        load_catalog(session)
    yield database
    database.engine.dispose()
