"""Camera registrations by text: CAMERA ON/OFF, STATUS and CONFIRM (webapp/sms_inbound/handler.py).

The texts call the same services as the owner's pages (``cameras.services.set_willing`` and
``renew``), so the registrations, the consent ledger and police search all follow a text
exactly as they follow a click.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from webapp.cameras import services as camera_services
from webapp.cameras.renewal import renewal
from webapp.cameras.search import cameras_within
from webapp.extensions import db
from webapp.models import (
    CameraEvent,
    CameraRegistration,
    ConsentRecord,
    Profile,
    RegistrationStatus,
)
from webapp.profiles.freshness import add_months
from webapp.sms.commands import KEYWORDS

from ..support.cameras import approve, register, registration_of
from ..support.database import rows
from ..support.messages import CAMERA_NONE, CONFIRMED, INCOMPLETE, STATUS
from ..support.profiles import fill_home
from ..support.twilio import text
from ..support.web import reply_in, sign_in, submit, translated

LOCALES = list(KEYWORDS["camera_off"])  # every shipped language

CAMERA_ON = (
    "%(program)s: thank you. Police may ask you for footage; you can always say no. "
    "Reply CAMERA OFF to stop."
)
CAMERA_OFF = "%(program)s: police will not ask you for footage. Reply CAMERA ON to allow it again."
CAMERAS_RENEWED = (
    "%(program)s: thank you. Your camera registration is renewed for a year. Your safety "
    "profile still needs finishing on our website."
)

# Where the moderator puts the cameras (the test_cameras default), and a second place close by.
HOME = (41.8819, -87.6278)
SHOP = (41.8826, -87.6271)  # about 100 m away
NEIGHBOUR = (41.8812, -87.6285)  # about 100 m the other way
RADIUS_M = 500

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@pytest.fixture
def client(sms_app):
    """Twilio's side of the webhook (the web pages use ``sign_in_as``'s clients)."""
    return sms_app.test_client()


@pytest.fixture
def owner(app, sign_in_as):
    """A resident with approved home cameras (and, with ``shop=True``, an approved business
    too, and ``pending=True`` a business still waiting for a moderator)."""

    def build(locale="en", *, shop=False, pending=False):
        web, user = sign_in_as(locale=locale)
        register(web, "home")
        approve(app, sign_in_as, _ids(app, user.id)[-1], *map(str, HOME))
        if shop:
            register(web, "business")
            approve(app, sign_in_as, _ids(app, user.id)[-1], *map(str, SHOP))
        if pending:
            register(web, "business", business_name="Second Shop")
        return web, user

    return build


def registrations(app, user_id) -> list[CameraRegistration]:
    return rows(app, CameraRegistration, CameraRegistration.user_id == user_id)


def _ids(app, user_id) -> list[int]:
    return [r.id for r in registrations(app, user_id)]


def willing(app, user_id) -> list[bool]:
    return [r.willing for r in registrations(app, user_id)]


def found(app, *, near=HOME, now=None) -> set[int]:
    """The registrations police search finds around ``near``."""
    with app.app_context():
        return {hit.id for hit in cameras_within(*near, RADIUS_M, now=now)}


def ledger(app, user_id, channel=None) -> list[tuple]:
    """The user's camera-request entries in the consent ledger, oldest first."""
    query = select(
        ConsentRecord.granted, ConsentRecord.channel, ConsentRecord.phone, ConsentRecord.version
    ).where(ConsentRecord.user_id == user_id, ConsentRecord.kind == "camera_requests")
    if channel is not None:
        query = query.where(ConsentRecord.channel == channel)
    with app.app_context():
        return [tuple(row) for row in db.session.execute(query.order_by(ConsentRecord.id))]


def history(app, registration_id) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(CameraEvent.action)
                .where(CameraEvent.registration_id == registration_id)
                .order_by(CameraEvent.id)
            )
        )


def camera_status(locale: str, state_msgid: str) -> str:
    """The part of the STATUS reply that says whether camera requests are on: the translated
    state word with the fixed text on both sides of its placeholder (so "on" never matches
    inside another word)."""
    template = STATUS if locale == "en" else translated(locale, STATUS)
    word = state_msgid if locale == "en" else translated(locale, state_msgid)
    before, after = template.split("%(camera)s")
    return PLACEHOLDER.split(before)[-1] + word + PLACEHOLDER.split(after)[0]


def signed_in(app, account):
    """A web client signed in now (sessions last 12 hours: each moment signs in anew)."""
    web = app.test_client()
    assert sign_in(web, account.phone).status_code == 302
    return web


def says(client, phone, body, locale, msgid) -> str:
    status, reply = text(client, phone, body)
    assert status == 200
    assert reply_in(locale, msgid) in reply, (body, reply)
    return reply


# --- CAMERA OFF / CAMERA ON -------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_camera_off_and_on_by_text_in_every_language(app, client, owner, sign_in_as, locale):
    off_words, on_words = KEYWORDS["camera_off"][locale], KEYWORDS["camera_on"][locale]
    _, user = owner(locale, shop=True)
    home, shop = _ids(app, user.id)
    neighbour_web, neighbour = sign_in_as()
    register(neighbour_web, "home")
    approve(app, sign_in_as, _ids(app, neighbour.id)[0], *map(str, NEIGHBOUR))
    theirs = _ids(app, neighbour.id)[0]
    assert found(app) == {home, shop, theirs}
    assert willing(app, user.id) == [True, True]

    # CAMERA OFF: every registration of the sender is paused, and police search leaves them out.
    says(client, user.phone, off_words[0], locale, CAMERA_OFF)
    assert willing(app, user.id) == [False, False]
    assert willing(app, neighbour.id) == [True]  # nobody else's
    assert found(app) == {theirs}
    assert found(app, near=SHOP) == {theirs}
    assert ledger(app, user.id, "sms") == [(False, "sms", user.phone, "2026-11-01")]
    assert history(app, home)[-1] == history(app, shop)[-1] == "paused"
    reply = says(client, user.phone, KEYWORDS["status"][locale][0], locale, STATUS)
    assert camera_status(locale, "off") in reply

    # Saying it again changes nothing and writes nothing, but still answers.
    says(client, user.phone, off_words[-1], locale, CAMERA_OFF)
    assert len(ledger(app, user.id, "sms")) == 1
    assert history(app, home).count("paused") == 1

    # CAMERA ON: all of them are back in search.
    says(client, user.phone, on_words[0], locale, CAMERA_ON)
    assert willing(app, user.id) == [True, True]
    assert found(app) == {home, shop, theirs}
    assert ledger(app, user.id, "sms") == [
        (False, "sms", user.phone, "2026-11-01"),
        (True, "sms", user.phone, "2026-11-01"),
    ]
    assert history(app, home)[-1] == history(app, shop)[-1] == "resumed"
    reply = says(client, user.phone, KEYWORDS["status"][locale][0], locale, STATUS)
    assert camera_status(locale, "on") in reply

    # Every keyword of the language works, typed in any case.
    for off, on in zip(off_words, on_words, strict=True):
        says(client, user.phone, off.lower(), locale, CAMERA_OFF)
        assert willing(app, user.id) == [False, False]
        says(client, user.phone, on.lower(), locale, CAMERA_ON)
        assert willing(app, user.id) == [True, True]


def test_pending_registrations_are_paused_too(app, client, owner):
    _, user = owner("en", pending=True)
    approved_id, pending_id = _ids(app, user.id)

    says(client, user.phone, "CAMERA OFF", "en", CAMERA_OFF)

    assert willing(app, user.id) == [False, False]
    assert registrations(app, user.id)[1].status == RegistrationStatus.PENDING
    assert history(app, pending_id)[-1] == "paused"
    assert approved_id not in found(app)


@pytest.mark.parametrize("locale", ["es", "zh_Hans"])
def test_the_reply_is_in_the_senders_language_whatever_language_the_keyword(
    app, client, owner, locale
):
    _, user = owner(locale)
    says(client, user.phone, "CAMERA OFF", locale, CAMERA_OFF)  # English keyword
    says(client, user.phone, "Camera on", locale, CAMERA_ON)
    assert willing(app, user.id) == [True]


@pytest.mark.parametrize("locale", LOCALES)
def test_without_a_registration_the_reply_says_so(app, client, make_user, locale):
    user = make_user(locale=locale)
    for command in ("camera_off", "camera_on"):
        reply = says(client, user.phone, KEYWORDS[command][locale][0], locale, CAMERA_NONE)
        assert "registry.example.gov" in reply  # where to register
    assert ledger(app, user.id) == []
    reply = says(client, user.phone, KEYWORDS["status"][locale][0], locale, STATUS)
    assert camera_status(locale, "no cameras registered") in reply


def test_after_stop_camera_off_still_pauses_but_camera_on_does_nothing(app, client, owner):
    """Reducing what one shares always takes effect; sharing more waits for START."""
    _, user = owner("en")
    text(client, user.phone, "STOP")
    says(client, user.phone, "CAMERA OFF", "en", CAMERA_OFF)
    assert willing(app, user.id) == [False]
    assert text(client, user.phone, "CAMERA ON") == (200, "")
    assert willing(app, user.id) == [False]


def test_an_unknown_number_changes_nobodys_registration(app, client, owner):
    _, user = owner("en")
    _, reply = text(client, "+13125550199", "CAMERA OFF")
    assert "sign up" in reply
    assert willing(app, user.id) == [True]


# --- the web's pause button and the text are one function -------------------------------------


def test_the_pause_button_and_camera_off_are_one_function(app, client, owner, monkeypatch):
    calls = []
    real = camera_services.set_willing

    def spy(user, willing, **kwargs):
        calls.append((user.id, willing, kwargs))
        return real(user, willing, **kwargs)

    monkeypatch.setattr(camera_services, "set_willing", spy)
    by_web, web_user = owner("en")
    _, sms_user = owner("en")
    web_id, sms_id = _ids(app, web_user.id)[0], _ids(app, sms_user.id)[0]

    page = f"/cameras/{web_id}"
    assert submit(by_web, f"/cameras/{web_id}/pause", {}, page=page).status_code == 302
    says(client, sms_user.phone, "CAMERA OFF", "en", CAMERA_OFF)

    assert calls == [
        (web_user.id, False, {"registration_id": web_id}),
        (sms_user.id, False, {"channel": "sms"}),
    ]
    assert willing(app, web_user.id) == willing(app, sms_user.id) == [False]
    assert history(app, web_id) == history(app, sms_id)
    assert history(app, web_id)[-1] == "paused"
    # The same ledger rows, but for who and by which channel.
    web_rows, sms_rows = ledger(app, web_user.id), ledger(app, sms_user.id)
    assert [(g, v) for g, _, _, v in web_rows] == [(g, v) for g, _, _, v in sms_rows]
    assert [c for _, c, _, _ in web_rows] == ["web", "web"]
    assert [c for _, c, _, _ in sms_rows] == ["web", "sms"]  # registered on the web
    assert web_rows[-1][2] == web_user.phone and sms_rows[-1][2] == sms_user.phone
    assert found(app) == set()

    # And back on: the resume button and CAMERA ON.
    assert submit(by_web, f"/cameras/{web_id}/resume", {}, page=page).status_code == 302
    says(client, sms_user.phone, "CAMERA ON", "en", CAMERA_ON)
    assert [call[1] for call in calls[2:]] == [True, True]
    assert [(g, v) for g, _, _, v in ledger(app, web_user.id)] == [
        (g, v) for g, _, _, v in ledger(app, sms_user.id)
    ]
    assert found(app) == {web_id, sms_id}


# --- CONFIRM renews the cameras -----------------------------------------------------------------

APPROVED = datetime(2026, 1, 10, 15, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 20, 9, 30, tzinfo=UTC)  # renewal is due on 2027-01-10


@pytest.mark.parametrize("locale", LOCALES)
def test_confirm_by_text_renews_the_approved_registrations(app, client, owner, locale):
    with time_machine.travel(APPROVED, tick=False):
        _, user = owner(locale, shop=True, pending=True)
    home, shop, pending = _ids(app, user.id)
    assert [r.renewed_at for r in registrations(app, user.id)] == [APPROVED, APPROVED, None]

    with time_machine.travel(LATER, tick=False):
        # The profile is not finished, but the cameras were renewed: the reply says both.
        says(client, user.phone, KEYWORDS["confirm"][locale][0], locale, CAMERAS_RENEWED)

    renewed = registrations(app, user.id)
    assert [r.renewed_at for r in renewed] == [LATER, LATER, None]
    assert renewed[2].status == RegistrationStatus.PENDING  # only approved ones are renewed
    assert history(app, home)[-1] == history(app, shop)[-1] == "renewed"
    assert "renewed" not in history(app, pending)
    # Current for a year from the text: still found after the old 13 months had run out.
    past_old_lapse = add_months(APPROVED, 13)
    assert renewal(renewed[0], past_old_lapse).state == "active"
    assert found(app, now=past_old_lapse) == {home, shop}
    with app.app_context():
        assert db.session.scalar(select(Profile.confirmed_at).where(Profile.user_id == user.id)) \
            is None  # fmt: skip


def test_confirm_renews_the_cameras_and_confirms_a_complete_profile(app, client, owner):
    with time_machine.travel(APPROVED, tick=False):
        web, user = owner("en")
        fill_home(web)
        submit(web, "/profile/sharing", {"share_with_911": "y"})

    with time_machine.travel(LATER, tick=False):
        reply = says(client, user.phone, "CONFIRM", "en", CONFIRMED)

    assert "June 20, 2027" in reply  # the profile's six months
    assert registrations(app, user.id)[0].renewed_at == LATER
    with app.app_context():
        confirmed_at = db.session.scalar(
            select(Profile.confirmed_at).where(Profile.user_id == user.id)
        )
    assert confirmed_at == LATER


def test_confirm_with_nothing_approved_asks_to_finish_the_profile(app, client, sign_in_as):
    web, user = sign_in_as(locale="pl")
    register(web, "home")  # waiting for a moderator

    says(client, user.phone, "POTWIERDZ", "pl", INCOMPLETE)

    assert [r.renewed_at for r in registrations(app, user.id)] == [None]
    assert history(app, _ids(app, user.id)[0]) == ["submitted"]


def test_a_registration_sent_back_to_the_moderator_is_not_renewed(app, client, owner):
    """CONFIRM renews what is approved *now*: one waiting for a moderator again is left alone."""
    with time_machine.travel(APPROVED, tick=False):
        _, user = owner("en")
    registration = registration_of(app, user.id)
    with time_machine.travel(LATER, tick=False):
        web = signed_in(app, user)
        submit(web, f"/cameras/{registration.id}/edit",
               {"street": "1300 W Madison St", "unit": "", "city": "Chicago", "state": "IL",
                "zip_code": "60607", "contact_methods": ["sms"], "email": ""})  # fmt: skip
        assert registration_of(app, user.id).status == RegistrationStatus.PENDING
        says(client, user.phone, "CONFIRM", "en", INCOMPLETE)
    assert registration_of(app, user.id).renewed_at == APPROVED
