"""Who is on duty.

A dispatcher is on duty while all of these hold: role dispatcher, account enabled,
``on_duty_since`` set (``set_duty``), and a signed-in session that passed the second factor,
is not revoked, is under ``SESSION_MAX_AGE`` (12 hours) old and made a request within
``DUTY_SEEN_WITHIN`` (its ``last_seen_at`` moves at most once a minute). So the console must
make a request at least every few minutes while open (a refreshing frame does, without
JavaScript), or its dispatcher counts as away: new texters are then told the line is not
monitored, and the sessions they answer go back to the queue (``escalation``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select

from ...accounts.services import SESSION_MAX_AGE
from ...audit.services import record
from ...extensions import db
from ...models import EmergencySession, Role, SessionStatus, User, UserSession
from ...models.types import utcnow
from .errors import NotADispatcher, StillAnswering

DUTY_SEEN_WITHIN = timedelta(minutes=5)


def on_duty_clause(now: datetime):
    """SQL condition on ``User``: on duty at ``now`` (see the module's docstring)."""
    at_console = exists().where(
        UserSession.user_id == User.id,
        UserSession.revoked_at.is_(None),
        UserSession.second_factor_at.is_not(None),
        UserSession.last_seen_at >= now - DUTY_SEEN_WITHIN,
        UserSession.created_at > now - SESSION_MAX_AGE,
    )
    return and_(
        User.role == Role.DISPATCHER.value,
        User.disabled_at.is_(None),
        User.on_duty_since.is_not(None),
        at_console,
    )


def dispatchers_on_duty(now: datetime | None = None) -> int:
    """How many dispatchers are on duty now."""
    now = now or utcnow()
    return db.session.scalar(select(func.count(User.id)).where(on_duty_clause(now)))


def on_duty_dispatchers(now: datetime | None = None) -> list[User]:
    """The dispatchers on duty now, longest on duty first (for "transfer to")."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(User).where(on_duty_clause(now)).order_by(User.on_duty_since, User.id)
        )
    )


def is_on_duty(user: User, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return bool(db.session.scalar(select(User.id).where(User.id == user.id, on_duty_clause(now))))


def set_duty(dispatcher: User, on: bool, now: datetime | None = None) -> None:
    """Go on or off duty. Off duty is refused while the dispatcher still answers a session
    (``StillAnswering``): transfer or close it first, nobody else would see it waiting."""
    require_dispatcher(dispatcher)
    now = now or utcnow()
    if on:
        if dispatcher.on_duty_since is None:
            dispatcher.on_duty_since = now
            record(
                "emergency.duty_on", actor=dispatcher, subject_type="user", subject_id=dispatcher.id
            )
        db.session.commit()
        return
    answering = db.session.scalar(
        select(func.count(EmergencySession.id)).where(
            EmergencySession.status == SessionStatus.CLAIMED,
            EmergencySession.claimed_by_id == dispatcher.id,
        )
    )
    if answering:
        raise StillAnswering()
    if dispatcher.on_duty_since is not None:
        dispatcher.on_duty_since = None
        record(
            "emergency.duty_off", actor=dispatcher, subject_type="user", subject_id=dispatcher.id
        )
    db.session.commit()


def require_dispatcher(user: User | None) -> None:
    """Least privilege in the services too, not only in the routes."""
    if user is None or user.role != Role.DISPATCHER.value or user.disabled_at is not None:
        raise NotADispatcher()
