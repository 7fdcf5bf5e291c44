"""The dispatch console's services: the queue, a session's thread, and what a dispatcher does
with a session (read, claim, transfer, close, reply, quick reply).

Each action checks the role, raises ``RelayError`` for a problem the dispatcher can act on
(``NotFound`` for a session that does not exist), commits, and is audited, never with a
message's words. Only the dispatcher answering a session (who claimed it, or to whom it was
transferred) may reply to it, transfer it or close it; state changes are conditional updates,
so two dispatchers clicking at once cannot both win.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from ...audit.services import record
from ...extensions import db
from ...models import (
    ConsentRecord,
    EmergencyMessage,
    EmergencySession,
    OutboundMessage,
    SessionStatus,
    User,
)
from ...models.types import utcnow
from ...sms.services import send_raw, send_text
from .duty import is_on_duty, require_dispatcher
from .errors import (
    MAX_REPLY_LENGTH,
    AlreadyClaimed,
    AlreadyClosed,
    DispatcherUnavailable,
    NotFound,
    NotOnDuty,
    NotTextable,
    NotYours,
    ReplyEmpty,
    ReplyTooLong,
    UnknownOutcome,
    UnknownQuickReply,
)
from .texter import SUBJECT, lock_phone, textable

OUTCOMES = ("help_sent", "no_response", "not_emergency", "transferred_to_911", "other")
QUICK_REPLIES = {
    "address": "emergency_ask_address",
    "safe": "emergency_ask_safe",
    "help_coming": "emergency_help_coming",
}


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    """One live session in the console's queue (no message words)."""

    id: int
    phone: str  # the texter, E.164: dispatchers may call back
    status: str  # open or claimed
    locale: str  # the texter's language: replies go out in it
    opened_at: datetime
    last_message_at: datetime
    unread: int  # texts from the texter nobody has marked read
    claimed_by_id: int | None
    claimed_at: datetime | None
    escalated_at: datetime | None  # nobody claimed it in time (or its dispatcher left)
    has_account: bool  # a verified account uses this number
    texter_stopped: bool  # the number's latest SMS consent is a STOP (docs/sms.md)

    def waiting_seconds(self, now: datetime | None = None) -> int:
        return int(((now or utcnow()) - self.opened_at).total_seconds())


def live_sessions() -> list[SessionRow]:
    """Open and claimed sessions, longest waiting (earliest opened) first, in one query."""
    s = EmergencySession
    unread = (
        select(func.count(EmergencyMessage.id))
        .where(
            EmergencyMessage.session_id == s.id,
            EmergencyMessage.direction == "inbound",
            EmergencyMessage.read_at.is_(None),
        )
        .scalar_subquery()
    )
    latest_consent = (
        select(ConsentRecord.granted)
        .where(ConsentRecord.phone == s.phone, ConsentRecord.kind == "sms")
        .order_by(ConsentRecord.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(s, unread, latest_consent)
        .where(s.status.in_(SessionStatus.LIVE))
        .order_by(s.opened_at, s.id)
    ).all()
    return [_row(session, unread or 0, consent is False) for session, unread, consent in rows]


def _row(s: EmergencySession, unread: int, stopped: bool) -> SessionRow:
    return SessionRow(
        id=s.id,
        phone=s.phone,
        status=s.status,
        locale=s.locale,
        opened_at=s.opened_at,
        last_message_at=s.last_message_at,
        unread=unread,
        claimed_by_id=s.claimed_by_id,
        claimed_at=s.claimed_at,
        escalated_at=s.escalated_at,
        has_account=s.user_id is not None,
        texter_stopped=stopped,
    )


def get_session(session_id: int) -> EmergencySession:
    session = db.session.get(EmergencySession, session_id)
    if session is None:
        raise NotFound(session_id)
    return session


@dataclass(frozen=True)
class ThreadEntry:
    message: EmergencyMessage
    delivery: str | None  # an outbound text's state (pending, sent, delivered, failed, ...)


def thread(session_id: int) -> list[ThreadEntry]:
    """A session's messages in the order they arrived (a recovered text keeps its arrival
    time), with each outbound text's delivery state. A page that shows it must call
    ``mark_read``: that is what audits the reading."""
    rows = db.session.execute(
        select(EmergencyMessage, OutboundMessage.status)
        .outerjoin(OutboundMessage, OutboundMessage.id == EmergencyMessage.outbound_message_id)
        .where(EmergencyMessage.session_id == session_id)
        .order_by(EmergencyMessage.created_at, EmergencyMessage.id)
    ).all()
    return [ThreadEntry(message, status) for message, status in rows]


# --- the dispatcher's actions ----------------------------------------------------------------


def mark_read(dispatcher: User, session_id: int, now: datetime | None = None) -> int:
    """Mark the texter's messages read; audits the dispatcher's reading of the session (every
    call, whether or not anything was new). Returns how many were newly marked."""
    require_dispatcher(dispatcher)
    session = get_session(session_id)
    now = now or utcnow()
    marked = db.session.execute(
        update(EmergencyMessage)
        .where(
            EmergencyMessage.session_id == session.id,
            EmergencyMessage.direction == "inbound",
            EmergencyMessage.read_at.is_(None),
        )
        .values(read_at=now),
        execution_options={"synchronize_session": False},
    ).rowcount
    _audit("emergency.read", dispatcher, session)
    db.session.commit()
    return marked


def claim(dispatcher: User, session_id: int, now: datetime | None = None) -> EmergencySession:
    """Take an open session: from now on only this dispatcher replies, transfers or closes it.
    Claiming one's own session again changes nothing."""
    require_dispatcher(dispatcher)
    if dispatcher.on_duty_since is None:
        raise NotOnDuty()
    session = get_session(session_id)
    if session.status == SessionStatus.CLAIMED and session.claimed_by_id == dispatcher.id:
        return session
    now = now or utcnow()
    _move(
        session,
        dispatcher,
        (SessionStatus.OPEN,),
        None,
        status=SessionStatus.CLAIMED,
        claimed_by_id=dispatcher.id,
        claimed_at=now,
    )
    _audit("emergency.claimed", dispatcher, session)
    db.session.commit()
    return session


def transfer(
    dispatcher: User, session_id: int, to_user_id: int, now: datetime | None = None
) -> EmergencySession:
    """Hand a session this dispatcher answers to another dispatcher on duty now."""
    require_dispatcher(dispatcher)
    session = get_session(session_id)
    now = now or utcnow()
    target = db.session.get(User, to_user_id)
    if target is None or target.id == dispatcher.id or not is_on_duty(target, now):
        raise DispatcherUnavailable()
    _move(
        session,
        dispatcher,
        (SessionStatus.CLAIMED,),
        dispatcher.id,
        claimed_by_id=target.id,
        claimed_at=now,
    )
    _audit("emergency.transferred", dispatcher, session, reason=f"to user {target.id}")
    db.session.commit()
    return session


def close(
    dispatcher: User, session_id: int, outcome: str, now: datetime | None = None
) -> EmergencySession:
    """End a session this dispatcher answers, with one of ``OUTCOMES``. Later texts from the
    number are commands again; an emergency keyword opens a new session."""
    require_dispatcher(dispatcher)
    if outcome not in OUTCOMES:
        raise UnknownOutcome()
    session = get_session(session_id)
    now = now or utcnow()
    lock_phone(session.phone)  # a text arriving this instant joins before, or opens anew after
    _move(
        session,
        dispatcher,
        (SessionStatus.CLAIMED,),
        dispatcher.id,
        status=SessionStatus.CLOSED,
        closed_at=now,
        outcome=outcome,
    )
    _audit("emergency.closed", dispatcher, session, reason=outcome)
    db.session.commit()
    return session


def reply(
    dispatcher: User, session_id: int, body: str, now: datetime | None = None
) -> EmergencyMessage:
    """Send the dispatcher's own words to the texter, through the outbox (``send_raw``): free
    text is not a template, so it goes as written. Sent even when the number replied STOP (a
    person who texted 911 must hear back), though Twilio's own opt-out may still block it:
    the entry's delivery state shows it."""
    require_dispatcher(dispatcher)
    words = _clean(body)
    session = _answering(dispatcher, session_id)
    outbound = send_raw(session.phone, words, session.locale, kind="emergency_reply")
    message = _outbound(session, dispatcher, words, outbound, now)
    _audit("emergency.replied", dispatcher, session)
    db.session.commit()
    return message


def quick_reply(
    dispatcher: User, session_id: int, key: str, now: datetime | None = None
) -> EmergencyMessage:
    """Send one of ``QUICK_REPLIES`` ("address", "safe", "help_coming"), rendered in the
    texter's language (the session's), not the dispatcher's."""
    require_dispatcher(dispatcher)
    template = QUICK_REPLIES.get(key)
    if template is None:
        raise UnknownQuickReply()
    session = _answering(dispatcher, session_id)
    outbound = send_text(session.phone, template, session.locale)
    message = _outbound(session, dispatcher, outbound.body, outbound, now)
    _audit("emergency.quick_reply", dispatcher, session, reason=key)
    db.session.commit()
    return message


# --- helpers ---------------------------------------------------------------------------------


def _answering(dispatcher: User, session_id: int) -> EmergencySession:
    session = get_session(session_id)
    if session.status == SessionStatus.CLOSED:
        raise AlreadyClosed()
    if session.status != SessionStatus.CLAIMED or session.claimed_by_id != dispatcher.id:
        raise NotYours()
    if not textable(session.phone):
        raise NotTextable()
    return session


def _move(
    session: EmergencySession,
    dispatcher: User,
    states: tuple[str, ...],
    holder: int | None,
    **values,
) -> None:
    """Change ``session`` only if it is still in one of ``states`` (and, with ``holder``,
    claimed by them), in one conditional UPDATE: two dispatchers clicking at once cannot both
    win. The loser gets the error that describes the session as it now is."""
    condition = [EmergencySession.id == session.id, EmergencySession.status.in_(states)]
    if holder is not None:
        condition.append(EmergencySession.claimed_by_id == holder)
    changed = db.session.execute(
        update(EmergencySession).where(*condition).values(**values),
        execution_options={"synchronize_session": False},
    ).rowcount
    if changed == 1:
        db.session.expire(session)
        return
    db.session.rollback()
    db.session.refresh(session)
    if session.status == SessionStatus.CLOSED:
        raise AlreadyClosed()
    if holder is None and session.claimed_by_id != dispatcher.id:
        raise AlreadyClaimed()
    raise NotYours()


def _clean(body: str | None) -> str:
    # Line breaks stay; other control characters (which no keyboard types) go.
    words = "".join(ch for ch in body or "" if ch == "\n" or unicodedata.category(ch) != "Cc")
    words = words.strip()
    if not words:
        raise ReplyEmpty()
    if len(words) > MAX_REPLY_LENGTH:
        raise ReplyTooLong()
    return words


def _outbound(session, dispatcher, body, outbound, now) -> EmergencyMessage:
    message = EmergencyMessage(
        session_id=session.id,
        direction="outbound",
        body=body,
        outbound_message_id=outbound.id,
        author_id=dispatcher.id,
        created_at=now or utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    return message


def _audit(action: str, dispatcher: User, session: EmergencySession, **kwargs) -> None:
    record(action, actor=dispatcher, subject_type=SUBJECT, subject_id=session.id, **kwargs)
