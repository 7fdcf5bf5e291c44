"""Yearly renewal of camera registrations, by the same mechanism as profile freshness.

An approved registration is current for 12 months after its approval or last renewal; then it
is due (still searchable, the owner is reminded); after 13 months it lapses and police search
no longer finds it until the owner renews it (one click, or CONFIRM by text).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale, format_date
from sqlalchemy import select

from .. import reminders
from ..extensions import db
from ..models import CameraRegistration, CameraReminder, RegistrationStatus, User
from ..reminders import Freshness, Schedule
from ..sms.services import send_text

CAMERA_SCHEDULE = Schedule(stale_after_months=12, inactive_after_months=13)


def renewal(registration: CameraRegistration, now: datetime | None = None) -> Freshness:
    """ "active", "stale" (renewal due) or "inactive" (lapsed); "unconfirmed" before approval."""
    if registration.renewed_at is None or registration.status != RegistrationStatus.APPROVED:
        return Freshness("unconfirmed")
    return CAMERA_SCHEDULE.lifecycle(registration.renewed_at, now)


def run_camera_reminders(now: datetime | None = None) -> dict[str, int]:
    """Send every renewal reminder that is due and not yet sent (``reminders.run``)."""
    return reminders.run(CAMERA_REMINDERS, now)


def _send(registration: CameraRegistration, fresh: Freshness, kind: str):
    user = db.session.get(User, registration.user_id)
    with force_locale(user.locale):
        date = format_date(fresh.stale_at, format="long")
    template = "camera_renew_today" if kind == "stale_today" else "camera_renew_soon"
    return send_text(user.phone, template, user.locale, number=registration.number, date=date)


CAMERA_REMINDERS = reminders.Reminded(
    name="camera registration",
    schedule=CAMERA_SCHEDULE,
    candidates=lambda first_due, gone: select(CameraRegistration.id).where(
        CameraRegistration.status == RegistrationStatus.APPROVED,
        CameraRegistration.renewed_at <= first_due,
        CameraRegistration.renewed_at > gone,
    ),
    load=lambda registration_id: db.session.get(CameraRegistration, registration_id),
    freshness=renewal,
    sent=lambda registration, cycle: set(
        db.session.scalars(
            select(CameraReminder.kind).where(
                CameraReminder.registration_id == registration.id, CameraReminder.cycle == cycle
            )
        )
    ),
    send=_send,
    record=lambda registration, kind, cycle, outcome: db.session.add(
        CameraReminder(registration_id=registration.id, kind=kind, cycle=cycle, outcome=outcome)
    ),
)
