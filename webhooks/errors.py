"""JSON error responses for the whole app: a clear status and message, never a stack trace."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def error_response(status: int, error: str, message: str):
    response = jsonify(error=error, message=message)
    response.status_code = status
    return response


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        response = error_response(error.code or 500, error.name.lower().replace(" ", "_"),
                                  error.description or error.name)
        for name, value in error.get_headers():  # e.g. Allow on 405
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal error")
