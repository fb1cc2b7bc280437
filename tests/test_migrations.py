"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import shop.models  # noqa: F401
from shop.db import Database
from shop.migrate import upgrade
from shop.models.base import Base


def _check(url):
    upgrade(url)
    database = Database(url)
    with database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    database.engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"
    assert {"products", "orders", "payments", "inbox_events"} <= tables


def test_migrations_match_models_on_sqlite(tmp_path):
    _check(f"sqlite:///{tmp_path / 'm.db'}")


def test_migrations_match_models_on_postgres(postgres_url):
    _check(postgres_url)
