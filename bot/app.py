"""App assembly: the webhook edge with the real turn, housekeeping and LLM status, the staff back office
at /admin (with the customer messages it queues), plus the simulator when (and only when) `salesbot
dev` asks for it."""
from __future__ import annotations

from flask import Flask, redirect

import admin
from bot.housekeeping import Housekeeper, PushSoon
from bot.replies.fulfilment import customer_messages
from bot.simulator_shop import SimulatorShop
from bot.turn import llm_status, run_turn
from shop.db import Database
from shop.settings import Settings, get_settings
from simulator.core import Simulator, SimulatorConfig
from webhooks import app as edge
from webhooks.worker import TurnFunction


def create_app(settings: Settings | None = None, *, database: Database | None = None,
               turn: TurnFunction | None = None, simulator: SimulatorConfig | None = None,
               start_workers: bool = False) -> Flask:
    """The service. `turn` replaces `bot.turn.run_turn` (tests, benchmarks); `simulator` mounts the LINE
    simulator at /sim with that configuration (development only: nothing derives it from settings)."""
    settings = settings or get_settings()
    app = edge.create_app(settings, database=database, turn=turn or run_turn, housekeeping=Housekeeper,
                          llm_status=llm_status)
    admin.init_app(app, customer_messages=customer_messages, push_soon=PushSoon(app.extensions["salesbot.db"], settings))
    if simulator is not None:
        from simulator.web import bp as simulator_bp

        app.extensions["salesbot.simulator"] = Simulator(simulator)
        app.extensions["salesbot.simulator.shop"] = SimulatorShop(app.extensions["salesbot.db"], settings)
        app.register_blueprint(simulator_bp, url_prefix="/sim")
        app.add_url_rule("/", "home", lambda: redirect("/sim/"))
    if start_workers:
        edge.start_embedded_workers(app)
    return app
