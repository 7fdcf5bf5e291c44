"""Freshness: a profile is active for 6 months after its last confirmation, then stale (still
shown to 911, with its age), then inactive after 7 months. Reminders go out 14 and 3 days
before it goes stale and on the day it does, each once, by ``flask --app wsgi reminders run``.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale, format_date
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Profile, ProfileReminder, User
from ..models.types import utcnow
from ..sms.services import send_text

log = logging.getLogger(__name__)

STALE_AFTER_MONTHS = 6
INACTIVE_AFTER_MONTHS = 7
# (kind, how long before the profile goes stale), earliest first.
REMINDERS = (
    ("stale_in_14_days", timedelta(days=14)),
    ("stale_in_3_days", timedelta(days=3)),
    ("stale_today", timedelta(0)),
)


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class Freshness:
    state: str  # "not_shared", "unconfirmed", "active", "stale" or "inactive"
    confirmed_at: datetime | None = None
    stale_at: datetime | None = None
    inactive_at: datetime | None = None

    @property
    def shown_to_911(self) -> bool:
        return self.state in ("active", "stale")


def freshness(profile: Profile | None, now: datetime | None = None) -> Freshness:
    if profile is None or not profile.share_with_911 or not profile.has_address:
        return Freshness("not_shared", profile.confirmed_at if profile else None)
    if profile.confirmed_at is None:
        return Freshness("unconfirmed")
    now = now or utcnow()
    stale_at = add_months(profile.confirmed_at, STALE_AFTER_MONTHS)
    inactive_at = add_months(profile.confirmed_at, INACTIVE_AFTER_MONTHS)
    state = "active" if now < stale_at else "stale" if now < inactive_at else "inactive"
    return Freshness(state, profile.confirmed_at, stale_at, inactive_at)


def _due_reminder(fresh: Freshness, now: datetime) -> int | None:
    """Index in REMINDERS of the latest reminder due now, if the profile still shows."""
    if fresh.stale_at is None or now >= fresh.inactive_at:
        return None
    due = None
    for index, (_, before) in enumerate(REMINDERS):
        if now >= fresh.stale_at - before:
            due = index
    return due


def run_reminders(now: datetime | None = None) -> dict[str, int]:
    """Send every reminder that is due and not yet sent. Safe to run as often as wanted:
    each reminder of a confirmation cycle is sent at most once, and reminders missed while
    the scheduler was down are skipped rather than sent late in a burst."""
    now = now or utcnow()
    # A superset (a day of slack for month lengths) of the profiles within 14 days of going
    # stale and not yet inactive; _remind decides exactly.
    slack = timedelta(days=1)
    first_due = add_months(now + REMINDERS[0][1], -STALE_AFTER_MONTHS) + slack
    gone = add_months(now, -INACTIVE_AFTER_MONTHS) - slack
    candidates = db.session.scalars(
        select(Profile.id).where(
            Profile.share_with_911.is_(True),
            Profile.confirmed_at <= first_due,
            Profile.confirmed_at > gone,
        )
    ).all()
    counts = {"sent": 0, "suppressed": 0, "skipped": 0}
    for profile_id in candidates:
        outcome = _remind(profile_id, now)
        if outcome:
            counts[outcome] += 1
    return counts


def _remind(profile_id: int, now: datetime) -> str | None:
    profile = db.session.get(Profile, profile_id)
    fresh = freshness(profile, now)
    due = _due_reminder(fresh, now)
    if due is None:
        return None
    cycle = fresh.confirmed_at
    done = set(
        db.session.scalars(
            select(ProfileReminder.kind).where(
                ProfileReminder.profile_id == profile.id, ProfileReminder.cycle == cycle
            )
        )
    )
    kind = REMINDERS[due][0]
    if kind in done:
        return None
    for earlier, _ in REMINDERS[:due]:
        if earlier not in done:
            db.session.add(ProfileReminder(profile_id=profile.id, kind=earlier, cycle=cycle,
                                           outcome="skipped"))  # fmt: skip
    user = db.session.get(User, profile.user_id)
    if kind == "stale_today":
        message = send_text(user.phone, "profile_stale_today", user.locale)
    else:
        with force_locale(user.locale):
            date = format_date(fresh.stale_at, format="long")
        message = send_text(user.phone, "profile_stale_soon", user.locale, date=date)
    outcome = "suppressed" if message.status == "suppressed" else "sent"
    db.session.add(ProfileReminder(profile_id=profile.id, kind=kind, cycle=cycle, outcome=outcome))
    try:
        db.session.commit()
    except IntegrityError:  # another run sent it at the same moment
        db.session.rollback()
        return None
    log.info("profile %s: reminder %s %s", profile.id, kind, outcome)
    return outcome
