"""Yearly renewal of camera registrations, by the same mechanism as profile freshness.

An approved registration is current for 12 months after its approval or last renewal; then it
is due (still searchable, the owner is reminded); after 13 months it lapses and police search
no longer finds it until the owner renews it (one click, or CONFIRM by text).
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import force_locale, format_date
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import CameraRegistration, CameraReminder, RegistrationStatus, User
from ..models.types import utcnow
from ..profiles.freshness import Freshness, Schedule
from ..sms.services import send_text

log = logging.getLogger(__name__)

CAMERA_SCHEDULE = Schedule(stale_after_months=12, inactive_after_months=13)


def renewal(registration: CameraRegistration, now: datetime | None = None) -> Freshness:
    """ "active", "stale" (renewal due) or "inactive" (lapsed); "unconfirmed" before approval."""
    if registration.renewed_at is None or registration.status != RegistrationStatus.APPROVED:
        return Freshness("unconfirmed")
    return CAMERA_SCHEDULE.lifecycle(registration.renewed_at, now)


def run_camera_reminders(now: datetime | None = None) -> dict[str, int]:
    """Send every renewal reminder that is due and not yet sent (idempotent, like profiles)."""
    now = now or utcnow()
    first_due, gone = CAMERA_SCHEDULE.candidate_window(now)
    candidates = db.session.scalars(
        select(CameraRegistration.id).where(
            CameraRegistration.status == RegistrationStatus.APPROVED,
            CameraRegistration.renewed_at <= first_due,
            CameraRegistration.renewed_at > gone,
        )
    ).all()
    counts = {"sent": 0, "suppressed": 0, "skipped": 0}
    for registration_id in candidates:
        outcome = _remind(registration_id, now)
        if outcome:
            counts[outcome] += 1
    return counts


def _remind(registration_id: int, now: datetime) -> str | None:
    registration = db.session.get(CameraRegistration, registration_id)
    fresh = renewal(registration, now)
    cycle = fresh.confirmed_at
    done = set(
        db.session.scalars(
            select(CameraReminder.kind).where(
                CameraReminder.registration_id == registration.id, CameraReminder.cycle == cycle
            )
        )
    )
    user = db.session.get(User, registration.user_id)

    def send(kind):
        with force_locale(user.locale):
            date = format_date(fresh.stale_at, format="long")
        template = "camera_renew_today" if kind == "stale_today" else "camera_renew_soon"
        return send_text(user.phone, template, user.locale, number=registration.number, date=date)

    def record(kind, outcome):
        db.session.add(CameraReminder(registration_id=registration.id, kind=kind, cycle=cycle,
                                      outcome=outcome))  # fmt: skip

    outcome = CAMERA_SCHEDULE.remind(fresh, now, done, send, record)
    if outcome is None:
        return None
    try:
        db.session.commit()
    except IntegrityError:  # another run sent it at the same moment
        db.session.rollback()
        return None
    log.info("camera registration %s: renewal reminder %s", registration.id, outcome)
    return outcome
