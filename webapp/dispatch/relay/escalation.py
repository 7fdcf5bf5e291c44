"""What the relay does on its own, every round of the SMS worker and from
``flask --app wsgi emergency escalate``:

- ``escalate_due``: a session nobody claimed within ``EMERGENCY_CLAIM_TIMEOUT`` seconds gets,
  once, the "no dispatcher is answering: call or text 911 directly" advice to the texter and an
  alert to every ``SUPERVISOR_PHONES`` number (the session's number and how long it waited,
  never what was written, nor the texter's phone number).
- ``release_stranded``: a claimed session whose dispatcher is no longer on duty (signed out,
  console gone for ``DUTY_SEEN_WITHIN``, account disabled) goes back to the queue, with the
  same advice to the texter and a "released" alert to the supervisors.
- ``lapse_stale``: an open session nobody claimed, escalated or released at least
  ``LAPSE_AFTER`` ago and with no text from its texter since, is closed as ``lapsed``: the
  number's texts are commands again, and a new emergency text opens a new session, with its
  own instant reply and escalation (the old one stays readable).

Each is idempotent and safe with several workers: each change is one conditional UPDATE that
only one of them can win (``escalated_at`` is set once). A failure with one session is logged
and the others go on; the next round tries again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from ...audit.services import record
from ...extensions import db
from ...models import EmergencyMessage, EmergencySession, SessionStatus, User
from ...models.types import utcnow
from ...sms.services import send_text
from .duty import on_duty_clause
from .texter import SUBJECT, lock_phone, log_failure, textable

log = logging.getLogger(__name__)

LAPSE_AFTER = timedelta(hours=1)
LAPSED = "lapsed"  # the outcome of a session closed by ``lapse_stale``, not by a dispatcher


def escalate_due(now: datetime | None = None) -> int:
    """Escalate every open session that has waited longer than ``EMERGENCY_CLAIM_TIMEOUT``
    and was not escalated yet; returns how many this call escalated."""
    now = now or utcnow()
    timeout = timedelta(seconds=current_app.config["EMERGENCY_CLAIM_TIMEOUT"])
    due = db.session.scalars(
        select(EmergencySession.id)
        .where(
            EmergencySession.status == SessionStatus.OPEN,
            EmergencySession.escalated_at.is_(None),
            EmergencySession.opened_at <= now - timeout,
        )
        .order_by(EmergencySession.opened_at, EmergencySession.id)
    ).all()
    db.session.rollback()  # end the read: each escalation is its own transaction
    won = (EmergencySession.status == SessionStatus.OPEN, EmergencySession.escalated_at.is_(None))
    return sum(
        _each(session_id, lambda s: _escalate(s, now), won, escalated_at=now) for session_id in due
    )


def release_stranded(now: datetime | None = None) -> int:
    """Put back in the queue every claimed session whose dispatcher is no longer on duty."""
    now = now or utcnow()
    present = select(User.id).where(on_duty_clause(now))
    stranded = db.session.execute(
        select(EmergencySession.id, EmergencySession.claimed_by_id).where(
            EmergencySession.status == SessionStatus.CLAIMED,
            or_(
                EmergencySession.claimed_by_id.is_(None),
                EmergencySession.claimed_by_id.not_in(present),
            ),
        )
    ).all()
    db.session.rollback()
    released = 0
    for session_id, holder in stranded:
        won = (
            EmergencySession.status == SessionStatus.CLAIMED,
            EmergencySession.claimed_by_id.is_(None)
            if holder is None
            else EmergencySession.claimed_by_id == holder,
        )
        released += _each(
            session_id,
            lambda s, h=holder: _release(s, h, now),
            won,
            status=SessionStatus.OPEN,
            claimed_by_id=None,
            claimed_at=None,
            escalated_at=now,
        )
    return released


def lapse_stale(now: datetime | None = None) -> int:
    """Close every open session left unclaimed ``LAPSE_AFTER`` after its escalation (or
    release) and after its texter's last text; returns how many."""
    now = now or utcnow()
    cutoff = now - LAPSE_AFTER
    stale = (
        EmergencySession.status == SessionStatus.OPEN,
        EmergencySession.escalated_at <= cutoff,
        EmergencySession.last_message_at <= cutoff,
    )
    due = db.session.execute(select(EmergencySession.id, EmergencySession.phone).where(*stale))
    due = due.all()
    db.session.rollback()
    return sum(
        _each(
            session_id,
            _lapse,
            stale,
            status=SessionStatus.CLOSED,
            closed_at=now,
            outcome=LAPSED,
            lock=phone,
        )
        for session_id, phone in due
    )


def _lapse(session: EmergencySession) -> None:
    record("emergency.lapsed", actor=None, subject_type=SUBJECT, subject_id=session.id)
    log.info("emergency session %s lapsed unclaimed", session.id)


def _each(session_id: int, act, condition, *, lock: str | None = None, **values) -> int:
    """Apply ``values`` to the session if ``condition`` still holds (one conditional UPDATE:
    of several workers only one wins), then ``act`` on it, all in one transaction. With
    ``lock`` (the texter's number), texts from it wait meanwhile (``lock_phone``)."""
    try:
        if lock is not None:
            lock_phone(lock)
        changed = db.session.execute(
            update(EmergencySession)
            .where(EmergencySession.id == session_id, *condition)
            .values(**values),
            execution_options={"synchronize_session": False},
        ).rowcount
        if changed != 1:
            db.session.rollback()
            return 0
        act(db.session.get(EmergencySession, session_id, populate_existing=True))
        db.session.commit()
        return 1
    except Exception as error:  # one session's failure must not stop the others
        db.session.rollback()
        log_failure(log, f"emergency session {session_id}: escalation failed; will retry", error)
        return 0


def _escalate(session: EmergencySession, now: datetime) -> None:
    waited = int((now - session.opened_at).total_seconds())
    _advise_texter(session, now)
    _alert_supervisors("emergency_supervisor_alert", session=str(session.id), seconds=str(waited))
    record(
        "emergency.escalated",
        actor=None,
        subject_type=SUBJECT,
        subject_id=session.id,
        reason=f"waited {waited}s",
    )
    log.warning("emergency session %s escalated after %ss unclaimed", session.id, waited)


def _release(session: EmergencySession, holder: int | None, now: datetime) -> None:
    _advise_texter(session, now)
    _alert_supervisors("emergency_supervisor_released", session=str(session.id))
    record(
        "emergency.released",
        actor=None,
        subject_type=SUBJECT,
        subject_id=session.id,
        reason=f"from user {holder}",
    )
    log.warning("emergency session %s released: its dispatcher is away", session.id)


def _advise_texter(session: EmergencySession, now: datetime) -> None:
    if not textable(session.phone):
        return
    advice = send_text(session.phone, "emergency_unanswered", session.locale)
    db.session.add(
        EmergencyMessage(
            session_id=session.id,
            direction="system",
            body=advice.body,
            outbound_message_id=advice.id,
            created_at=now,
        )
    )


def _alert_supervisors(template: str, **params: str) -> None:
    locale = current_app.config["DEFAULT_LOCALE"]
    for phone in current_app.config["SUPERVISOR_PHONES"]:
        send_text(phone, template, locale, **params)
