"""Simulator pages (placeholder until the simulator issue lands)."""
from flask import Blueprint

bp = Blueprint("simulator", __name__)


@bp.get("/")
def index():
    return "LINE simulator: coming with the simulator issue"
