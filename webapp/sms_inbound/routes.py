"""Twilio's webhooks. Every request's signature is checked; a bad one stores nothing."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from functools import wraps
from typing import Any

from flask import Blueprint, Request, Response, abort, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from ..errors import log_failure
from ..extensions import csrf, db, limiter
from ..sms import texts
from ..sms.commands import parse
from ..sms.services import update_status
from . import spool
from .handler import handle

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/sms")
# Twilio signs its requests instead of sending a CSRF token, and is not rate limited here
# (a text from a person in trouble is never turned away).
csrf.exempt(bp)
limiter.exempt(bp)


def effective_auth_token(config: Mapping[str, Any] | None = None) -> str | None:
    """Twilio's auth token (``config``: the app's, by default the current app's); outside
    production without one, a local token from SECRET_KEY (the development phone page signs
    with it). Production without a token accepts nothing."""
    if config is None:
        config = current_app.config
    token = config["TWILIO_AUTH_TOKEN"]
    if token:
        return token
    if config["APP_ENV"] == "production":
        return None
    key = config["SECRET_KEY"].encode()
    return hmac.new(key, b"development twilio token", hashlib.sha256).hexdigest()


def signed_url(config: Mapping[str, Any], req: Request) -> str | None:
    """The URL Twilio signed, rebuilt from PUBLIC_BASE_URL, or from the request when trusted
    proxies (ProxyFix) or development vouch for its host; never from raw forwarded headers."""
    base = config["PUBLIC_BASE_URL"]
    if base:
        query = req.query_string.decode()
        return base.rstrip("/") + req.path + (f"?{query}" if query else "")
    if config["TRUSTED_PROXIES"] or config["APP_ENV"] != "production":
        return req.url
    return None


def twilio_signed(view):
    """Run ``view`` only for a request Twilio signed; anything else gets 403."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        token, url = effective_auth_token(), signed_url(current_app.config, request)
        signature = request.headers.get("X-Twilio-Signature", "")
        if not (token and url and signature):
            abort(403)
        if not RequestValidator(token).validate(url, request.form, signature):
            log.warning("rejected a webhook with a bad signature")
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def twiml(text: str) -> Response:
    """A TwiML answer: the reply as one message, or none."""
    answer = MessagingResponse()
    if text:
        answer.message(text)
    return Response(str(answer), mimetype="text/xml")


@bp.route("/inbound", methods=["POST"])
@twilio_signed
def inbound():
    form = request.form.to_dict()
    try:
        return twiml(handle(form).reply)
    except Exception as error:  # whatever broke, the texter gets a safe answer
        # The database is down (or a bug): keep the text on disk and still answer, safely.
        db.session.rollback()
        path = spool.write(form)
        log_failure(log, f"text {path.stem} could not be handled now; spooled", error)
        command = parse(form.get("Body", ""))
        locale = command.locale or current_app.config["DEFAULT_LOCALE"]
        safe = "emergency_failed" if command.name == "emergency" else "service_unavailable"
        return twiml(texts.render(safe, locale))


@bp.route("/status", methods=["POST"])
@twilio_signed
def status():
    update_status(
        request.form.get("MessageSid", ""),
        request.form.get("MessageStatus", ""),
        request.form.get("ErrorCode"),
    )
    return Response(status=204)
