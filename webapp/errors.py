"""Errors: the base of every service's errors, the translated error pages (HTML, or JSON for
API clients), and logging a failure without personal data."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """A problem the person can fix, raised by a service: a translated ``message`` and, when
    it belongs to one, the form ``field`` to show it next to (``views.attach_error``)."""

    message = _l("Something went wrong. Please try again.")
    field: str | None = None

    def __init__(self, message=None, field: str | None = None):
        super().__init__()
        if message is not None:
            self.message = message
        if field is not None:
            self.field = field


MESSAGES = {
    400: (_l("Bad request"), _l("We could not understand that request. Go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to see this page.")),
    404: (_l("Page not found"), _l("If you typed the web address, check it is correct.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way. Go back and try again.")),
    413: (_l("Too much data"), _l("What you sent is too large. Please send less.")),
    429: (
        _l("Too many attempts"),
        _l("You have tried too many times. Please wait a few minutes and try again."),
    ),
    500: (
        _l("Sorry, there is a problem with the service"),
        _l("Please try again later. In an emergency, call 911."),
    ),
}
CSRF_MESSAGE = _l(
    "This form expired or was sent from another site. Go back, reload the page and try again."
)


def render_error(code: int, detail=None):
    title, message = MESSAGES.get(code, MESSAGES[500])
    if request.path.startswith("/api/") or request.path == "/healthz":
        return {"error": str(title)}, code
    return render_template(
        "errors/error.html", code=code, title=title, message=detail or message
    ), code


def init_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if error.code not in MESSAGES:
            return error
        return render_error(error.code)  # Flask-Limiter adds Retry-After to 429s itself

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("unhandled error")
        from .extensions import db

        db.session.rollback()
        return render_error(500)

    app.register_error_handler(InternalServerError, lambda e: render_error(500))


def log_failure(logger: logging.Logger, what: str, error: Exception) -> None:
    """Log a failure without the words or the number: a database error's text quotes the
    statement's parameters and can quote a failing row, so of those only the driver's first
    line; other errors (bugs) with their traceback."""
    if isinstance(error, SQLAlchemyError):
        orig = getattr(error, "orig", None)
        first = str(orig).splitlines()[0][:200] if orig is not None and str(orig) else ""
        logger.error("%s (%s%s)", what, type(error).__name__, f": {first}" if first else "")
    else:
        logger.error("%s", what, exc_info=error)
