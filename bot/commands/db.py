"""`salesbot db upgrade|current`: Alembic migrations."""
from __future__ import annotations

import click

from shop.migrate import upgrade
from shop.settings import settings_or_exit


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
def upgrade_command(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    url = settings_or_exit().database_url
    upgrade(url, revision)
    click.echo(f"database at {revision}")


@db.command("revision")
@click.argument("message")
def revision_command(message: str) -> None:
    """Write a new migration from the difference between the models and the migrations (developers)."""
    import tempfile
    from pathlib import Path

    from alembic import command

    from shop.migrate import MIGRATIONS, alembic_config

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'scratch.db'}"
        upgrade(url)
        number = len(list((MIGRATIONS / "versions").glob("*.py"))) + 1
        command.revision(alembic_config(url), message=message, autogenerate=True, rev_id=f"{number:04d}")
