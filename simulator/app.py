"""A small Flask app with only the simulator, for running it against any bot (`salesbot simulator`)."""
from __future__ import annotations

from flask import Flask, redirect

from simulator.core import Simulator, SimulatorConfig


def create_simulator_app(config: SimulatorConfig) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.extensions["salesbot.simulator"] = Simulator(config)

    from simulator.web import bp

    app.register_blueprint(bp, url_prefix="/sim")

    @app.get("/")
    def home():
        return redirect("/sim/")

    return app
