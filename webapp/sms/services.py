"""Sending a text: render it in the recipient's language, store it, hand it to the backend."""

from __future__ import annotations

import logging

from flask import current_app

from ..extensions import db
from ..models import OutboundMessage
from ..models.types import utcnow
from . import texts
from .backends import SmsDeliveryError

log = logging.getLogger(__name__)


def send_text(to: str, template: str, locale: str, **params: str) -> OutboundMessage:
    """Queue and send ``template`` to ``to`` (E.164) in ``locale``.

    The message row joins the caller's transaction. Delivery failures are recorded on the
    row (``status == "failed"``) rather than raised, so the caller decides what to tell the
    person. The body is never logged: it may hold a code.
    """
    backend = current_app.extensions["sms_backend"]
    message = OutboundMessage(
        to=to,
        body=texts.render(template, locale, **params),
        template=template,
        locale=locale,
        backend=backend.name,
    )
    db.session.add(message)
    db.session.flush()
    try:
        backend.send(message)
    except SmsDeliveryError as exc:
        message.status = "failed"
        message.error_code = exc.code
        log.warning("sms %s (%s) failed: %s", message.id, template, exc.code)
    else:
        message.sent_at = utcnow()
        log.info("sms %s (%s) handed to %s", message.id, template, backend.name)
    return message
