"""Dispatchers' look-ups by phone number: the console pages, the API for dispatch systems and
its OpenAPI contract, the 45-minute window, the audit trail the resident sees."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_spec_validator import validate as validate_spec
from sqlalchemy import select

from webapp.dispatch import lookup as services
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    EmergencyContact,
    EmergencySession,
    HouseholdMember,
    Pet,
    Profile,
    ProfileLookup,
    ProfilePhone,
    Role,
    SessionStatus,
    User,
    Vehicle,
)

from ..support import ROOT
from ..support.database import rows
from ..support.web import Account, csrf_token, new_phone, set_up_authenticator, sign_in, submit

AGENCY = "OEMC Chicago"
LOOKUP = "/staff/dispatch/lookup"
API = "/api/v1/lookup"
SPEC_PATH = ROOT / "webapp" / "static" / "openapi.yaml"
PANEL_RE = re.compile(r"^/staff/dispatch/lookup/(\d+)$")


@pytest.fixture
def app(make_app):
    """This module's app: the console's agency is configured, so pages can show it."""
    return make_app(DISPATCH_AGENCY=AGENCY)


# --- residents with profiles -----------------------------------------------------------------


@dataclass(frozen=True)
class Resident:
    account: Account
    profile_id: int

    @property
    def phone(self) -> str:
        return self.account.phone


@pytest.fixture
def make_resident(app, make_user):
    """Builder: a resident with a profile confirmed ``confirmed_days_ago`` (None: never),
    shared with 911 unless ``shared=False``, with a household, a pet, a car and a contact;
    ``extra_phones`` maps further numbers to whether they are verified."""

    def build(
        *,
        confirmed_days_ago: int | None = 10,
        shared: bool = True,
        address: bool = True,
        verified: bool = True,
        extra_phones: dict[str, bool] | None = None,
        locale: str = "pl",
    ) -> Resident:
        account = make_user(Role.RESIDENT, verified=verified, locale=locale)
        now = datetime.now(UTC)
        with app.app_context():
            profile = Profile(
                user_id=account.id,
                street="121 N LaSalle St" if address else None,
                unit="Apt 4B",
                city="Chicago",
                state="IL",
                zip_code="60602",
                building_type="apartment",
                floor="4",
                bedrooms="Back of the flat",
                access_notes="Lock box 4321 by the side door",
                hazards="Oxygen tanks in the bedroom",
                utility_shutoffs="Basement, left of the stairs",
                share_with_911=shared,
                confirmed_at=(
                    now - timedelta(days=confirmed_days_ago)
                    if confirmed_days_ago is not None
                    else None
                ),
            )
            profile.members = [
                HouseholdMember(
                    name="Zofia Nowak", relationship_="self", birth_year=1941,
                    language="Polish", interpreter_needed=True, communication="deaf,cognitive",
                    medical_conditions="Type 2 diabetes", medications="Metformin 500 mg",
                    allergies="Penicillin", blood_type="AB-", equipment="Home oxygen",
                    advance_directive="DNR on the fridge", vaccinations="Flu 2026",
                )
            ]  # fmt: skip
            profile.pets = [Pet(name="Reks", kind="dog", service_animal=True, notes="Friendly")]
            profile.vehicles = [
                Vehicle(make="Toyota", model="Corolla", colour="red", plate="AB 123")
            ]
            profile.contacts = [
                EmergencyContact(name="Ana Nowak", relationship_="child", phone="+17735550100",
                                 language="English")
            ]  # fmt: skip
            for number, is_verified in (extra_phones or {}).items():
                profile.phones.append(
                    ProfilePhone(phone=number, verified_at=now if is_verified else None)
                )
            db.session.add(profile)
            db.session.commit()
            return Resident(account, profile.id)

    return build


@pytest.fixture
def dispatcher(sign_in_as):
    return sign_in_as(Role.DISPATCHER)


def look_up(client, phone: str, incident: str = "INC-2026-0042", **kwargs):
    return submit(client, LOOKUP, {"phone": phone, "incident": incident}, **kwargs)


def panel_path(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert PANEL_RE.match(location), location
    return location


def signed_in(app, account: Account):
    client = app.test_client()
    assert sign_in(client, account.phone).status_code == 302
    return client


def actions(app) -> list[tuple[str, str, int | None, str | None, str | None]]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [
            (e.action, e.outcome, e.subject_id, e.reason, e.agency)
            for e in rows
            if e.action.startswith(("dispatch.", "profile.viewed", "profile.reopened"))
        ]


def lookup_rows(app) -> list[ProfileLookup]:
    return rows(app, ProfileLookup)


# --- the console -----------------------------------------------------------------------------


def test_a_lookup_shows_what_responders_need(dispatcher, make_resident):
    client, _ = dispatcher
    resident = make_resident()
    page = client.get(
        panel_path(
            look_up(
                client,
                "(" + resident.phone[2:5] + ") " + resident.phone[5:8] + "-" + resident.phone[8:],
            )
        )
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for expected in (
        "121 N LaSalle St", "Apt 4B", "Lock box 4321", "Oxygen tanks in the bedroom",
        "Basement, left of the stairs", "Zofia Nowak", "1941", "Type 2 diabetes",
        "Metformin 500 mg", "Penicillin", "AB-", "Home oxygen", "DNR on the fridge",
        "Deaf or hard of hearing", "Interpreter needed", "Polish", "Reks", "service animal",
        "Toyota", "AB 123", "Ana Nowak", "Polish",  # the account holder's language (pl)
        "INC-2026-0042", f'<bdi dir="ltr">{resident.phone}</bdi>',
    ):  # fmt: skip
        assert expected in html, expected
    assert "Flu 2026" not in html  # vaccinations are not for responders


def test_the_panel_works_in_arabic_right_to_left(dispatcher, make_resident):
    client, _ = dispatcher
    resident = make_resident()
    path = panel_path(look_up(client, resident.phone))
    html = client.get(path + "?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in html
    assert f'<bdi dir="ltr">{resident.phone}</bdi>' in html
    assert '<bdi dir="ltr">+17735550100</bdi>' in html


def test_the_window_closes_after_45_minutes(app, dispatcher, make_resident):
    client, _ = dispatcher
    resident = make_resident()
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        path = panel_path(look_up(client, resident.phone))
    for minutes in (20, 40):  # the dispatcher is busy on the console (staff idle out at 30)
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get(LOOKUP).status_code == 200
    with time_machine.travel(start + timedelta(minutes=44, seconds=59), tick=False):
        assert "Type 2 diabetes" in client.get(path).get_data(as_text=True)
    with time_machine.travel(start + timedelta(minutes=45), tick=False):
        expired = client.get(path)
        html = expired.get_data(as_text=True)
        assert expired.status_code == 410
        assert "Type 2 diabetes" not in html and "121 N LaSalle" not in html
        assert "This look-up has ended" in html and "Look up again" in html
        token = csrf_token(client, LOOKUP)
        again = client.post(LOOKUP, data={"csrf_token": token, "phone": resident.phone,
                                          "incident": "INC-2026-0042"})  # fmt: skip
        new_path = panel_path(again)
        assert new_path != path
        assert "Type 2 diabetes" in client.get(new_path).get_data(as_text=True)
    expires = [row.expires_at - row.created_at for row in lookup_rows(app)]
    assert expires == [services.LOOKUP_WINDOW] * 2


def test_every_lookup_and_view_is_audited_and_the_resident_sees_the_lookup(
    app, dispatcher, make_resident
):
    client, staff = dispatcher
    resident = make_resident()
    path = panel_path(look_up(client, resident.phone, "  INC-77  "))
    client.get(path)
    client.get(path)
    (row,) = lookup_rows(app)
    assert (row.dispatcher_id, row.channel, row.incident, row.agency) == (
        staff.id, "web", "INC-77", AGENCY
    )  # fmt: skip
    assert actions(app) == [
        ("dispatch.lookup", "success", row.id, "INC-77", AGENCY),
        ("profile.viewed", "success", resident.account.id, "INC-77", AGENCY),
        ("profile.reopened", "success", resident.account.id, "INC-77", AGENCY),
        ("profile.reopened", "success", resident.account.id, "INC-77", AGENCY),
    ]
    with app.app_context():
        viewed = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(["profile.viewed", "profile.reopened"]))
        ).all()
        assert {e.actor_id for e in viewed} == {staff.id}
    own = signed_in(app, resident.account)
    page = own.get("/account/data/").get_data(as_text=True)
    assert page.count("INC-77") == 1  # one entry per look-up
    assert AGENCY in page


def test_a_lookup_that_finds_nothing_is_audited_and_shows_nothing(app, dispatcher):
    client, _ = dispatcher
    html = client.get(panel_path(look_up(client, "+13125550199"))).get_data(as_text=True)
    assert "No safety profile is shown to 911 for this number." in html
    (row,) = lookup_rows(app)
    assert row.profile_id is None
    assert actions(app) == [("dispatch.lookup", "not_found", row.id, "INC-2026-0042", AGENCY)]


@pytest.mark.parametrize(
    "kind",
    ["not_shared", "never_confirmed", "inactive", "no_address", "unverified_account"],
)
def test_profiles_not_shown_to_911_are_not_found(app, dispatcher, make_resident, kind):
    client, _ = dispatcher
    resident = make_resident(
        shared=kind != "not_shared",
        confirmed_days_ago=None if kind == "never_confirmed" else 220 if kind == "inactive" else 3,
        address=kind != "no_address",
        verified=kind != "unverified_account",
    )
    html = client.get(panel_path(look_up(client, resident.phone))).get_data(as_text=True)
    assert "No safety profile is shown to 911" in html
    assert "Type 2 diabetes" not in html
    assert [a[0] for a in actions(app)] == ["dispatch.lookup"]


def test_a_stale_profile_is_shown_with_its_age(dispatcher, make_resident):
    client, _ = dispatcher
    resident = make_resident(confirmed_days_ago=200)
    html = client.get(panel_path(look_up(client, resident.phone))).get_data(as_text=True)
    assert "Type 2 diabetes" in html
    assert "Out of date." in html and "200 days ago" in html


def test_a_profile_that_stops_being_shared_disappears_from_an_open_lookup(
    app, dispatcher, make_resident
):
    client, _ = dispatcher
    resident = make_resident()
    path = panel_path(look_up(client, resident.phone))
    with app.app_context():
        db.session.get(Profile, resident.profile_id).share_with_911 = False
        db.session.commit()
    html = client.get(path).get_data(as_text=True)
    assert "Type 2 diabetes" not in html and "No safety profile is shown" in html


def test_a_verified_extra_phone_finds_the_profile_an_unverified_one_does_not(
    app, dispatcher, make_resident
):
    client, _ = dispatcher
    landline, pending = new_phone(), new_phone()
    make_resident(extra_phones={landline: True, pending: False})
    assert "Type 2 diabetes" in client.get(panel_path(look_up(client, landline))).get_data(
        as_text=True
    )
    assert "No safety profile" in client.get(panel_path(look_up(client, pending))).get_data(
        as_text=True
    )


def test_the_account_holders_own_profile_comes_before_an_extra_phone_listing(app, make_resident):
    caregiver = make_resident(confirmed_days_ago=30)
    make_resident(confirmed_days_ago=1, extra_phones={caregiver.phone: True})
    with app.app_context():
        assert services.find_profile(caregiver.phone).id == caregiver.profile_id


@pytest.mark.parametrize(
    ("phone", "incident", "error"),
    [
        ("12", "INC-1", "Enter a phone number, like"),
        ("", "INC-1", "Enter a phone number, like"),
        ("+13125550142", "   ", "Enter the incident reference."),
        ("+13125550142", "X" * 65, "must be 64 characters or fewer"),
    ],
)
def test_the_form_explains_mistakes_and_looks_nothing_up(app, dispatcher, phone, incident, error):
    client, _ = dispatcher
    response = look_up(client, phone, incident)
    assert response.status_code == 200
    assert error in response.get_data(as_text=True)
    assert lookup_rows(app) == [] and actions(app) == []


def test_open_lookups_are_listed_on_the_form(dispatcher, make_resident):
    client, _ = dispatcher
    resident = make_resident()
    path = panel_path(look_up(client, resident.phone, "INC-9"))
    html = client.get(LOOKUP).get_data(as_text=True)
    assert f'href="{path}"' in html and "INC-9" in html


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("path", [LOOKUP, LOOKUP + "/1"])
def test_only_dispatchers_may_look_up(app, sign_in_as, make_user, make_resident, role, path):
    owner = make_user(Role.DISPATCHER)
    with app.test_request_context():  # look-up 1, another dispatcher's
        services.lookup(make_resident().phone, "INC-1", dispatcher=db.session.get(User, owner.id),
                        channel="web")  # fmt: skip
    client, _ = sign_in_as(role)
    # Dispatchers: the form, and 404 for another dispatcher's look-up.
    expected = 403 if role is not Role.DISPATCHER else 200 if path == LOOKUP else 404
    assert client.get(path).status_code == expected


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(LOOKUP)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in")


def test_only_the_dispatcher_who_looked_up_may_open_it(app, sign_in_as, make_resident):
    first, _ = sign_in_as(Role.DISPATCHER)
    path = panel_path(look_up(first, make_resident().phone))
    second, _ = sign_in_as(Role.DISPATCHER)
    assert second.get(path).status_code == 404
    assert [a[0] for a in actions(app)] == ["dispatch.lookup", "profile.viewed"]


def test_the_service_refuses_anyone_but_a_dispatcher(app, make_user, make_resident):
    resident = make_resident()
    officer = make_user(Role.OFFICER)
    with app.test_request_context(), pytest.raises(PermissionError):
        services.lookup(resident.phone, "INC-1", dispatcher=db.session.get(User, officer.id),
                        channel="web")  # fmt: skip


# --- text sessions ---------------------------------------------------------------------------


def test_a_text_session_shows_the_texters_profile_through_one_audited_lookup(
    app, make_user, make_resident
):
    resident = make_resident()
    staff = make_user(Role.DISPATCHER)
    with app.test_request_context():
        session = EmergencySession(phone=resident.phone, locale="pl", user_id=resident.account.id)
        db.session.add(session)
        db.session.commit()
        dispatcher = db.session.get(User, staff.id)
        first = services.session_view(session, dispatcher)
        assert first.profile.members[0].medications == "Metformin 500 mg"
        assert (first.lookup.channel, first.lookup.session_id) == ("session", session.id)
        assert first.lookup.incident == f"TEXT-{session.id}"
        again = services.session_view(session, dispatcher)
        assert again.lookup.id == first.lookup.id and again.profile == first.profile
        session.status = SessionStatus.CLOSED
        db.session.commit()
        assert services.session_view(session, dispatcher).profile is not None  # window open
        later = datetime.now(UTC) + services.LOOKUP_WINDOW
        with pytest.raises(services.SessionClosed):
            services.session_view(session, dispatcher, now=later)
    assert [a[0] for a in actions(app)] == [
        "dispatch.lookup", "profile.viewed", "profile.reopened", "profile.reopened"
    ]  # fmt: skip


# --- the API ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    with SPEC_PATH.open() as fh:
        return OpenAPI.from_dict(yaml.safe_load(fh))


def test_the_openapi_document_is_valid():
    with SPEC_PATH.open() as fh:
        spec = yaml.safe_load(fh)
    validate_spec(spec)
    assert spec["openapi"].startswith("3.1")


def call(client, openapi: OpenAPI, token: str | None = None, **params):
    """GET the look-up API; the answer must match the OpenAPI contract, whatever it is."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    response = client.get(API, query_string=params, headers=headers)
    openapi.validate_response(
        WerkzeugOpenAPIRequest(response.request), WerkzeugOpenAPIResponse(response)
    )
    return response


@pytest.fixture
def make_token(app, make_user):
    """Builder: an API token for ``agency`` created by an admin; returns (id, raw token)."""
    from webapp.admin.tokens import create_token

    admin = make_user(Role.ADMIN)

    def build(agency: str = "Cook County ETSB") -> tuple[int, str]:
        with app.app_context():
            token, raw = create_token(db.session.get(User, admin.id), agency=agency, name="CAD")
            return token.id, raw

    build.admin_id = admin.id
    return build


def test_the_api_answers_a_found_profile(app, client, openapi, make_token, make_resident):
    _, raw = make_token()
    resident = make_resident()
    response = call(client, openapi, raw, phone=resident.phone, incident="CAD-1")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["found"] is True
    assert body["lookup"]["phone"] == resident.phone
    assert body["lookup"]["agency"] == "Cook County ETSB"
    created = datetime.fromisoformat(body["lookup"]["created_at"])
    assert datetime.fromisoformat(body["lookup"]["expires_at"]) - created == timedelta(minutes=45)
    profile = body["profile"]
    assert profile["address"]["street"] == "121 N LaSalle St"
    assert profile["language"] == "pl" and profile["interpreter_needed"] is True
    assert profile["members"][0]["allergies"] == "Penicillin"
    assert profile["members"][0]["communication"] == ["deaf", "cognitive"]
    assert profile["freshness"]["state"] == "active" and profile["freshness"]["stale"] is False
    assert "vaccinations" not in json.dumps(profile)


def test_api_lookups_are_audited_with_the_tokens_agency(
    app, client, openapi, make_token, make_resident
):
    token_id, raw = make_token("Cook County ETSB")
    resident = make_resident()
    call(client, openapi, raw, phone=resident.phone, incident="CAD-7")
    (row,) = lookup_rows(app)
    assert (row.channel, row.api_token_id, row.dispatcher_id) == ("api", token_id, None)
    assert actions(app) == [
        ("dispatch.lookup", "success", row.id, "CAD-7", "Cook County ETSB"),
        ("profile.viewed", "success", resident.account.id, "CAD-7", "Cook County ETSB"),
    ]
    page = signed_in(app, resident.account).get("/account/data/").get_data(as_text=True)
    assert "CAD-7" in page and "Cook County ETSB" in page


def test_the_api_answers_found_false_for_an_unknown_number(app, client, openapi, make_token):
    _, raw = make_token()
    response = call(client, openapi, raw, phone="+13125550198", incident="CAD-2")
    assert response.status_code == 200
    assert response.get_json()["found"] is False and response.get_json()["profile"] is None
    assert [a[:2] for a in actions(app)] == [("dispatch.lookup", "not_found")]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"phone": "12", "incident": "CAD-3"}, "invalid_phone"),
        ({"incident": "CAD-3"}, "invalid_phone"),
        ({"phone": "+13125550142"}, "invalid_incident"),
        ({"phone": "+13125550142", "incident": "X" * 65}, "invalid_incident"),
    ],
)
def test_the_api_refuses_bad_input(app, client, openapi, make_token, params, error):
    _, raw = make_token()
    response = call(client, openapi, raw, **params)
    assert response.status_code == 400
    assert response.get_json()["error"] == error
    assert lookup_rows(app) == []


@pytest.mark.parametrize("case", ["missing", "wrong", "not_bearer", "revoked"])
def test_the_api_needs_a_live_token(app, client, openapi, make_token, make_resident, case):
    token_id, raw = make_token()
    resident = make_resident()
    if case == "revoked":
        from webapp.admin.tokens import revoke_token

        with app.app_context():
            revoke_token(db.session.get(User, make_token.admin_id), token_id)
    params = {"phone": resident.phone, "incident": "CAD-4"}
    if case == "not_bearer":
        response = client.get(API, query_string=params, headers={"Authorization": f"Basic {raw}"})
    else:
        token = {"missing": None, "wrong": raw[:-2] + "xx", "revoked": raw}[case]
        response = call(client, openapi, token, **params)
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="safety-registry"')
    assert ('error="invalid_token"' in challenge) is (case != "missing")
    assert lookup_rows(app) == [] and actions(app) == []
    assert "Type 2 diabetes" not in response.get_data(as_text=True)


def test_the_api_ignores_session_cookies_and_csrf(app, dispatcher, make_resident):
    client, _ = dispatcher  # a signed-in dispatcher without a token gets nothing
    resident = make_resident()
    response = client.get(API, query_string={"phone": resident.phone, "incident": "CAD-5"})
    assert response.status_code == 401


# --- rate limits -----------------------------------------------------------------------------


@pytest.fixture
def limited(make_app, app):
    # Flask-Limiter keeps its settings on one object per process; the app built last
    # configures it, so this one is built after `app` (see test_rate_limits.py).
    return make_app(DISPATCH_AGENCY=AGENCY, RATELIMIT_ENABLED=True)


def test_the_api_is_rate_limited_per_token(limited, openapi, make_user):
    from webapp.admin.tokens import create_token

    admin = make_user(Role.ADMIN)
    with limited.app_context():
        raws = [create_token(db.session.get(User, admin.id), agency=a, name="CAD")[1]
                for a in ("A", "B")]  # fmt: skip
    client = limited.test_client()
    params = {"phone": "+13125550197"}  # no incident: a quick 400, counted all the same
    statuses = [call(client, openapi, raws[0], **params).status_code for _ in range(121)]
    assert statuses[:120] == [400] * 120
    assert statuses[120] == 429
    refused = call(client, openapi, raws[0], **params)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert call(client, openapi, raws[1], **params).status_code == 400  # B has its own budget


def test_requests_without_a_valid_token_are_limited_per_address(limited, openapi):
    client = limited.test_client()
    statuses = [call(client, openapi, "guess", phone="1", incident="x").status_code
                for _ in range(21)]  # fmt: skip
    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429


def test_console_lookups_are_rate_limited_per_dispatcher(limited, make_user):
    user = make_user(Role.DISPATCHER)
    client = limited.test_client()
    sign_in(client, user.phone)
    set_up_authenticator(client)
    token = csrf_token(client, LOOKUP)
    data = {"csrf_token": token, "phone": "12", "incident": "INC"}
    statuses = [client.post(LOOKUP, data=data).status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    assert client.get(LOOKUP).status_code == 200  # reading the form is never limited
