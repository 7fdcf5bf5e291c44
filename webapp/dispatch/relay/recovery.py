"""Recovery: stored texts that belong in an emergency session but are in none (writing the
session failed after the text was stored, or the request died half-way) are filed, at the
time they arrived, so that no emergency text is ever dropped. The SMS worker runs ``recover``
every few seconds over the last ``RECOVERY_LOOKBACK``; ``flask --app wsgi emergency recover
--hours N`` looks further back after a long outage.

Idempotent and safe with several workers: a stored text is filed at most once (the unique
``emergency_messages.inbound_message_id``, checked under the texter's lock), and a failure
with one text is logged while the others go on.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select

from ...audit.services import record
from ...extensions import db
from ...models import EmergencyMessage, EmergencySession, InboundMessage, SessionStatus, User
from ...models.types import utcnow
from ...sms.commands import parse
from .texter import SUBJECT, current_session, file_text, lock_phone, log_failure, open_session

log = logging.getLogger(__name__)

# A text still being handled by its webhook request is not recovered from under it.
RECOVERY_GRACE = timedelta(seconds=30)
RECOVERY_LOOKBACK = timedelta(hours=1)
SWEEP_WITHIN = timedelta(hours=1)  # follow-up texts filed with a recovered one (``_sweep``)
RELAYED_COMMANDS = ("emergency", "relay")  # InboundMessage.command of texts meant for a session


def recover(*, since: datetime | None = None, now: datetime | None = None) -> int:
    """File every stored text that belongs in an emergency session but is in none: texts
    whose filing failed (their command says ``emergency`` or ``relay``, or a STOP sent while
    a session was live), and texts whose request died before it was processed (older than
    ``RECOVERY_GRACE``) that are an emergency keyword or arrived while a session was live.
    ``since`` limits the search to texts received from then on. Returns how many were filed.
    """
    now = now or utcnow()
    m = InboundMessage
    filed = select(EmergencyMessage.id).where(EmergencyMessage.inbound_message_id == m.id)
    query = (
        select(m.id)
        .where(
            ~filed.exists(),
            or_(
                m.command.in_(RELAYED_COMMANDS),
                and_(m.command == "stop", _live_at(m.from_number, m.received_at)),
                and_(m.processed_at.is_(None), m.received_at <= now - RECOVERY_GRACE),
            ),
        )
        .order_by(m.id)
    )
    if since is not None:
        query = query.where(m.received_at >= since)
    candidates = db.session.scalars(query).all()
    db.session.rollback()
    recovered = 0
    for message_id in candidates:
        try:
            recovered += _recover(message_id, now)
            db.session.commit()
        except Exception as error:  # the others still get their chance
            db.session.rollback()
            log_failure(log, f"stored text {message_id} could not be filed; will retry", error)
    return recovered


def _live_at(phone, at):
    """SQL: a session of ``phone`` was live at ``at``."""
    s = EmergencySession
    return (
        select(s.id)
        .where(s.phone == phone, s.opened_at <= at, or_(s.closed_at.is_(None), s.closed_at >= at))
        .exists()
    )


def _recover(message_id: int, now: datetime) -> int:
    message = db.session.get(InboundMessage, message_id, populate_existing=True)
    phone, at = message.from_number, message.received_at
    lock_phone(phone)
    if _is_filed(message.id):
        return 0  # another worker did it meanwhile
    keyword = parse(message.body or "")
    then = db.session.scalar(
        select(EmergencySession)
        .where(
            EmergencySession.phone == phone,
            EmergencySession.opened_at <= at,
            or_(EmergencySession.closed_at.is_(None), EmergencySession.closed_at >= at),
        )
        .order_by(EmergencySession.id.desc())
        .limit(1)
    )
    meant = message.command in RELAYED_COMMANDS or keyword.name == "emergency"
    if then is None and not meant:
        return 0  # an ordinary text whose request died: not the relay's
    session = then if then is not None and then.status in SessionStatus.LIVE else None
    session = session or current_session(phone)
    opened = session is None
    if opened:  # its own session, waiting since the text came (so escalation follows at once)
        user = db.session.scalar(select(User).where(User.phone == phone))
        locale = (user.locale if user else None) or keyword.locale
        session = open_session(
            phone,
            user_id=user.id if user is not None and user.phone_verified else None,
            locale=locale or current_app.config["DEFAULT_LOCALE"],
            at=at,
        )
    count = _file(session, message, now)
    if opened:
        count += _sweep(session, message, now)
    record(
        "emergency.recovered",
        actor=None,
        subject_type=SUBJECT,
        subject_id=session.id,
        reason=f"{count} texts",
    )
    log.warning("emergency session %s: %s stored texts recovered", session.id, count)
    return count


def _sweep(session: EmergencySession, first: InboundMessage, now: datetime) -> int:
    """File what the texter wrote after ``first`` while it was in no session (their follow-up
    texts, the address...) up to their first text that did reach a session, within
    ``SWEEP_WITHIN``: from there on the ordinary rules held."""
    later = db.session.scalars(
        select(InboundMessage)
        .where(
            InboundMessage.from_number == first.from_number,
            InboundMessage.id > first.id,
            InboundMessage.received_at <= first.received_at + SWEEP_WITHIN,
        )
        .order_by(InboundMessage.id)
    ).all()
    count = 0
    for message in later:
        if _is_filed(message.id):
            break
        if message.processed_at is None and message.received_at > now - RECOVERY_GRACE:
            continue  # its own request is still acting on it
        count += _file(session, message, now)
    return count


def _file(session: EmergencySession, message: InboundMessage, now: datetime) -> int:
    file_text(session, message.body, message.id, at=message.received_at)
    if message.processed_at is None:  # its request died: this is what became of it
        message.command = "emergency" if parse(message.body or "").name == "emergency" else "relay"
        message.processed_at = now
    return 1


def _is_filed(message_id: int) -> bool:
    return (
        db.session.scalar(
            select(EmergencyMessage.id).where(EmergencyMessage.inbound_message_id == message_id)
        )
        is not None
    )
