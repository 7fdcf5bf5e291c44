"""Sending a text: render it in the recipient's language, store it, hand it to the backend."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import ConsentRecord, OutboundMessage
from ..models.types import utcnow
from . import texts
from .backends import SmsDeliveryError

log = logging.getLogger(__name__)

# The only texts a number that replied STOP may still receive.
SENT_AFTER_STOP = frozenset({"stop_confirmation"})
SMS_CONSENT_VERSION = "2026-11-01"


def sms_opted_out(phone: str) -> bool:
    """Whether the latest SMS consent entry for ``phone`` is a STOP."""
    latest = db.session.scalar(
        select(ConsentRecord.granted)
        .where(ConsentRecord.phone == phone, ConsentRecord.kind == "sms")
        .order_by(ConsentRecord.id.desc())
        .limit(1)
    )
    return latest is False


def record_sms_consent(phone: str, granted: bool, *, channel: str, user_id: int | None = None):
    """Write a STOP (``granted=False``) or START to the consent ledger. Does not commit."""
    entry = ConsentRecord(
        user_id=user_id,
        phone=phone,
        kind="sms",
        granted=granted,
        version=SMS_CONSENT_VERSION,
        channel=channel,
    )
    db.session.add(entry)
    return entry


def send_text(to: str, template: str, locale: str, **params: str) -> OutboundMessage:
    """Queue and send ``template`` to ``to`` (E.164) in ``locale``.

    The message row joins the caller's transaction. Delivery failures are recorded on the
    row (``status == "failed"``) rather than raised, so the caller decides what to tell the
    person. A number whose latest consent entry is a STOP gets nothing
    (``status == "suppressed"``) but the STOP confirmation. The body is never logged.
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
    if template not in SENT_AFTER_STOP and sms_opted_out(to):
        message.status = "suppressed"
        log.info("sms %s (%s) suppressed: the number replied STOP", message.id, template)
        return message
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
