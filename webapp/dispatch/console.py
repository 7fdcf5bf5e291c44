"""What the dispatch console shows, built on the relay's services (``dispatch.relay``) and the
look-up services (``dispatch.lookup``): the queue with who answers each session, and a
session's page (its thread, the texter's profile, who it can be handed to).

Reading is least privilege too:

- A session's messages count as read (``relay.mark_read``) only when the reader is the one who
  should read them: the dispatcher answering it, or anyone while nobody answers it. A colleague
  glancing at a session someone else answers is audited the same way but leaves its unread
  count alone, so the dispatcher answering it still sees what is new.
- The texter's safety profile (``lookup.session_view``, itself audited as a look-up) is shown
  to the dispatcher answering the session, or to anyone while it waits (to triage it), never
  to a colleague reading along.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..audit.services import record
from ..extensions import db
from ..models import EmergencySession, SessionStatus, User
from ..models.types import utcnow
from ..sms import texts
from ..sms.services import sms_opted_out
from . import lookup, relay
from .relay.duty import require_dispatcher
from .relay.texter import SUBJECT

# OutboundMessage.status (Twilio's states and our own) -> what the dispatcher is told.
DELIVERY_STATES = {
    "pending": "queued",
    "claimed": "queued",
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
    "suppressed": "failed",
    "outbox": "outbox",  # development: kept in the local outbox, never sent
}


def delivery_state(status: str | None) -> str | None:
    """``queued``, ``sent``, ``delivered``, ``failed`` or ``outbox`` for an outbound text's
    status; None for a message that was never a text (the thread's notes)."""
    if status is None:
        return None
    return DELIVERY_STATES.get(status, "queued")


@dataclass(frozen=True)
class Colleague:
    """A dispatcher as other dispatchers see them: staff accounts have no names, so the
    account's id and the last digits of its (work) phone."""

    id: int
    phone_end: str


def colleagues(ids) -> dict[int, Colleague]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(select(User.id, User.phone).where(User.id.in_(wanted))).all()
    return {user_id: Colleague(user_id, phone[-4:]) for user_id, phone in rows}


# --- the queue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueEntry:
    session: relay.SessionRow
    waiting_seconds: int  # since the session opened
    answered_by: Colleague | None
    mine: bool  # the viewer answers it

    def to_dict(self) -> dict:
        s = self.session
        return {
            "id": s.id,
            "status": s.status,
            "locale": s.locale,
            "opened_at": s.opened_at.isoformat(),
            "last_message_at": s.last_message_at.isoformat(),
            "waiting_seconds": self.waiting_seconds,
            "unread": s.unread,
            "claimed_by": s.claimed_by_id,
            "mine": self.mine,
            "escalated": s.escalated_at is not None,
            "texter_stopped": s.texter_stopped,
        }


@dataclass(frozen=True)
class Queue:
    entries: tuple[QueueEntry, ...]  # open and claimed, longest waiting first
    on_duty: bool  # the viewer
    dispatchers_on_duty: int

    @property
    def waiting(self) -> tuple[QueueEntry, ...]:
        """Nobody answers them yet: the new ones."""
        return tuple(e for e in self.entries if e.session.status == SessionStatus.OPEN)

    @property
    def answered(self) -> tuple[QueueEntry, ...]:
        return tuple(e for e in self.entries if e.session.status != SessionStatus.OPEN)

    @property
    def new(self) -> int:
        return len(self.waiting)


def queue(viewer: User, now: datetime | None = None) -> Queue:
    """The live sessions as ``viewer`` sees them (no message words)."""
    now = now or utcnow()
    rows = relay.live_sessions()
    names = colleagues(row.claimed_by_id for row in rows)
    entries = tuple(
        QueueEntry(
            session=row,
            waiting_seconds=max(0, row.waiting_seconds(now)),
            answered_by=names.get(row.claimed_by_id),
            mine=row.status == SessionStatus.CLAIMED and row.claimed_by_id == viewer.id,
        )
        for row in rows
    )
    return Queue(
        entries=entries,
        on_duty=relay.is_on_duty(viewer, now),
        dispatchers_on_duty=relay.dispatchers_on_duty(now),
    )


# --- a session's page ------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One message of the thread as the page shows it."""

    direction: str  # inbound (the texter), outbound (a dispatcher), system (automatic)
    body: str
    created_at: datetime
    author: Colleague | None
    mine: bool  # written by the viewer
    delivery: str | None  # see ``delivery_state``


@dataclass(frozen=True)
class SessionPage:
    session: EmergencySession
    entries: tuple[Entry, ...]
    mine: bool  # the viewer answers it
    answered_by: Colleague | None
    texter_stopped: bool
    profile: lookup.ResponderView | None
    # Why no profile is shown: "none" (no profile is shown to 911 for the number), "closed"
    # (a closed session: a look-up with an incident is needed), "elsewhere" (a colleague
    # answers the session), or None when ``profile`` is shown.
    no_profile: str | None
    transfer_to: tuple[Colleague, ...]  # on duty now, besides the viewer

    @property
    def state(self) -> str:
        return state_of(self.session)


def session_page(dispatcher: User, session_id: int, now: datetime | None = None) -> SessionPage:
    """Everything a session's page shows; reading it is audited (``read``), and so is the
    profile (``lookup.session_view``). Raises ``relay.NotFound`` for no such session."""
    now = now or utcnow()
    read(dispatcher, session_id, now)
    session = relay.get_session(session_id)
    mine = session.status == SessionStatus.CLAIMED and session.claimed_by_id == dispatcher.id
    profile, no_profile = None, "elsewhere"
    if session.status == SessionStatus.OPEN or session.claimed_by_id == dispatcher.id:
        try:
            profile = lookup.session_view(session, dispatcher, now=now).profile
            no_profile = None if profile is not None else "none"
        except lookup.SessionClosed:
            no_profile = "closed"
        except lookup.LookupProblem:  # a number no look-up accepts (not a phone number)
            no_profile = "none"
    entries = _entries(dispatcher, session_id, session.claimed_by_id)
    targets = ()
    if mine:
        targets = tuple(
            Colleague(user.id, user.phone[-4:])
            for user in relay.on_duty_dispatchers(now)
            if user.id != dispatcher.id
        )
    return SessionPage(
        session=session,
        entries=entries,
        mine=mine,
        answered_by=colleagues([session.claimed_by_id]).get(session.claimed_by_id),
        texter_stopped=sms_opted_out(session.phone),
        profile=profile,
        no_profile=no_profile,
        transfer_to=targets,
    )


@dataclass(frozen=True)
class Conversation:
    """A session's messages for its page's script, and its state, to notice a change."""

    state: str  # "open", "claimed <dispatcher id>" or "closed"
    entries: tuple[Entry, ...]

    @property
    def inbound(self) -> int:
        return sum(1 for entry in self.entries if entry.direction == "inbound")


def conversation(dispatcher: User, session_id: int, now: datetime | None = None) -> Conversation:
    """A session's messages again (the page's script asks every few seconds): reading them is
    audited (``read``) each time, the profile is not looked at again."""
    read(dispatcher, session_id, now)
    session = relay.get_session(session_id)
    return Conversation(state_of(session), _entries(dispatcher, session_id, session.claimed_by_id))


def state_of(session: EmergencySession) -> str:
    """ "open", "claimed <dispatcher id>" or "closed": what the page's actions depend on."""
    if session.status == SessionStatus.CLAIMED:
        return f"{session.status} {session.claimed_by_id}"
    return session.status


def _entries(dispatcher: User, session_id: int, holder: int | None) -> tuple[Entry, ...]:
    thread = relay.thread(session_id)
    names = colleagues([holder] + [entry.message.author_id for entry in thread])
    return tuple(
        Entry(
            direction=entry.message.direction,
            body=entry.message.body,
            created_at=entry.message.created_at,
            author=names.get(entry.message.author_id),
            mine=entry.message.author_id == dispatcher.id,
            delivery=delivery_state(entry.delivery),
        )
        for entry in thread
    )


def read(dispatcher: User, session_id: int, now: datetime | None = None) -> None:
    """Audit ``dispatcher``'s reading of a session; mark its texts read only when they answer
    it or nobody does (see the module's docstring)."""
    session = relay.get_session(session_id)
    if session.status == SessionStatus.OPEN or (
        session.status == SessionStatus.CLAIMED and session.claimed_by_id == dispatcher.id
    ):
        relay.mark_read(dispatcher, session_id, now)
        return
    require_dispatcher(dispatcher)
    record("emergency.read", actor=dispatcher, subject_type=SUBJECT, subject_id=session.id)
    db.session.commit()


def quick_reply_previews(locale: str) -> dict[str, str]:
    """Each quick reply as the texter would get it, in their language (``locale``)."""
    return {key: texts.render(template, locale) for key, template in relay.QUICK_REPLIES.items()}
