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


@dataclass(frozen=True)
class Schedule:
    """How long a confirmation lasts, and the reminders before it runs out. Profiles and camera
    registrations (renewed yearly) share this one mechanism."""

    stale_after_months: int
    inactive_after_months: int
    reminders: tuple[tuple[str, timedelta], ...] = REMINDERS

    def lifecycle(self, confirmed_at: datetime, now: datetime | None = None) -> Freshness:
        now = now or utcnow()
        stale_at = add_months(confirmed_at, self.stale_after_months)
        inactive_at = add_months(confirmed_at, self.inactive_after_months)
        state = "active" if now < stale_at else "stale" if now < inactive_at else "inactive"
        return Freshness(state, confirmed_at, stale_at, inactive_at)

    def lapsed_before(self, now: datetime) -> datetime:
        """Confirmations at or before this moment have run out (are inactive)."""
        return add_months(now, -self.inactive_after_months)

    def candidate_window(self, now: datetime) -> tuple[datetime, datetime]:
        """(first_due, gone): a superset, with a day of slack for month lengths, of the
        confirmations within the first reminder of going stale and not yet inactive."""
        slack = timedelta(days=1)
        first_due = add_months(now + self.reminders[0][1], -self.stale_after_months) + slack
        return first_due, self.lapsed_before(now) - slack

    def due_reminder(self, fresh: Freshness, now: datetime) -> int | None:
        """Index in ``reminders`` of the latest reminder due now, if still current."""
        if fresh.stale_at is None or now >= fresh.inactive_at:
            return None
        due = None
        for index, (_, before) in enumerate(self.reminders):
            if now >= fresh.stale_at - before:
                due = index
        return due

    def remind(self, fresh: Freshness, now: datetime, done: set[str], send, record) -> str | None:
        """Send the reminder due now unless it went already; ``record(kind, outcome)`` keeps
        a row per reminder (earlier ones missed while the scheduler was down are recorded as
        skipped, never sent late in a burst); ``send(kind)`` returns the outbound message."""
        due = self.due_reminder(fresh, now)
        if due is None:
            return None
        kind = self.reminders[due][0]
        if kind in done:
            return None
        for earlier, _ in self.reminders[:due]:
            if earlier not in done:
                record(earlier, "skipped")
        message = send(kind)
        outcome = "suppressed" if message.status == "suppressed" else "sent"
        record(kind, outcome)
        return outcome


PROFILE_SCHEDULE = Schedule(STALE_AFTER_MONTHS, INACTIVE_AFTER_MONTHS)


def freshness(profile: Profile | None, now: datetime | None = None) -> Freshness:
    if profile is None or not profile.share_with_911 or not profile.has_address:
        return Freshness("not_shared", profile.confirmed_at if profile else None)
    if profile.confirmed_at is None:
        return Freshness("unconfirmed")
    return PROFILE_SCHEDULE.lifecycle(profile.confirmed_at, now)


def run_reminders(now: datetime | None = None) -> dict[str, int]:
    """Send every reminder that is due and not yet sent. Safe to run as often as wanted:
    each reminder of a confirmation cycle is sent at most once, and reminders missed while
    the scheduler was down are skipped rather than sent late in a burst."""
    now = now or utcnow()
    first_due, gone = PROFILE_SCHEDULE.candidate_window(now)
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
    cycle = fresh.confirmed_at
    done = set(
        db.session.scalars(
            select(ProfileReminder.kind).where(
                ProfileReminder.profile_id == profile.id, ProfileReminder.cycle == cycle
            )
        )
    )
    user = db.session.get(User, profile.user_id)

    def send(kind):
        if kind == "stale_today":
            return send_text(user.phone, "profile_stale_today", user.locale)
        with force_locale(user.locale):
            date = format_date(fresh.stale_at, format="long")
        return send_text(user.phone, "profile_stale_soon", user.locale, date=date)

    def record(kind, outcome):
        db.session.add(
            ProfileReminder(profile_id=profile.id, kind=kind, cycle=cycle, outcome=outcome)
        )

    outcome = PROFILE_SCHEDULE.remind(fresh, now, done, send, record)
    if outcome is None:
        return None
    try:
        db.session.commit()
    except IntegrityError:  # another run sent it at the same moment
        db.session.rollback()
        return None
    log.info("profile %s: reminder %s", profile.id, outcome)
    return outcome
