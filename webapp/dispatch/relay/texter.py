"""The texter's side: filing a stored text in its number's session (``receive``, called by
``sms_inbound.handler``), and what every part of the relay shares about a texter's number:
the per-number lock, whether it can be texted back, and logging without words or numbers."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, text

from ...errors import log_failure  # (re-exported: the relay's steps use it)
from ...extensions import db
from ...models import EmergencyMessage, EmergencySession, SessionStatus
from ...models.types import utcnow
from ...sms import texts
from .duty import dispatchers_on_duty

log = logging.getLogger(__name__)

SUBJECT = "emergency_session"  # the audit log's subject type
# An EmergencyMessage needs words; a text with none (a picture alone) is kept as a blank.
BLANK = " "
_PHONE_LOCK = 911  # PostgreSQL advisory lock namespace: one writer per texter's number


def receive(
    phone: str,
    body: str,
    message_id: int | None,
    *,
    user_id: int | None,
    locale: str,
    keyword: bool = False,
    opens: bool = True,
    now: datetime | None = None,
    received_at: datetime | None = None,
) -> tuple[str | None, str]:
    """File a stored text (``InboundMessage`` ``message_id``) in the sender's live session,
    opening one when there is none (unless ``opens`` is False: a STOP never opens a session).

    Returns the instant reply's template and language (the session's; ``locale`` for a new
    one). The template is None for no reply, else ``emergency_received``
    or ``emergency_off_duty`` for the text that opens a session, and for an emergency
    ``keyword`` again while no dispatcher has claimed the session (nobody is talking with
    them: a new plea is answered, never met with silence); ``emergency_failed`` when the
    session could not be written (everything here is rolled back, the stored text stays for
    ``recovery.recover``); None for any other text that joins one. Commits.

    ``received_at``: when the text reached us, if that was earlier than now (a text imported
    from the spool after an outage): the session opens, and the text is filed, at that time,
    so the console shows how long it has waited and escalation treats it as overdue.
    """
    now = now or utcnow()
    at = received_at or now
    try:
        lock_phone(phone)
        session = current_session(phone)
        if session is None and not opens:
            db.session.rollback()
            return None, locale
        opened = session is None
        if opened:
            session = open_session(phone, user_id=user_id, locale=locale, at=at)
        reply = None
        if opened or (keyword and session.status == SessionStatus.OPEN):
            reply = "emergency_received" if dispatchers_on_duty(now) else "emergency_off_duty"
        file_text(session, body, message_id, at=at)
        if reply is not None:  # what the texter was told, for the dispatcher to read
            db.session.add(
                EmergencyMessage(
                    session_id=session.id,
                    direction="system",
                    body=texts.render(reply, session.locale),
                    created_at=now,
                )
            )
        answer = reply, session.locale
        db.session.commit()
        return answer
    except Exception as error:  # whatever failed, the texter must hear "call 911"
        db.session.rollback()
        log_failure(
            log,
            f"emergency text {message_id} could not be filed; it stays stored for recovery",
            error,
        )
        return "emergency_failed", locale


def lock_phone(phone: str) -> None:
    """Serialise the writers for one texter, so two texts arriving together cannot open two
    sessions: a transaction-scoped advisory lock on PostgreSQL; on SQLite, a write (that
    changes nothing) first, which takes the database's one write lock before anything is read.
    """
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(:ns, hashtext(:phone))"),
            {"ns": _PHONE_LOCK, "phone": phone},
        )
    else:
        db.session.execute(_TAKE_WRITE_LOCK)


_TAKE_WRITE_LOCK = text("UPDATE emergency_sessions SET status = status WHERE 0")


def current_session(phone: str) -> EmergencySession | None:
    """The live (open or claimed) session of ``phone``, if any."""
    return db.session.scalar(
        select(EmergencySession)
        .where(EmergencySession.phone == phone, EmergencySession.status.in_(SessionStatus.LIVE))
        .order_by(EmergencySession.id.desc())
        .limit(1)
    )


def open_session(phone: str, *, user_id: int | None, locale: str, at: datetime) -> EmergencySession:
    session = EmergencySession(
        phone=phone,
        user_id=user_id,
        locale=locale,
        status=SessionStatus.OPEN,
        opened_at=at,
        last_message_at=at,
    )
    db.session.add(session)
    db.session.flush()
    return session


def file_text(
    session: EmergencySession, body: str | None, message_id: int | None, *, at: datetime
) -> EmergencyMessage:
    """Add a text from the texter to ``session``. Does not commit."""
    message = EmergencyMessage(
        session_id=session.id,
        direction="inbound",
        body=body if body and body.strip() else BLANK,
        inbound_message_id=message_id,
        created_at=at,
    )
    db.session.add(message)
    if session.last_message_at is None or at > session.last_message_at:
        session.last_message_at = at
    db.session.flush()
    return message


def textable(phone: str) -> bool:
    """Whether a texter's number can be texted back (E.164, which the outbox stores)."""
    return phone.startswith("+") and phone[1:].isdigit() and len(phone) <= 16
