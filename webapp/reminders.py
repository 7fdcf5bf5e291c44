"""Confirmations that run out, and the texts that remind people before they do: one
mechanism for safety profiles (6 months, ``profiles.freshness``) and camera registrations
(12 months, ``cameras.renewal``).

A confirmation is active, then stale (still used, its age shown; the owner is reminded), then
inactive. Reminders go out 14 and 3 days before it goes stale and on the day it does, each
once per confirmation, by ``flask --app wsgi reminders run`` from a scheduler. The run is
idempotent: a reminder is recorded once (a unique row per kind and cycle, so two runs at the
same moment send it once), and reminders missed while the scheduler was down are recorded as
skipped, never sent late in a burst.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import OutboundMessage
from .models.types import utcnow

log = logging.getLogger(__name__)

# (kind, how long before the confirmation goes stale), earliest first.
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
    """How long a confirmation lasts, and the reminders before it runs out."""

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


@dataclass(frozen=True)
class Reminded:
    """One kind of confirmation, as the runner needs it (``profiles.freshness`` and
    ``cameras.renewal`` each define theirs)."""

    name: str  # for the log: "profile", "camera registration"
    schedule: Schedule
    candidates: Callable[[datetime, datetime], Select]  # (first_due, gone) -> ids to look at
    load: Callable[[int], Any]  # an id -> the item
    freshness: Callable[[Any, datetime], Freshness]
    sent: Callable[[Any, datetime], set[str]]  # the reminder kinds recorded in this cycle
    send: Callable[[Any, Freshness, str], OutboundMessage]  # (item, freshness, kind)
    record: Callable[[Any, str, datetime, str], None]  # (item, kind, cycle, outcome)


def run(reminded: Reminded, now: datetime | None = None) -> dict[str, int]:
    """Send every reminder of ``reminded`` that is due and not yet sent; count the outcomes."""
    now = now or utcnow()
    counts = {"sent": 0, "suppressed": 0, "skipped": 0}
    ids = db.session.scalars(reminded.candidates(*reminded.schedule.candidate_window(now)))
    for item_id in ids.all():
        outcome = _remind(reminded, item_id, now)
        if outcome:
            counts[outcome] += 1
    return counts


def _remind(reminded: Reminded, item_id: int, now: datetime) -> str | None:
    item = reminded.load(item_id)
    fresh = reminded.freshness(item, now)
    due = reminded.schedule.due_reminder(fresh, now)
    if due is None:
        return None
    cycle = fresh.confirmed_at
    done = reminded.sent(item, cycle)
    kind = reminded.schedule.reminders[due][0]
    if kind in done:
        return None
    for earlier, _ in reminded.schedule.reminders[:due]:
        if earlier not in done:
            reminded.record(item, earlier, cycle, "skipped")
    message = reminded.send(item, fresh, kind)
    outcome = "suppressed" if message.status == "suppressed" else "sent"
    reminded.record(item, kind, cycle, outcome)
    try:
        db.session.commit()
    except IntegrityError:  # another run sent it at the same moment
        db.session.rollback()
        return None
    log.info("%s %s: reminder %s", reminded.name, item_id, outcome)
    return outcome
