"""`salesbot dev`: the service and the simulator together, with embedded defaults."""
from __future__ import annotations

import click


@click.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
def dev(bind: str) -> None:
    """Run the service with embedded defaults (placeholder until the simulator issue lands)."""
    from webhooks.wsgi import app

    host, port = bind.rsplit(":", 1)
    app.run(host=host, port=int(port), threaded=True)
