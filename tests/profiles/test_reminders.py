"""Freshness and reminders, with a controllable clock (time-machine)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Profile, User
from webapp.profiles.freshness import add_months, freshness
from webapp.sms.services import record_sms_consent

from ..support.profiles import fill_home
from ..support.web import sign_in, submit, texts_to

CONFIRMED = datetime(2026, 1, 10, 15, 0, tzinfo=UTC)
STALE = datetime(2026, 7, 10, 15, 0, tzinfo=UTC)


@pytest.fixture
def confirmed(app, make_user):
    """A resident (Spanish) whose profile was confirmed on CONFIRMED."""
    user = make_user(locale="es")
    with time_machine.travel(CONFIRMED, tick=False):
        client = app.test_client()
        sign_in(client, user.phone)
        fill_home(client)
        submit(client, "/profile/sharing", {"share_with_911": "y"})
        submit(client, "/profile/confirm", {}, page="/profile/")
    return user


def signed_in(app, user):
    """A client signed in now (sessions last 12 hours, so each moment signs in anew)."""
    client = app.test_client()
    assert sign_in(client, user.phone).status_code == 302
    return client


def run(app, when: datetime) -> str:
    with time_machine.travel(when, tick=False):
        result = app.test_cli_runner().invoke(args=["reminders", "run"])
    assert result.exit_code == 0, result.output
    return result.output


def reminders(app, user) -> list[str]:
    return [t.template for t in texts_to(app, user.phone)]


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(datetime(2026, 8, 31, tzinfo=UTC), 6) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2026, 1, 10, tzinfo=UTC), 7) == datetime(2026, 8, 10, tzinfo=UTC)


def test_states_over_time(app, confirmed):
    user = confirmed
    with app.app_context():
        profile = db.session.scalar(select(Profile).where(Profile.user_id == user.id))
        assert freshness(profile, STALE - timedelta(seconds=1)).state == "active"
        assert freshness(profile, STALE).state == "stale"
        assert freshness(profile, datetime(2026, 8, 10, 14, 59, tzinfo=UTC)).state == "stale"
        assert freshness(profile, datetime(2026, 8, 10, 15, 0, tzinfo=UTC)).state == "inactive"
        assert freshness(profile, STALE).shown_to_911
        assert not freshness(profile, datetime(2026, 9, 1, tzinfo=UTC)).shown_to_911


def test_each_reminder_goes_once_in_the_residents_language(app, confirmed):
    user = confirmed
    run(app, STALE - timedelta(days=15))
    assert reminders(app, user) == []

    for _ in range(3):  # the scheduler may run it as often as it likes
        run(app, STALE - timedelta(days=14))
    assert reminders(app, user) == ["profile_stale_soon"]
    first = texts_to(app, user.phone)[0]
    assert first.locale == "es" and "10 de julio de 2026" in first.body

    run(app, STALE - timedelta(days=5))
    assert reminders(app, user) == ["profile_stale_soon"]
    run(app, STALE - timedelta(days=3))
    run(app, STALE - timedelta(days=2))
    assert reminders(app, user) == ["profile_stale_soon", "profile_stale_soon"]

    run(app, STALE)
    run(app, STALE + timedelta(days=1))
    assert reminders(app, user) == ["profile_stale_soon", "profile_stale_soon",
                                    "profile_stale_today"]  # fmt: skip
    run(app, STALE + timedelta(days=40))  # inactive: nothing more
    assert len(reminders(app, user)) == 3


def test_missed_reminders_are_not_sent_late_in_a_burst(app, confirmed):
    user = confirmed
    run(app, STALE + timedelta(hours=2))  # the scheduler was down for two weeks
    assert reminders(app, user) == ["profile_stale_today"]


def test_confirming_starts_a_new_cycle(app, confirmed):
    user = confirmed
    run(app, STALE - timedelta(days=14))
    with time_machine.travel(STALE - timedelta(days=10), tick=False):
        submit(signed_in(app, user), "/profile/confirm", {}, page="/profile/")
    run(app, STALE - timedelta(days=3))
    assert reminders(app, user) == ["profile_stale_soon"]  # nothing new: fresh again
    new_stale = add_months(STALE - timedelta(days=10), 6)
    run(app, new_stale - timedelta(days=14))
    assert reminders(app, user) == ["profile_stale_soon", "profile_stale_soon"]


def test_no_reminders_after_stop(app, confirmed):
    user = confirmed
    with app.app_context():
        record_sms_consent(user.phone, False, channel="sms", user_id=user.id)
        db.session.commit()
    run(app, STALE - timedelta(days=14))
    run(app, STALE)
    assert [t.status for t in texts_to(app, user.phone) if t.template.startswith("profile")] == [
        "suppressed",
        "suppressed",
    ]
    with app.app_context():
        record_sms_consent(user.phone, True, channel="sms", user_id=user.id)  # START
        db.session.commit()
    run(app, STALE + timedelta(days=1))
    assert len(reminders(app, user)) == 2  # the day's reminder was already dealt with


def test_profiles_not_shared_get_no_reminders(app, confirmed):
    user = confirmed
    with time_machine.travel(CONFIRMED + timedelta(days=1), tick=False):
        submit(signed_in(app, user), "/profile/sharing", {})
    run(app, STALE - timedelta(days=14))
    assert reminders(app, user) == []


def test_the_overview_shows_the_age_of_a_stale_profile(app, confirmed):
    user = confirmed
    with time_machine.travel(STALE + timedelta(days=3), tick=False):
        page = signed_in(app, user).get("/profile/?lang=en").get_data(as_text=True)
    assert "Out of date." in page and "January 10, 2026" in page
    with app.app_context():
        assert db.session.scalar(select(User.locale)) == "es"
