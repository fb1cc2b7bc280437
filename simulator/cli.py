"""`salesbot simulator`: the LINE simulator alone, against any bot."""
from __future__ import annotations

import click


@click.command()
@click.option("--bot-url", required=True, help="the bot's webhook URL, e.g. http://127.0.0.1:8000/callback")
@click.option("--channel-secret", required=True, envvar="LINE_CHANNEL_SECRET",
              help="signs the webhooks (default: $LINE_CHANNEL_SECRET)")
@click.option("--access-token", default=None, envvar="LINE_CHANNEL_ACCESS_TOKEN",
              help="the bearer token the bot must send; without it any token is accepted")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True)
@click.option("--shop-name", default="ร้านบอร์ดเกมตัวอย่าง", envvar="SHOP_NAME", show_default=True,
              help="receiver name on simulated slips")
def simulator(bot_url: str, channel_secret: str, access_token: str | None, host: str, port: int,
              shop_name: str) -> None:
    """Run only the LINE simulator against a bot at BOT_URL.

    Point the bot's LINE_API_BASE_URL at http://HOST:PORT/sim/line.
    """
    from simulator.app import create_simulator_app
    from simulator.core import SimulatorConfig

    if not bot_url.startswith(("http://", "https://")):
        raise click.BadParameter("must start with http:// or https://", param_hint="--bot-url")
    app = create_simulator_app(SimulatorConfig(channel_secret=channel_secret, access_token=access_token,
                                               bot_url=bot_url, shop_name=shop_name))
    click.echo(f"LINE simulator: chat page http://{host}:{port}/sim/ → webhooks to {bot_url}")
    click.echo(f"  set the bot's LINE_API_BASE_URL=http://{host}:{port}/sim/line")
    if access_token is None:
        click.echo("  no --access-token: any bearer token is accepted")
    app.run(host=host, port=port, threaded=True, use_reloader=False)
