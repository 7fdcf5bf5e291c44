"""Footage requests (webapp/footage): an officer asks chosen owners; owners answer by text or on
the web; the officer sees the answers, and contact details only of owners who said yes.

The new texts are not translated yet, so the texts' fixed words are checked in English only;
in every language the values (code, case number) and the effects are checked.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.footage import services
from webapp.models import (
    AuditEvent,
    CameraRegistration,
    FootageRecipient,
    FootageRequest,
    InboundMessage,
    OutboundMessage,
    RegistrationStatus,
    Role,
    User,
)
from webapp.models.types import utcnow
from webapp.sms import texts
from webapp.sms.worker import deliver_due

from ..support.database import rows, sms_consent
from ..support.twilio import status_callback, text, twilio_config, twilio_settings
from ..support.web import CSRF_RE, PASSWORD, csrf_token, submit, texts_to

NEW = "/staff/police/requests/new"
INCIDENT = (41.8819, -87.6278)
NEAR = (41.8826, -87.6271)  # about 100 m away
FAR = (41.8790, -87.6300)  # about 370 m away
CASE = "RD-2026-004217"
DESCRIPTION = "Break-in at a corner shop; a person in a red jacket left towards the alley."

FOOTAGE_AGREED = (
    "%(program)s: thank you. The officer will contact you about case %(case)s. Changed "
    "your mind? Reply NO %(code)s."
)
FOOTAGE_DECLINED = (
    "%(program)s: OK, you said no to case %(case)s. The police will not contact you about it."
)
FOOTAGE_UNKNOWN = (
    "%(program)s: no open footage request has the code %(code)s. It may have closed. See "
    "your requests on our website."
)
CLOSED = "This request is closed. It can no longer be answered."
NOT_ASKABLE = "Some of the chosen cameras cannot be asked"
CONTACTS_HIDDEN = "Shown once the owner agrees"

_numbers = itertools.count(1)


@pytest.fixture
def app(make_app, tmp_path, request):
    """Signed webhooks (as in test_sms_inbound.py) and emails in a temporary outbox. Indirect
    parameters: "twilio_api" sends texts through the fake Twilio API (for status callbacks),
    "chicago" sets the city's time zone, "mail_down" points email at a dead SMTP server."""
    config = {**twilio_config(), "MAIL_OUTBOX_DIR": str(tmp_path / "mail")}
    variant = getattr(request, "param", None)
    if variant == "twilio_api":
        fake = request.getfixturevalue("fake_twilio")
        config.update(twilio_settings(fake.url))
    elif variant == "chicago":
        config["TIMEZONE"] = "America/Chicago"
    elif variant == "mail_down":  # nothing listens on port 9 here
        config.update(MAIL_SMTP_URL="smtp+insecure://127.0.0.1:9", MAIL_FROM="r@example.gov")
    return make_app(**config)


@pytest.fixture
def mail_dir(tmp_path):
    return tmp_path / "mail"


@dataclass(frozen=True)
class Owner:
    id: int
    phone: str
    locale: str
    registration_id: int


@pytest.fixture
def owner(app, make_user):
    """An owner with one registration (approved and willing unless told otherwise), written
    straight to the database: the moderation flow has its own tests. ``user=`` adds another
    registration to an existing owner."""

    def build(locale="en", *, at=NEAR, user: Owner | None = None, **fields) -> Owner:
        account = user or make_user(locale=locale)
        values = {
            "user_id": account.id,
            "kind": "home",
            "status": RegistrationStatus.APPROVED,
            "number": f"CR-TEST-{next(_numbers):04d}",
            "street": "1200 W Madison St",
            "city": "Chicago",
            "state": "IL",
            "zip_code": "60607",
            "terms_version": "2026-11-01",
            "willing": True,
            "latitude": at[0],
            "longitude": at[1],
            "camera_count": 2,
            "views": "front_door,street",
            "retention_days": 14,
            "renewed_at": utcnow() - timedelta(days=60),
            **fields,
        }
        if values["status"] != RegistrationStatus.APPROVED:
            values["number"] = None
        with app.app_context():
            registration = CameraRegistration(**values)
            db.session.add(registration)
            db.session.commit()
            return Owner(account.id, account.phone, locale, registration.id)

    return build


@pytest.fixture
def officer(sign_in_as):
    return sign_in_as(Role.OFFICER)


# --- helpers ------------------------------------------------------------------------------------


def window(end_hours_ago: float = 3, length: timedelta = timedelta(hours=2), now=None):
    end = ((now or datetime.now(UTC)) - timedelta(hours=end_hours_ago)).replace(
        second=0, microsecond=0
    )
    return end - length, end


def window_fields(start: datetime, end: datetime, zone: str = "UTC") -> dict[str, str]:
    start, end = start.astimezone(ZoneInfo(zone)), end.astimezone(ZoneInfo(zone))
    return {
        "start_date": start.strftime("%Y-%m-%d"), "start_time": start.strftime("%H:%M"),
        "end_date": end.strftime("%Y-%m-%d"), "end_time": end.strftime("%H:%M"),
    }  # fmt: skip


def arrive(client, ids, *, case=CASE, at=INCIDENT):
    """What the police search results page posts: the chosen registrations, case, place."""
    return client.post(NEW, data={
        "csrf_token": csrf_token(client, "/"), "registration": [str(i) for i in ids],
        "case_number": case, "latitude": str(at[0]), "longitude": str(at[1]),
    })  # fmt: skip


def ask(client, owners, *, case=CASE, description=DESCRIPTION, span=None, ids=None, **fields):
    """Arrive from the search, then send the form."""
    ids = ids if ids is not None else [o.registration_id for o in owners]
    span = span() if callable(span) else span
    form = arrive(client, ids, case=case)
    assert form.status_code == 200, form.get_data(as_text=True)
    token = CSRF_RE.search(form.get_data(as_text=True)).group(1)
    data = {
        "csrf_token": token, "registration": [str(i) for i in ids], "case_number": case,
        "latitude": str(INCIDENT[0]), "longitude": str(INCIDENT[1]),
        "description": description, **window_fields(*(span or window())), **fields,
    }  # fmt: skip
    return client.post(NEW, data=data)


def request_id_from(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/staff/police/requests/(\d+)$", response.headers["Location"])[1])


def recipients(app, request_id) -> list[FootageRecipient]:
    return rows(app, FootageRecipient, FootageRecipient.request_id == request_id)


def asked_for_footage(app, officer, person: Owner) -> tuple[int, str]:
    """The officer asks ``person`` alone for footage: the request's id, and the owner's code."""
    client, _ = officer
    request_id = request_id_from(ask(client, [person]))
    return request_id, code_of(app, request_id, person)


def code_of(app, request_id, owner: Owner) -> str:
    return next(r.code for r in recipients(app, request_id) if r.owner_id == owner.id)


def state_of(app, request_id, owner: Owner) -> tuple[str, str | None]:
    row = next(r for r in recipients(app, request_id) if r.owner_id == owner.id)
    return row.state, row.answer_channel


def audit(app, action: str) -> list[AuditEvent]:
    return rows(app, AuditEvent, AuditEvent.action == action)


def request_count(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(FootageRequest.id)).all())


def emails(mail_dir) -> list[email.message.EmailMessage]:
    if not mail_dir.exists():
        return []
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(mail_dir.glob("*.eml"))
    ]


def english(msgid: str, **params) -> str:
    return msgid % {"program": "Safety Registry", **params}


# --- asking ---------------------------------------------------------------------------------------


def test_each_chosen_owner_gets_one_text_in_their_language_with_a_code(
    app, officer, owner, mail_dir
):
    client, officer_account = officer
    alice = owner("en", at=NEAR)
    beto = owner("es", at=FAR, retention_days=30)
    # Beto's business, two doors away: one text for both, one answer covers both.
    beto_shop = owner("es", user=beto, at=NEAR, kind="business", business_name="Panadería Beto",
                      contact_name="Beto Ruiz", contact_phone="+13125550188")  # fmt: skip
    ola = owner("pl", at=NEAR, retention_days=7)

    request_id = request_id_from(ask(client, [alice, beto, beto_shop, ola]))

    rows = recipients(app, request_id)
    assert sorted(r.registration_id for r in rows) == sorted(
        o.registration_id for o in (alice, beto, beto_shop, ola)
    )
    for person in (alice, beto, ola):
        sent = texts_to(app, person.phone)
        assert [t.template for t in sent] == ["footage_request"]
        assert sent[0].locale == person.locale
        code = code_of(app, request_id, person)
        assert re.fullmatch(r"\d{4}", code)
        assert code in sent[0].body and CASE in sent[0].body
    assert len({r.code for r in rows if r.owner_id == beto.id}) == 1
    english_text = texts_to(app, alice.phone)[0].body
    assert "free to refuse" in english_text and "http" not in english_text
    with app.app_context():
        footage_request = db.session.get(FootageRequest, request_id)
        # Requests close after the longest retention period involved (Beto's 30 days).
        assert footage_request.closes_at - footage_request.created_at == timedelta(days=30)
        assert footage_request.officer_id == officer_account.id
        message_ids = {r.message_id for r in footage_request.recipients}
        assert len(message_ids) == 3 and None not in message_ids
        distances = {r.registration_id: r.distance_m for r in footage_request.recipients}
    assert 80 < distances[alice.registration_id] < 120
    assert 300 < distances[beto.registration_id] < 450
    [row] = audit(app, "footage.requested")
    assert row.actor_id == officer_account.id and row.subject_id == request_id
    assert CASE in row.reason and "3 owners" in row.reason and "4 registrations" in row.reason
    assert emails(mail_dir) == []  # nobody chose email


def test_owners_who_chose_email_also_get_an_email_in_their_language(app, officer, owner, mail_dir):
    client, _ = officer
    with_email = owner("es", contact_methods="sms,email", email="dueno@example.com")
    email_not_chosen = owner("en", contact_methods="sms", email="ignored@example.com")

    request_id = request_id_from(ask(client, [with_email, email_not_chosen]))

    [message] = emails(mail_dir)
    assert message["To"] == "dueno@example.com"
    assert message["Content-Language"] == "es"
    assert CASE in message["Subject"]
    body = message.get_content()
    assert code_of(app, request_id, with_email) in body
    assert DESCRIPTION in body and CASE in body


@pytest.mark.parametrize("app", ["mail_down"], indirect=True)
def test_a_failed_email_is_logged_and_the_request_stands(app, officer, owner, caplog):
    client, _ = officer
    person = owner(contact_methods="sms,email", email="owner@example.com")
    request_id = request_id_from(ask(client, [person]))
    assert [t.template for t in texts_to(app, person.phone)] == ["footage_request"]
    assert f"footage request {request_id}: email to an owner failed" in caplog.text
    assert "owner@example.com" not in caplog.text


def test_the_form_lists_the_chosen_owners_and_marks_those_that_cannot_be_asked(app, officer, owner):
    client, _ = officer
    willing = owner()
    paused = owner(willing=False)
    page = arrive(client, [willing.registration_id, paused.registration_id])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'name="registration" value="{willing.registration_id}"' in html
    assert f'value="{paused.registration_id}"' not in html
    assert "Cannot be asked" in html
    assert 'value="RD-2026-004217"' in html  # the case number carried over
    assert "There is a problem" not in html  # nothing to correct yet


def test_without_the_incidents_place_the_form_says_to_start_from_the_search(app, officer, owner):
    client, _ = officer
    alice = owner()
    for data in ({}, {"latitude": "nan", "longitude": "1"}, {"description": DESCRIPTION}):
        form = {"csrf_token": csrf_token(client, "/"), "case_number": CASE,
                "registration": str(alice.registration_id), **data}  # fmt: skip
        response = client.post(NEW, data=form)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "location is missing. Start again from the camera search." in page
    assert request_count(app) == 0


@pytest.mark.parametrize("app", ["chicago"], indirect=True)
def test_the_window_is_entered_in_the_configured_time_zone(app, officer, owner):
    client, _ = officer
    alice = owner()
    start, end = window()
    request_id = request_id_from(
        ask(client, [alice], **window_fields(start, end, "America/Chicago"))
    )
    with app.app_context():
        footage_request = db.session.get(FootageRequest, request_id)
        assert (footage_request.window_start, footage_request.window_end) == (start, end)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"span": lambda: window(length=timedelta(minutes=10))},
         "The time window must be at least 15 minutes long."),
        ({"span": lambda: window(length=timedelta(hours=12, minutes=1))},
         "The time window can be at most 12 hours long."),
        ({"span": lambda: window(end_hours_ago=-1, length=timedelta(hours=2))},
         "The time window cannot end in the future."),
        ({"span": lambda: window()[::-1]},
         "The end of the time window must be after its start."),
        ({"description": "  "}, "Describe what happened and what the footage may show."),
        ({"description": "x" * 301}, "Keep the description to 300 characters or fewer."),
        ({"case": ""}, "Enter the case number."),
        ({"case": "RD 2026 ✓ 42"}, "Enter the case number with at most 40 letters"),
        ({"ids": []}, "Choose at least one camera owner to ask."),
        ({"start_time": "25:99"}, "Enter a time like 14:30"),
    ],
    ids=["too-short", "too-long", "future", "backwards", "no-description", "long-description",
         "no-case", "bad-case", "nobody", "bad-time"],
)  # fmt: skip
def test_a_bad_request_gets_a_clear_error_and_sends_nothing(app, officer, owner, change, message):
    client, _ = officer
    alice = owner()
    response = ask(client, [alice], **change)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert request_count(app) == 0
    assert texts_to(app, alice.phone) == []


def test_the_exact_window_limits_are_accepted(app, officer, owner):
    client, _ = officer
    alice = owner()
    for length in (timedelta(minutes=15), timedelta(hours=12)):
        request_id_from(ask(client, [alice], span=window(length=length)))
    assert request_count(app) == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"willing": False},
        {"status": RegistrationStatus.PENDING, "latitude": None, "longitude": None},
        {"status": RegistrationStatus.CHANGES_REQUESTED},
        {"renewed_at": datetime(2020, 1, 1, tzinfo=UTC)},  # lapsed
    ],
    ids=["paused", "pending", "changes-requested", "lapsed"],
)
def test_only_approved_willing_current_registrations_can_be_asked(app, officer, owner, fields):
    client, _ = officer
    alice, other = owner(), owner(**fields)
    response = ask(client, [alice, other])
    assert NOT_ASKABLE in response.get_data(as_text=True)
    assert request_count(app) == 0
    assert texts_to(app, alice.phone) == [] and texts_to(app, other.phone) == []


def test_an_unknown_registration_is_refused(app, officer, owner):
    client, _ = officer
    alice = owner()
    response = ask(client, [alice], ids=[alice.registration_id, 999_999])
    assert NOT_ASKABLE in response.get_data(as_text=True)
    assert request_count(app) == 0


def test_codes_are_unique_among_an_owners_open_requests(app, officer, owner, monkeypatch):
    client, _ = officer
    alice = owner()
    first = request_id_from(ask(client, [alice]))
    taken = code_of(app, first, alice)
    draws = iter([taken, taken, "4821"])
    monkeypatch.setattr(services, "_random_code", lambda: next(draws))
    second = request_id_from(ask(client, [alice], case="RD-2026-004218"))
    assert code_of(app, second, alice) == "4821"


# --- answering by text -------------------------------------------------------------------------

KEYWORDS = {  # (yes, no) as people type them, with the code
    "en": ("yes {code}", "No {code}"),
    "es": ("SÍ {code}", "no {code}"),
    "pl": ("tak {code}", "NIE {code}"),
    "zh_Hans": ("是{code}", "否 {code}"),  # Chinese keywords may be glued to the code
    "ar": ("نعم {code}", "لا {code}"),
}


@pytest.mark.parametrize("locale", list(KEYWORDS))
def test_owners_answer_yes_then_no_by_text_in_their_language(app, officer, owner, locale):
    person = owner(locale)
    request_id, code = asked_for_footage(app, officer, person)
    yes, no = KEYWORDS[locale]
    webhook = app.test_client()

    status, reply = text(webhook, person.phone, yes.format(code=code))
    assert status == 200
    assert CASE in reply and code in reply
    if locale == "en":
        assert reply == english(FOOTAGE_AGREED, case=CASE, code=code)
    assert state_of(app, request_id, person) == ("agreed", "sms")

    # Changing one's mind is allowed while the request is open: consent can be withdrawn.
    status, reply = text(webhook, person.phone, no.format(code=code))
    assert status == 200 and CASE in reply
    if locale == "en":
        assert reply == english(FOOTAGE_DECLINED, case=CASE)
    assert state_of(app, request_id, person) == ("declined", "sms")
    assert [e.actor_id for e in audit(app, "footage.agreed")] == [person.id]
    assert [e.reason for e in audit(app, "footage.declined")] == ["sms"]


def test_a_wrong_code_by_text_asks_for_a_right_one_and_changes_nothing(app, officer, owner):
    """With a request open, a wrong code gets the open codes; with none open, a clear
    "no open request has this code"."""
    client, _ = officer
    alice, bob = owner(), owner()
    request_id = request_id_from(ask(client, [alice, bob]))
    alices_code, bobs_code = code_of(app, request_id, alice), code_of(app, request_id, bob)
    wrong = "0000" if alices_code != "0000" else "0001"
    webhook = app.test_client()

    _, reply = text(webhook, alice.phone, f"YES {wrong}")
    assert reply == english(CODE_NEEDED, code=alices_code, codes=alices_code)
    if bobs_code != alices_code:  # Bob's code answers nothing of Alice's
        _, reply = text(webhook, alice.phone, f"YES {bobs_code}")
        assert reply == english(CODE_NEEDED, code=alices_code, codes=alices_code)
    assert {r.state for r in recipients(app, request_id)} == {"sent"}
    carol = owner()  # nothing open for her
    _, reply = text(webhook, carol.phone, f"NO {wrong}")
    assert reply == english(FOOTAGE_UNKNOWN, code=wrong)


def test_a_repeated_answer_is_recorded_once(app, officer, owner):
    client, _ = officer
    alice = owner()
    request_id = request_id_from(ask(client, [alice]))
    code = code_of(app, request_id, alice)
    webhook = app.test_client()
    first = text(webhook, alice.phone, f"YES {code}")
    again = text(webhook, alice.phone, f"yes {code}")
    assert first == again
    assert len(audit(app, "footage.agreed")) == 1


# A YES or NO without its code, and answers after STOP -----------------------------------------

CODE_NEEDED = (
    "%(program)s: please add the request's code, like YES %(code)s or NO %(code)s. Open: %(codes)s."
)
BARE = {  # a yes, a no and a "no thanks" without a code, as people type them
    "en": ("YES", "no", "No thanks"),
    "es": ("Sí", "NO", "no gracias"),
    "pl": ("tak", "Nie", "nie dziekuje"),
    "zh_Hans": ("是", "否", "不 谢谢"),
    "ar": ("نعم", "لا", "لا شكرا"),
}
STOP_WORD = {"en": "STOP", "es": "ALTO", "pl": "KONIEC", "zh_Hans": "退订", "ar": "توقف"}
CAMERA_OFF = {"en": "camera off", "es": "cámara no", "pl": "kamera nie", "zh_Hans": "摄像头关",
              "ar": "كاميرا لا"}  # fmt: skip


@pytest.mark.parametrize("locale", list(BARE))
def test_a_yes_or_no_without_a_code_asks_for_it_and_is_never_start(app, officer, owner, locale):
    person = owner(locale)
    request_id, code = asked_for_footage(app, officer, person)
    webhook = app.test_client()

    for words in BARE[locale]:
        status, reply = text(webhook, person.phone, words)
        assert status == 200
        assert f"{code}" in reply, (words, reply)
        with app.test_request_context():
            expected = texts.render("footage_code_needed", locale, code=code, codes=code)
        assert reply == expected, words
    if locale == "en":
        assert reply == english(CODE_NEEDED, code=code, codes=code)
    assert state_of(app, request_id, person) == ("sent", None)
    assert sms_consent(app, person.phone) == []  # no START written to the ledger


def test_the_code_reply_lists_every_open_request(app, officer, owner):
    client, _ = officer
    person = owner()
    first = code_of(app, request_id_from(ask(client, [person], case="RD-2026-000001")), person)
    second = code_of(app, request_id_from(ask(client, [person], case="RD-2026-000002")), person)
    _, reply = text(app.test_client(), person.phone, "yes")
    assert reply == english(CODE_NEEDED, code=second, codes=f"{second}, {first}")


@pytest.mark.parametrize("locale", list(BARE))
def test_after_stop_a_no_with_its_code_still_withdraws_consent(app, officer, owner, locale):
    person = owner(locale)
    request_id, code = asked_for_footage(app, officer, person)
    yes, no = KEYWORDS[locale]
    webhook = app.test_client()
    text(webhook, person.phone, yes.format(code=code))
    assert state_of(app, request_id, person) == ("agreed", "sms")

    text(webhook, person.phone, STOP_WORD[locale])
    status, reply = text(webhook, person.phone, no.format(code=code))

    assert status == 200 and CASE in reply
    assert state_of(app, request_id, person) == ("declined", "sms")
    assert sms_consent(app, person.phone) == [False]  # still stopped
    client, _ = officer
    page = client.get(f"/staff/police/requests/{request_id}").get_data(as_text=True)
    assert person.phone not in page  # the officer no longer sees the owner's contact


@pytest.mark.parametrize("locale", list(BARE))
def test_after_stop_camera_off_still_takes_effect(app, owner, locale):
    person = owner(locale)
    webhook = app.test_client()
    text(webhook, person.phone, STOP_WORD[locale])
    status, reply = text(webhook, person.phone, CAMERA_OFF[locale])
    assert status == 200 and reply
    with app.app_context():
        registration = db.session.get(CameraRegistration, person.registration_id)
        assert registration.willing is False
    # What would share more stays without effect, and unanswered, until START.
    assert text(webhook, person.phone, "CAMERA ON") == (200, "")
    with app.app_context():
        assert db.session.get(CameraRegistration, person.registration_id).willing is False


def test_a_bare_yes_from_a_stopped_number_with_nothing_open_is_start(app, owner):
    person = owner()
    webhook = app.test_client()
    text(webhook, person.phone, "STOP")
    _, reply = text(webhook, person.phone, "YES")
    assert reply.startswith("Safety Registry: texts are on again")
    assert sms_consent(app, person.phone) == [False, True]
    # From a number that never stopped, it is not understood (and writes nothing).
    other = owner()
    _, reply = text(webhook, other.phone, "YES")
    assert reply.startswith("If this is an emergency, call 911.")
    assert sms_consent(app, other.phone) == []


def test_no_stop_opts_out_even_with_a_request_open(app, officer, owner):
    client, _ = officer
    person = owner()
    request_id_from(ask(client, [person]))
    _, reply = text(app.test_client(), person.phone, "No stop")
    assert reply.startswith("Safety Registry: you will get no more texts")
    assert sms_consent(app, person.phone) == [False]


def test_the_owners_answers_and_texts_are_in_their_data_and_go_with_their_account(
    app, officer, owner, sign_in_as
):
    """The resident's data download holds the footage requests they were sent, their answers
    and the texts they sent us; deleting the account deletes those texts (the requests keep
    the answer, without the owner)."""
    web, account = sign_in_as(locale="en")
    person = owner(user=account)
    request_id, code = asked_for_footage(app, officer, person)
    text(app.test_client(), person.phone, f"YES {code}")

    data = json.loads(web.get("/account/data/export.json").get_data(as_text=True))

    [asked] = data["footage_requests"]
    assert (asked["case_number"], asked["code"], asked["state"], asked["answered_by"]) == (
        CASE,
        code,
        "agreed",
        "sms",
    )
    assert asked["answered_at"] and asked["asked_at"]
    [received] = data["texts_received"]
    assert received["body"] == f"YES {code}"
    assert received["command"] == "answer_yes"
    assert received["reply"] == english(FOOTAGE_AGREED, code=code, case=CASE)

    submit(web, "/account/data/delete", {"password": PASSWORD})
    with app.app_context():
        assert db.session.scalar(
            select(func.count()).select_from(InboundMessage)
            .where(InboundMessage.from_number == person.phone)
        ) == 0  # fmt: skip
        [kept] = recipients(app, request_id)
    assert (kept.state, kept.owner_id) == ("agreed", None)


# --- answering on the web ------------------------------------------------------------------------


def test_owners_see_their_open_requests_and_answer_on_the_web(app, officer, sign_in_as, owner):
    client, _ = officer
    web, account = sign_in_as(locale="en")
    person = owner(user=account)
    other = owner()
    request_id = request_id_from(ask(client, [person, other]))

    page = web.get("/footage/").get_data(as_text=True)
    assert CASE in page and DESCRIPTION in page and "1200 W Madison St" in page
    assert code_of(app, request_id, person) in page
    assert "Requests for footage" in web.get("/cameras/").get_data(as_text=True)

    mine = next(r for r in recipients(app, request_id) if r.owner_id == person.id)
    response = submit(web, f"/footage/{mine.id}/yes", {}, page="/footage/")
    assert response.status_code == 302
    assert state_of(app, request_id, person) == ("agreed", "web")
    assert "Take back my yes" in web.get("/footage/").get_data(as_text=True)

    submit(web, f"/footage/{mine.id}/no", {}, page="/footage/")
    assert state_of(app, request_id, person) == ("declined", "web")
    assert [e.reason for e in audit(app, "footage.declined")] == ["web"]


def test_another_owners_request_answers_404(app, officer, sign_in_as, owner):
    client, _ = officer
    web, account = sign_in_as()
    owner(user=account)
    stranger = owner()
    request_id = request_id_from(ask(client, [stranger]))
    theirs = recipients(app, request_id)[0]

    assert CASE not in web.get("/footage/").get_data(as_text=True)
    response = submit(web, f"/footage/{theirs.id}/yes", {}, page="/footage/")
    assert response.status_code == 404
    assert state_of(app, request_id, stranger) == ("sent", None)
    assert submit(web, "/footage/999999/no", {}, page="/footage/").status_code == 404


def test_answering_is_post_only(app, sign_in_as):
    web, _ = sign_in_as()
    assert web.get("/footage/1/yes").status_code == 405


# --- what the officer sees ---------------------------------------------------------------------


def test_contact_details_are_shown_only_after_yes(app, officer, make_user, owner):
    client, _ = officer
    account = make_user(locale="es")
    shop = owner(user=account, kind="business", business_name="Panadería Beto",
                 contact_name="Beto Ruiz", contact_phone="+13125550188",
                 contact_methods="sms,email", email="beto@example.com",
                 street="55 E Randolph St", zip_code="60601")  # fmt: skip
    request_id = request_id_from(ask(client, [shop]))
    page_path = f"/staff/police/requests/{request_id}"
    secrets_shown = (account.phone, "beto@example.com", "Beto Ruiz", "+13125550188",
                     "55 E Randolph St", "Panadería Beto")  # fmt: skip

    def page() -> str:
        response = client.get(page_path)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    before = page()
    assert CONTACTS_HIDDEN in before and not any(s in before for s in secrets_shown)
    assert '<meta http-equiv="refresh" content="30">' in before
    code = code_of(app, request_id, shop)
    webhook = app.test_client()

    text(webhook, account.phone, f"NO {code}")
    after_no = page()
    assert "Declined" in after_no and not any(s in after_no for s in secrets_shown)
    assert audit(app, "footage.contacts_viewed") == []

    text(webhook, account.phone, f"SI {code}")
    after_yes = page()
    assert "Agreed" in after_yes and all(s in after_yes for s in secrets_shown)
    # Nobody left to wait for: the page stops refreshing itself.
    assert 'http-equiv="refresh"' not in after_yes
    [viewed] = audit(app, "footage.contacts_viewed")
    assert viewed.subject_id == request_id and CASE in viewed.reason

    text(webhook, account.phone, f"NO {code}")  # consent withdrawn: hidden again
    withdrawn = page()
    assert not any(s in withdrawn for s in secrets_shown)
    assert len(audit(app, "footage.contacts_viewed")) == 1


def test_another_officer_cannot_see_the_request(app, officer, sign_in_as, owner):
    client, _ = officer
    request_id = request_id_from(ask(client, [owner()]))
    colleague, _ = sign_in_as(Role.OFFICER)

    assert colleague.get(f"/staff/police/requests/{request_id}").status_code == 404
    assert CASE not in colleague.get("/staff/police/requests/").get_data(as_text=True)
    assert CASE in client.get("/staff/police/requests/").get_data(as_text=True)
    assert client.get("/staff/police/requests/999999").status_code == 404


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.OFFICER])
def test_only_officers_reach_the_officer_pages(app, sign_in_as, role):
    client, _ = sign_in_as(role)
    assert client.get("/staff/police/requests/").status_code == 403
    assert client.get("/staff/police/requests/1").status_code == 403
    assert arrive(client, [1]).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get("/staff/police/requests/").status_code == 302
    assert client.get("/footage/").status_code == 302


@pytest.mark.parametrize("app", ["twilio_api"], indirect=True)
def test_the_states_follow_the_status_callbacks(app, officer, owner):
    client, _ = officer
    delivered, failed, waiting = owner(), owner(at=FAR), owner(at=INCIDENT)
    request_id = request_id_from(ask(client, [delivered, failed, waiting]))
    with app.app_context():
        assert deliver_due() == 3
        sids = {
            r.owner_id: db.session.get(OutboundMessage, r.message_id).provider_sid
            for r in db.session.scalars(select(FootageRecipient))
        }
    webhook = app.test_client()
    assert status_callback(webhook, sids[delivered.id], "delivered").status_code == 204
    assert status_callback(webhook, sids[failed.id], "undelivered",
                           ErrorCode="30003").status_code == 204  # fmt: skip

    page = client.get(f"/staff/police/requests/{request_id}").get_data(as_text=True)
    body = page.split("<tbody>")[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)  # nearest first
    assert len(rows) == 3
    assert "Text sent" in rows[0]  # waiting, at the incident
    assert "Text delivered" in rows[1]  # delivered, about 100 m away
    assert "Text not delivered" in rows[2]  # failed, about 370 m away

    # An answer counts more than the text's fate.
    status, _ = text(webhook, failed.phone, f"YES {code_of(app, request_id, failed)}")
    assert status == 200
    page = client.get(f"/staff/police/requests/{request_id}").get_data(as_text=True)
    assert "Text not delivered" not in page and "Agreed" in page


# --- closing -------------------------------------------------------------------------------------


def test_a_request_closes_after_the_longest_retention_and_late_answers_are_refused(
    app, officer, sign_in_as, owner
):
    client, officer_account = officer
    web, account = sign_in_as()
    early = owner(user=account, retention_days=7)
    late = owner(retention_days=30)
    quick = owner(retention_days=30)
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=31)  # its request closed a day ago (30 days' retention)
    recently = now - timedelta(days=29)  # still open for a day

    with app.app_context():
        officer_user = db.session.get(User, officer_account.id)
        with time_machine.travel(long_ago, tick=False):
            closed = services.create_request(
                officer_user, CASE, *INCIDENT,
                [early.registration_id, late.registration_id, quick.registration_id],
                *window(now=long_ago), DESCRIPTION,
            ).id  # fmt: skip
        with time_machine.travel(long_ago + timedelta(days=1), tick=False):
            quick_user = db.session.get(User, quick.id)
            services.answer(quick_user, code_of(app, closed, quick), True, "sms")
        with time_machine.travel(recently, tick=False):
            still_open = services.create_request(
                officer_user, "RD-2026-009999", *INCIDENT,
                [early.registration_id, late.registration_id],
                *window(now=recently), DESCRIPTION,
            ).id  # fmt: skip

    page = client.get(f"/staff/police/requests/{closed}").get_data(as_text=True)
    assert page.count("No answer") == 2 and "Agreed" in page
    assert "Closed on" in page and 'http-equiv="refresh"' not in page
    assert quick.phone in page  # what was agreed stays agreed

    # Late answers, by text and on the web, are refused and change nothing.
    webhook = app.test_client()
    closed_code = code_of(app, closed, late)
    _, reply = text(webhook, late.phone, f"YES {closed_code}")
    open_code = code_of(app, still_open, late)  # the code of the request still open is named
    assert reply == english(CODE_NEEDED, code=open_code, codes=open_code)
    owners_page = web.get("/footage/").get_data(as_text=True)
    assert "RD-2026-009999" in owners_page and CASE not in owners_page
    mine = next(r for r in recipients(app, closed) if r.owner_id == early.id)
    response = submit(web, f"/footage/{mine.id}/yes", {}, page="/footage/", follow_redirects=True)
    assert CLOSED in response.get_data(as_text=True)
    assert state_of(app, closed, early) == ("sent", None)
    assert state_of(app, closed, late) == ("sent", None)

    # The open one still takes answers.
    _, reply = text(webhook, early.phone, f"YES {code_of(app, still_open, early)}")
    assert "RD-2026-009999" in reply
    assert state_of(app, still_open, early) == ("agreed", "sms")


def test_the_officers_list_shows_counts_and_status(app, officer, owner):
    client, _ = officer
    alice, bob = owner(), owner()
    request_id = request_id_from(ask(client, [alice, bob]))
    text(app.test_client(), alice.phone, f"YES {code_of(app, request_id, alice)}")
    page = client.get("/staff/police/requests/").get_data(as_text=True)
    assert CASE in page and "1 agreed, 0 declined, of 2" in page and "Open until" in page
