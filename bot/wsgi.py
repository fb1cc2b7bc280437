"""WSGI entry point for gunicorn (gunicorn.conf.py names it): the production service, never the simulator."""
from bot.app import create_app
from shop.settings import settings_or_exit

app = create_app(settings_or_exit())
