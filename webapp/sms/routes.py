"""Twilio webhooks. Every request's signature is checked; a bad one stores nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from functools import wraps
from typing import Any
from urllib.parse import unquote_plus
from xml.sax.saxutils import escape

from flask import Blueprint, Request, Response, abort, current_app, request
from twilio.request_validator import RequestValidator

from .. import db_watch
from ..errors import log_failure
from ..extensions import csrf, db, limiter
from . import spool, texts
from .commands import parse
from .inbound import effective_auth_token, handle
from .services import update_status

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/sms")
# Twilio signs its requests instead of a CSRF token, and is not rate limited here; neither
# extension's hooks even run for a webhook (``MACHINE_BLUEPRINTS``, ``for_pages_only``).
csrf.exempt(bp)
limiter.exempt(bp)

# Twilio waits 15 s for an answer; we answer within 2 s whatever the database does. Past this,
# the database work is cut short, and the text is spooled and answered safely (db_watch).
HANDLE_WITHIN = 1.5  # seconds


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
    """Run ``view(fields)`` for a request Twilio signed (``fields``: its form, each name's
    values); anything else gets 403."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        # The app and the request once, not through their proxies at every use: each use of
        # ``current_app`` or ``request`` costs about a microsecond, and a webhook made dozens.
        config, req = current_app.config, request._get_current_object()
        token, url = effective_auth_token(config), signed_url(config, req)
        signature = req.headers.get("X-Twilio-Signature", "")
        if not (token and url and signature):
            abort(403)
        fields = posted_fields(req)
        if not signature_valid(token, url, fields, signature):
            log.warning("rejected a webhook with a bad signature")
            abort(403)
        return view(fields, *args, **kwargs)

    return wrapped


# Werkzeug's limit on a form's parts (``max_form_parts``); Twilio posts a few dozen fields.
MAX_FIELDS = 1000


class Fields(dict):
    """A form's values by name (each a list), as ``RequestValidator`` reads them first
    (``getall``). Given Werkzeug's ``MultiDict`` itself, it raises and catches an
    ``AttributeError`` per field before it finds ``getlist``."""

    def getall(self, name: str) -> list[str]:
        return self[name]

    def first(self) -> dict[str, str]:
        return {name: values[0] for name, values in self.items()}


def posted_fields(req: Request) -> Fields:
    """The fields of a url-encoded body (what Twilio posts).

    Not ``request.form``: Werkzeug's form parser (a stream wrapper, a ``MultiDict``, and the
    standard library's ``parse_qsl`` inside) cost a tenth of a webhook. This is
    ``parse_qsl(body, keep_blank_values=True)`` (a test holds the two equal), except that a
    name or value is unquoted only when it holds ``%`` or ``+``, as few of Twilio's do. The
    body is read as ``request.form`` would read it, within ``MAX_CONTENT_LENGTH``; any other
    content type has no fields (and so no valid signature); more than ``MAX_FIELDS`` fields
    get 413, as Werkzeug answers."""
    fields = Fields()
    # The media type without its parameters (``request.mimetype`` parses them too, slowly).
    mimetype = (req.content_type or "").partition(";")[0].strip().lower()
    if mimetype != "application/x-www-form-urlencoded":
        return fields
    return parse_fields(req.get_data(cache=True).decode("utf-8", "replace"), fields)


def parse_fields(body: str, fields: Fields) -> Fields:
    pairs = body.split("&")
    if len(pairs) > MAX_FIELDS:
        abort(413)
    for pair in pairs:
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        values = fields.get(name)
        if values is None:
            fields[name] = [value]
        else:
            values.append(value)
    return fields


def signature_valid(token: str, url: str, fields: Fields, signature: str) -> bool:
    """Twilio's check, quickest case first: the URL exactly as rebuilt, one HMAC, computed
    here as ``RequestValidator.compute_signature`` computes it (a test holds the two equal
    on any form), without its per-field lookups. Only when that fails does
    ``RequestValidator.validate`` try its variants (with and without the port, and a body
    hash), so a valid request costs one HMAC instead of two."""
    quick = "bodySHA256" not in url
    if quick and hmac.compare_digest(twilio_signature(token, url, fields), signature.encode()):
        return True
    return RequestValidator(token).validate(url, fields, signature)


def twilio_signature(token: str, url: str, fields: Fields) -> bytes:
    """Twilio's HMAC-SHA1 signature (base64) of ``url`` followed by each field's name and
    value, names sorted, a name's distinct values sorted."""
    parts = [url]
    for name in sorted(fields):
        values = fields[name]
        for value in sorted(set(values)) if len(values) > 1 else values:
            parts.append(name)
            parts.append(value)
    digest = hmac.new(token.encode(), "".join(parts).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest)


# A reply is one message or none. The envelope is written here, byte for byte as twilio's
# ``MessagingResponse`` writes it (a test holds the two equal), because building it with that
# class (an ElementTree, then serialised) cost about a twentieth of the whole webhook.
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'
TWIML_MESSAGE = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>{}</Message></Response>'
# Characters XML 1.0 does not allow: Twilio would reject the whole reply.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def twiml(text: str) -> Response:
    if not text:
        return Response(TWIML_EMPTY, mimetype="application/xml")
    body = TWIML_MESSAGE.format(escape(XML_INVALID.sub("", text)))
    return Response(body, mimetype="application/xml")


@bp.route("/inbound", methods=["POST"])
@twilio_signed
def inbound(fields: Fields):
    form = fields.first()
    try:
        with db_watch.within(HANDLE_WITHIN):
            reply = handle(form).reply
        return twiml(reply)
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
def status(fields: Fields):
    form = fields.first()
    update_status(form.get("MessageSid", ""), form.get("MessageStatus", ""), form.get("ErrorCode"))
    return Response(status=204)
