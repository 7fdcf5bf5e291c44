"""Freshness of a safety profile: active for 6 months after its last confirmation, then
stale (still shown to 911, with its age), then inactive after 7 months; reminded by text
before it goes stale (the mechanism: ``webapp/reminders.py``)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale, format_date
from sqlalchemy import select

from .. import reminders
from ..extensions import db
from ..models import Profile, ProfileReminder, User
from ..reminders import Freshness, Schedule, add_months
from ..sms.services import send_text

__all__ = ["PROFILE_SCHEDULE", "Freshness", "add_months", "freshness", "run_reminders"]

STALE_AFTER_MONTHS = 6
INACTIVE_AFTER_MONTHS = 7

PROFILE_SCHEDULE = Schedule(STALE_AFTER_MONTHS, INACTIVE_AFTER_MONTHS)


def freshness(profile: Profile | None, now: datetime | None = None) -> Freshness:
    if profile is None or not profile.share_with_911 or not profile.has_address:
        return Freshness("not_shared", profile.confirmed_at if profile else None)
    if profile.confirmed_at is None:
        return Freshness("unconfirmed")
    return PROFILE_SCHEDULE.lifecycle(profile.confirmed_at, now)


def run_reminders(now: datetime | None = None) -> dict[str, int]:
    """Send every profile reminder that is due and not yet sent (``reminders.run``)."""
    return reminders.run(PROFILE_REMINDERS, now)


def _send(profile: Profile, fresh: Freshness, kind: str):
    user = db.session.get(User, profile.user_id)
    if kind == "stale_today":
        return send_text(user.phone, "profile_stale_today", user.locale)
    with force_locale(user.locale):
        date = format_date(fresh.stale_at, format="long")
    return send_text(user.phone, "profile_stale_soon", user.locale, date=date)


PROFILE_REMINDERS = reminders.Reminded(
    name="profile",
    schedule=PROFILE_SCHEDULE,
    candidates=lambda first_due, gone: select(Profile.id).where(
        Profile.share_with_911.is_(True),
        Profile.confirmed_at <= first_due,
        Profile.confirmed_at > gone,
    ),
    load=lambda profile_id: db.session.get(Profile, profile_id),
    freshness=freshness,
    sent=lambda profile, cycle: set(
        db.session.scalars(
            select(ProfileReminder.kind).where(
                ProfileReminder.profile_id == profile.id, ProfileReminder.cycle == cycle
            )
        )
    ),
    send=_send,
    record=lambda profile, kind, cycle, outcome: db.session.add(
        ProfileReminder(profile_id=profile.id, kind=kind, cycle=cycle, outcome=outcome)
    ),
)
