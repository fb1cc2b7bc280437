"""WSGI entry point for gunicorn: `gunicorn webhooks.wsgi:app`."""
from bot.settings import ConfigError, exit_on_config_error, get_settings
from webhooks.app import create_app

try:
    app = create_app(get_settings())
except ConfigError as error:  # one clear line, no traceback
    exit_on_config_error(error)
