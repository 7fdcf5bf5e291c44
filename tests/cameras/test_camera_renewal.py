"""Yearly renewal of camera registrations, with a controllable clock (time-machine); and the
registrations in the owner's data export and account deletion.

An approved registration is current for 12 months after its approval or last renewal, with
reminders 14 and 3 days before and on the day; after 13 months it lapses (police search no
longer finds it) until the owner renews it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select, text

from webapp.cameras.renewal import run_camera_reminders
from webapp.cameras.search import cameras_within
from webapp.extensions import db
from webapp.models import (
    CameraEvent,
    CameraRegistration,
    CameraReminder,
    CameraSystem,
    ConsentRecord,
)
from webapp.profiles.freshness import add_months
from webapp.sms.services import record_sms_consent

from ..support.cameras import approve, register, register_approved, registration_of
from ..support.database import all_rows
from ..support.profiles import fill_home
from ..support.web import PASSWORD, reply_in, sign_in, submit, texts_to, translated

APPROVED = datetime(2026, 1, 10, 15, 0, tzinfo=UTC)
DUE = datetime(2027, 1, 10, 15, 0, tzinfo=UTC)  # 12 months on: renewal due
LAPSES = datetime(2027, 2, 10, 15, 0, tzinfo=UTC)  # 13 months on: out of police search
HERE = (41.8819, -87.6278)  # where test_cameras.approve puts the cameras

RENEW_SOON = (
    "%(program)s: please renew camera registration %(number)s by %(date)s. Reply CONFIRM "
    "or sign in to our website."
)
RENEW_TODAY = (
    "%(program)s: camera registration %(number)s is due for renewal today. Reply CONFIRM "
    "or sign in to our website."
)
LAPSED = "lapsed: the police cannot find it until you renew it"
RENEWED = "Thank you. Your registration is renewed for a year."
NOTHING = {"sent": 0, "suppressed": 0, "skipped": 0}


@pytest.fixture
def approved(app, sign_in_as):
    """A Spanish-speaking resident's home cameras, approved on APPROVED: (user, registration)."""
    with time_machine.travel(APPROVED, tick=False):
        client, user = sign_in_as(locale="es")
        registration = register_approved(app, sign_in_as, client, user.id)
    assert registration.renewed_at == APPROVED and registration.number
    return user, registration


def signed_in(app, user):
    """A client signed in now (sessions last 12 hours, so each moment signs in anew)."""
    client = app.test_client()
    assert sign_in(client, user.phone).status_code == 302
    return client


def remind(app, when: datetime) -> dict[str, int]:
    with time_machine.travel(when, tick=False), app.app_context():
        return run_camera_reminders(when)


def renewal_texts(app, user) -> list[str]:
    return [t.template for t in texts_to(app, user.phone) if t.template.startswith("camera_renew")]


def reminder_rows(app, registration_id) -> dict[str, tuple]:
    with app.app_context():
        rows = db.session.execute(
            select(CameraReminder.kind, CameraReminder.outcome, CameraReminder.cycle).where(
                CameraReminder.registration_id == registration_id
            )
        ).all()
    return {kind: (outcome, cycle) for kind, outcome, cycle in rows}


def found(app, registration_id, now=None) -> bool:
    with app.app_context():
        return registration_id in [hit.id for hit in cameras_within(*HERE, 100, now=now)]


# --- reminders --------------------------------------------------------------------------------


def test_each_renewal_reminder_goes_once_in_the_owners_language(app, approved):
    user, registration = approved
    assert remind(app, DUE - timedelta(days=15)) == NOTHING
    assert renewal_texts(app, user) == []

    assert remind(app, DUE - timedelta(days=14)) == {**NOTHING, "sent": 1}
    for hours in (0, 1, 30):  # the scheduler may run it as often as it likes
        assert remind(app, DUE - timedelta(days=14) + timedelta(hours=hours)) == NOTHING
    assert renewal_texts(app, user) == ["camera_renew_soon"]
    [first] = [t for t in texts_to(app, user.phone) if t.template == "camera_renew_soon"]
    assert first.locale == "es" and first.status != "suppressed"
    assert registration.number in first.body
    assert "10 de enero de 2027" in first.body
    assert reply_in("es", RENEW_SOON) in first.body

    assert remind(app, DUE - timedelta(days=5)) == NOTHING
    assert remind(app, DUE - timedelta(days=3)) == {**NOTHING, "sent": 1}
    assert remind(app, DUE - timedelta(days=3)) == NOTHING
    assert remind(app, DUE - timedelta(days=2)) == NOTHING
    assert renewal_texts(app, user) == ["camera_renew_soon", "camera_renew_soon"]

    assert remind(app, DUE) == {**NOTHING, "sent": 1}
    assert remind(app, DUE) == NOTHING
    assert remind(app, DUE + timedelta(days=1)) == NOTHING
    today = texts_to(app, user.phone)[-1]
    assert today.template == "camera_renew_today" and today.locale == "es"
    assert registration.number in today.body
    assert reply_in("es", RENEW_TODAY) in today.body

    assert remind(app, LAPSES - timedelta(hours=1)) == NOTHING
    assert remind(app, LAPSES + timedelta(days=10)) == NOTHING  # lapsed: nothing more
    assert renewal_texts(app, user) == ["camera_renew_soon", "camera_renew_soon",
                                        "camera_renew_today"]  # fmt: skip
    assert reminder_rows(app, registration.id) == {
        "stale_in_14_days": ("sent", APPROVED),
        "stale_in_3_days": ("sent", APPROVED),
        "stale_today": ("sent", APPROVED),
    }


def test_missed_reminders_are_skipped_not_sent_in_a_burst(app, approved):
    user, registration = approved
    assert remind(app, DUE + timedelta(hours=2)) == {**NOTHING, "sent": 1}  # down two weeks
    assert remind(app, DUE + timedelta(hours=3)) == NOTHING
    assert renewal_texts(app, user) == ["camera_renew_today"]
    assert reminder_rows(app, registration.id) == {
        "stale_in_14_days": ("skipped", APPROVED),
        "stale_in_3_days": ("skipped", APPROVED),
        "stale_today": ("sent", APPROVED),
    }


def test_a_late_scheduler_sends_only_the_latest_reminder_due(app, approved):
    user, registration = approved
    remind(app, DUE - timedelta(days=2))  # the 14-day reminder was missed
    remind(app, DUE - timedelta(days=1))
    assert renewal_texts(app, user) == ["camera_renew_soon"]
    assert reminder_rows(app, registration.id)["stale_in_14_days"][0] == "skipped"
    remind(app, DUE)
    assert renewal_texts(app, user) == ["camera_renew_soon", "camera_renew_today"]


def test_no_reminders_after_stop(app, approved):
    user, registration = approved
    with app.app_context():
        record_sms_consent(user.phone, False, channel="sms", user_id=user.id)
        db.session.commit()

    for when in (DUE - timedelta(days=14), DUE - timedelta(days=3), DUE):
        assert remind(app, when) == {**NOTHING, "suppressed": 1}

    renewals = [t for t in texts_to(app, user.phone) if t.template.startswith("camera_renew")]
    assert [t.status for t in renewals] == ["suppressed"] * 3
    assert {outcome for outcome, _ in reminder_rows(app, registration.id).values()} == {
        "suppressed"
    }
    with app.app_context():
        record_sms_consent(user.phone, True, channel="sms", user_id=user.id)  # START
        db.session.commit()
    assert remind(app, DUE + timedelta(days=1)) == NOTHING  # already dealt with: not resent
    assert len(renewal_texts(app, user)) == 3


def test_registrations_not_approved_get_no_reminders(app, sign_in_as):
    with time_machine.travel(APPROVED, tick=False):
        client, user = sign_in_as()
        register(client)  # waiting for a moderator, for a year
    assert remind(app, DUE - timedelta(days=14)) == NOTHING
    assert remind(app, DUE) == NOTHING
    assert texts_to(app, user.phone) == []


# --- lapse and renewal ------------------------------------------------------------------------


def test_after_13_months_it_lapses_until_renewed(app, approved):
    user, registration = approved
    page_path = f"/cameras/{registration.id}"
    assert found(app, registration.id, now=DUE + timedelta(days=1))  # due, still searchable
    assert found(app, registration.id, now=LAPSES - timedelta(seconds=1))
    assert not found(app, registration.id, now=LAPSES)

    with time_machine.travel(DUE + timedelta(days=1), tick=False):
        page = signed_in(app, user).get(page_path + "?lang=en").get_data(as_text=True)
    assert "Renew by" in page and "Jan 10, 2027" in page and LAPSED not in page

    later = LAPSES + timedelta(days=20)
    with time_machine.travel(later, tick=False):
        assert not found(app, registration.id)  # on the (travelled) clock
        client = signed_in(app, user)
        assert LAPSED in client.get(page_path + "?lang=en").get_data(as_text=True)
        page = client.get(page_path).get_data(as_text=True)  # the owner's language again
        assert translated("es", LAPSED) in page

        response = submit(client, f"{page_path}/renew", {}, page=page_path)
        assert response.status_code == 302 and response.location.endswith(page_path)
        page = client.get(page_path).get_data(as_text=True)  # the flash, in Spanish
        assert translated("es", RENEWED) in page and translated("es", LAPSED) not in page
        assert LAPSED not in client.get(page_path + "?lang=en").get_data(as_text=True)
        assert found(app, registration.id)

    renewed = registration_of(app, user.id)
    assert renewed.renewed_at == later
    with app.app_context():
        actions = db.session.scalars(
            select(CameraEvent.action).where(CameraEvent.registration_id == registration.id)
        ).all()
    assert actions[-1] == "renewed"
    # A new cycle, with its own reminders.
    new_due = add_months(later, 12)
    assert found(app, registration.id, now=add_months(later, 13) - timedelta(seconds=1))
    assert remind(app, new_due - timedelta(days=14)) == {**NOTHING, "sent": 1}
    assert reminder_rows(app, registration.id)["stale_in_14_days"] == ("sent", later)


def test_renewing_before_the_due_date_starts_a_new_cycle(app, approved):
    user, registration = approved
    remind(app, DUE - timedelta(days=14))
    when = DUE - timedelta(days=10)
    with time_machine.travel(when, tick=False):
        client = signed_in(app, user)
        page = f"/cameras/{registration.id}"
        submit(client, f"{page}/renew", {}, page=page)
    remind(app, DUE - timedelta(days=3))
    remind(app, DUE)
    assert renewal_texts(app, user) == ["camera_renew_soon"]  # current again: nothing more
    assert found(app, registration.id, now=LAPSES + timedelta(days=1))


def test_reminders_run_does_profiles_and_cameras(app, approved):
    user, _ = approved
    # A profile confirmed six months after the cameras were approved: both are due together.
    with time_machine.travel(add_months(APPROVED, 6), tick=False):
        client = signed_in(app, user)
        fill_home(client)
        submit(client, "/profile/sharing", {"share_with_911": "y"})
        submit(client, "/profile/confirm", {}, page="/profile/")

    def run(when):
        with time_machine.travel(when, tick=False):
            result = app.test_cli_runner().invoke(args=["reminders", "run"])
        assert result.exit_code == 0, result.output
        return result.output

    output = run(DUE - timedelta(days=14))
    assert "Profile reminders: 1 sent, 0 not sent (STOP), 0 skipped." in output
    assert "Camera reminders: 1 sent, 0 not sent (STOP), 0 skipped." in output
    output = run(DUE - timedelta(days=14) + timedelta(hours=1))
    assert "Profile reminders: 0 sent" in output and "Camera reminders: 0 sent" in output
    assert [t.template for t in texts_to(app, user.phone)][-2:] == [
        "profile_stale_soon",
        "camera_renew_soon",
    ]


# --- the owner's rights -----------------------------------------------------------------------


def test_the_data_export_holds_the_registration_with_its_systems_and_history(app, approved):
    user, registration = approved
    client = signed_in(app, user)
    page = f"/cameras/{registration.id}"
    submit(client, f"{page}/systems/new",
           {"camera_count": "1", "views": ["alley"], "recording": "continuous",
            "retention_days": "7"}, page=f"{page}/systems/new")  # fmt: skip
    submit(client, f"{page}/pause", {}, page=page)

    response = client.get("/account/data/export.json")

    assert response.status_code == 200
    data = json.loads(response.get_data(as_text=True))
    [exported] = data["camera_registrations"]
    assert exported["id"] == registration.id
    assert exported["number"] == registration.number
    assert exported["kind"] == "home" and exported["status"] == "approved"
    assert exported["street"] == "1200 W Madison St" and exported["zip_code"] == "60607"
    assert exported["willing"] is False
    assert exported["renewed_at"] == APPROVED.isoformat()
    assert exported["camera_count"] == 3
    assert "user_id" not in exported
    assert [(s["camera_count"], s["views"], s["retention_days"]) for s in exported["systems"]] == [
        (2, "front_door,street", 14),
        (1, "alley", 7),
    ]
    assert [e["action"] for e in exported["history"]] == [
        "submitted",
        "approve",
        "edited",
        "paused",
    ]
    assert all(e["created_at"] for e in exported["history"])
    assert not any("actor_id" in e for e in exported["history"])  # no moderator's id
    camera_consents = [
        (c["kind"], c["granted"]) for c in data["consents"] if c["kind"].startswith("camera")
    ]
    assert camera_consents == [
        ("camera_terms", True),
        ("camera_requests", True),
        ("camera_requests", False),
    ]


def test_another_owners_registrations_are_not_exported(app, approved, sign_in_as):
    other, _ = sign_in_as()
    data = json.loads(other.get("/account/data/export.json").get_data(as_text=True))
    assert data["camera_registrations"] == []


def test_deleting_the_account_deletes_the_registrations(app, approved, sign_in_as):
    user, registration = approved
    when = DUE - timedelta(days=14)
    remind(app, when)  # a reminder row, too
    with time_machine.travel(when, tick=False):
        neighbour_client, neighbour = sign_in_as()
        register(neighbour_client, street="1210 W Madison St")
        theirs = registration_of(app, neighbour.id).id
        approve(app, sign_in_as, theirs, lat="41.8820", lon="-87.6279")
        assert found(app, registration.id) and found(app, theirs)
        assert "1200 W Madison St" in all_rows(app)

        client = signed_in(app, user)
        response = submit(client, "/account/data/delete", {"password": PASSWORD})

        assert response.status_code == 302
        assert not found(app, registration.id)
        assert found(app, theirs)

    with app.app_context():
        for model in (CameraRegistration, CameraSystem, CameraEvent, CameraReminder):
            column = model.id if model is CameraRegistration else model.registration_id
            assert (
                db.session.scalar(
                    select(func.count()).select_from(model).where(column == registration.id)
                )
                == 0
            ), model.__name__
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(ConsentRecord)
                .where(ConsentRecord.user_id == user.id)
            )
            == 0
        )
        if db.session.get_bind().dialect.name == "sqlite":  # the R*Tree holds only the neighbour
            index = db.session.execute(text("SELECT id FROM camera_index")).scalars().all()
            assert index == [theirs]
    dump = all_rows(app)
    for personal in ("1200 W Madison St", registration.number, user.phone):
        assert personal not in dump
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
