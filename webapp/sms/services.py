"""Sending a text: render it in the recipient's language, store it, hand it to the backend."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import ConsentRecord, OutboundMessage
from ..models.types import utcnow
from . import texts

log = logging.getLogger(__name__)

# The only texts a number that replied STOP may still receive: the STOP confirmation, and the
# emergency relay's texts. Someone who texts 911 must hear back from the dispatcher whatever
# they replied before (docs/sms.md, "Emergency texts"); Twilio's own opt-out may still block them.
EMERGENCY_TEMPLATES = frozenset(
    {
        "emergency_reply",  # a dispatcher's own words (send_raw)
        "emergency_ask_address",
        "emergency_ask_safe",
        "emergency_help_coming",
        "emergency_received",
        "emergency_off_duty",
        "emergency_failed",
        "emergency_unanswered",
        "emergency_supervisor_alert",
        "emergency_supervisor_released",
    }
)
SENT_AFTER_STOP = frozenset({"stop_confirmation"}) | EMERGENCY_TEMPLATES
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


def record_sms_consent(
    phone: str, granted: bool, *, channel: str, user_id: int | None = None
) -> ConsentRecord:
    """Write a STOP (``granted=False``) or START to the consent ledger, with the wording's
    version. Does not commit."""
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
    """Queue ``template`` for ``to`` (E.164), rendered in ``locale``.

    The row joins the caller's transaction, so a text exists exactly when the change that
    caused it is committed; ``flask --app wsgi sms worker`` sends it (the local outbox backend
    "delivers" at once, so development needs no worker). A number whose latest consent entry is
    a STOP gets nothing but ``SENT_AFTER_STOP`` (others are stored ``status == "suppressed"``).
    The body is never logged: it may hold a code.
    """
    return _queue(to, texts.render(template, locale, **params), template, locale)


def send_raw(to: str, body: str, locale: str, *, kind: str = "emergency_reply") -> OutboundMessage:
    """Queue ``body``, written by a person (a dispatcher's reply to an emergency text), for
    ``to``; exactly like ``send_text`` otherwise. ``kind`` is stored where a template's name
    goes (what the text was, never its words). An emergency kind is sent even to a number that
    replied STOP (``SENT_AFTER_STOP``). The body is never logged."""
    return _queue(to, body, kind, locale)


def _queue(to: str, body: str, template: str, locale: str) -> OutboundMessage:
    backend = current_app.extensions["sms_backend"]
    message = OutboundMessage(
        to=to,
        body=body,
        template=template,
        locale=locale,
        backend=backend.name,
        status="pending",
    )
    db.session.add(message)
    db.session.flush()
    if template not in SENT_AFTER_STOP and sms_opted_out(to):
        message.status = "suppressed"
        log.info("sms %s (%s) suppressed: the number replied STOP", message.id, template)
    elif backend.inline:
        backend.send(message)
        message.sent_at = utcnow()
    return message


# Twilio's message states in the order they happen; a callback only ever moves forward.
STATUS_ORDER = {
    "pending": 0,
    "claimed": 1,
    "accepted": 2,
    "scheduled": 2,
    "queued": 3,
    "sending": 4,
    "sent": 5,
    "delivered": 6,
    "undelivered": 6,
    "failed": 6,
    "canceled": 6,
    "read": 7,
}


def update_status(provider_sid: str, status: str, error_code: str | None = None) -> bool:
    """Apply a status callback; unknown sids and backward moves change nothing."""
    if status not in STATUS_ORDER or not provider_sid:
        return False
    message = db.session.scalar(
        select(OutboundMessage).where(OutboundMessage.provider_sid == provider_sid)
    )
    if message is None or STATUS_ORDER[status] <= STATUS_ORDER.get(message.status, -1):
        return False
    message.status = status
    if error_code:
        message.error_code = error_code[:32]
    db.session.commit()
    return True
