"""The access-control matrix: every route, requested as every role, against a table kept here.

Each route is requested as anonymous, resident, moderator, officer, dispatcher and admin
(staff with their second factor done). The ids in the URLs belong to *someone else's* data
where the question is "may this role see another person's data?", so a resident's 200 below
means "their own page", and "another resident's registration" answers 404 to everyone but
its owner. A route missing from the table fails the test: a new route must be added here,
with a decision about who may reach it.

POST-only routes are posted with a valid CSRF token and an empty form, so an allowed role gets
the form's answer (a redirect or a page with errors) and a refused one 302/403/404.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import CameraRegistration, Role, User

from ..support.cameras import registered
from ..support.web import CSRF_RE

ROLES = ("anonymous", "resident", "moderator", "officer", "dispatcher", "admin")


@dataclass(frozen=True)
class Seed:
    """Data the URLs point at."""

    registration: int  # the matrix resident's own, approved registration
    other_registration: int  # another resident's
    system: int  # a camera system of the matrix resident's registration
    member: int  # a household member in the matrix resident's profile
    phone: int  # an extra phone on the matrix resident's profile
    recipient: int  # the matrix resident's footage-request recipient row
    request: int  # a footage request made by the matrix officer
    lookup: int  # a profile look-up made by the matrix dispatcher
    session: int  # an emergency text session nobody answers yet
    token: int  # a dispatch API token
    target_user: int  # an account the admin routes act on
    number: str  # the approved registration's placard number


# route -> expected status for (anonymous, resident, moderator, officer, dispatcher, admin).
# 302 for anonymous is "sign in first"; 403 is "not your role"; 404 is "not yours".
EXPECTED: dict[tuple[str, str], tuple[int, ...]] = {}


def expect(method: str, path: str, *codes: int) -> None:
    assert len(codes) == len(ROLES)
    EXPECTED[(method, path)] = codes


# Public pages.
expect("GET", "/", 200, 200, 200, 200, 200, 200)
expect("GET", "/terms", 200, 200, 200, 200, 200, 200)
expect("GET", "/privacy", 200, 200, 200, 200, 200, 200)
expect("GET", "/healthz", 200, 200, 200, 200, 200, 200)
expect("GET", "/cameras/check", 200, 200, 200, 200, 200, 200)
expect("GET", "/cameras/check/{number}", 200, 200, 200, 200, 200, 200)
expect("GET", "/static/css/site.css", 200, 200, 200, 200, 200, 200)
# Signing in and up: for visitors; a signed-in person is sent on.
expect("GET", "/account/sign-in", 200, 302, 302, 302, 302, 302)
expect("GET", "/account/sign-up", 200, 302, 302, 302, 302, 302)
expect("GET", "/account/reset", 200, 200, 200, 200, 200, 200)
expect("GET", "/account/reset/code", 302, 302, 302, 302, 302, 302)  # after asking for a code
expect("POST", "/account/sign-out", 302, 302, 302, 302, 302, 302)
expect("GET", "/account/verify", 302, 302, 302, 302, 302, 302)
expect("POST", "/account/verify/resend", 302, 302, 302, 302, 302, 302)
# The account holder's own pages: every signed-in person has them.
for path in ("/account/", "/account/settings", "/account/phone", "/account/data/",
             "/account/data/delete", "/account/data/export.json"):  # fmt: skip
    expect("GET", path, 302, 200, 200, 200, 200, 200)
expect("GET", "/account/phone/confirm", 302, 302, 302, 302, 302, 302)
# The second factor: staff only (residents have none).
expect("GET", "/account/second-factor", 302, 403, 302, 302, 302, 302)
expect("GET", "/account/second-factor/setup", 302, 403, 302, 302, 302, 302)
expect("GET", "/account/second-factor/recovery-codes", 302, 403, 200, 200, 200, 200)
# The safety profile: its owner's only; staff reach only their own (empty) profile pages, and
# another resident's items answer 404.
for path in ("/profile/", "/profile/home", "/profile/members", "/profile/pets",
             "/profile/vehicles", "/profile/contacts", "/profile/members/new",
             "/profile/phones", "/profile/sharing"):  # fmt: skip
    expect("GET", path, 302, 200, 200, 200, 200, 200)
expect("GET", "/profile/members/{member}", 302, 200, 404, 404, 404, 404)
expect("GET", "/profile/members/{member}/remove", 302, 200, 404, 404, 404, 404)
expect("GET", "/profile/phones/{phone}/verify", 302, 200, 404, 404, 404, 404)
expect("POST", "/profile/phones/{phone}/resend", 302, 302, 404, 404, 404, 404)
expect("POST", "/profile/phones/{phone}/remove", 302, 302, 404, 404, 404, 404)
expect("POST", "/profile/confirm", 302, 302, 302, 302, 302, 302)
# Camera registrations: their owner's; moderators read them through the moderation console.
for path in ("/cameras/", "/cameras/new/home", "/cameras/new/business"):
    expect("GET", path, 302, 200, 200, 200, 200, 200)
OWN_REGISTRATION = "/cameras/{registration}"
for path in (OWN_REGISTRATION, f"{OWN_REGISTRATION}/edit", f"{OWN_REGISTRATION}/placard",
             f"{OWN_REGISTRATION}/withdraw", f"{OWN_REGISTRATION}/systems/new",
             f"{OWN_REGISTRATION}/systems/{{system}}"):  # fmt: skip
    expect("GET", path, 302, 200, 404, 404, 404, 404)
expect("GET", "/cameras/{other_registration}", 302, 404, 404, 404, 404, 404)
for end in ("pause", "resume", "renew", "systems/{system}/remove"):
    path = f"{OWN_REGISTRATION}/{end}"
    expect("POST", path, 302, 302, 404, 404, 404, 404)
# Footage requests, the owner's side.
expect("GET", "/footage/", 302, 200, 200, 200, 200, 200)
expect("POST", "/footage/{recipient}/yes", 302, 302, 404, 404, 404, 404)
expect("POST", "/footage/{recipient}/no", 302, 302, 404, 404, 404, 404)
# Staff consoles: each its own role only.
expect("GET", "/staff/", 302, 403, 302, 302, 302, 302)
expect("GET", "/staff/moderation/", 302, 403, 200, 403, 403, 403)
expect("GET", "/staff/moderation/{other_registration}", 302, 403, 200, 403, 403, 403)
expect("GET", "/staff/police/", 302, 403, 403, 200, 403, 403)
expect("GET", "/staff/police/search.csv", 302, 403, 403, 302, 403, 403)
expect("GET", "/staff/police/requests/", 302, 403, 403, 200, 403, 403)
expect("GET", "/staff/police/requests/{request}", 302, 403, 403, 200, 403, 403)
expect("POST", "/staff/police/requests/new", 302, 403, 403, 200, 403, 403)
expect("GET", "/staff/dispatch/", 302, 403, 403, 403, 200, 403)
expect("GET", "/staff/dispatch/lookup", 302, 403, 403, 403, 200, 403)
expect("GET", "/staff/dispatch/lookup/{lookup}", 302, 403, 403, 403, 200, 403)
expect("GET", "/staff/dispatch/sessions.json", 302, 403, 403, 403, 200, 403)
expect("POST", "/staff/dispatch/duty", 302, 403, 403, 403, 302, 403)
expect("GET", "/staff/dispatch/sessions/{session}", 302, 403, 403, 403, 200, 403)
expect("GET", "/staff/dispatch/sessions/{session}.json", 302, 403, 403, 403, 200, 403)
# The matrix dispatcher is off duty and answers nothing: refused with a message (302 back to
# the page), or the form again with its error (200).
expect("POST", "/staff/dispatch/sessions/{session}/claim", 302, 403, 403, 403, 302, 403)
expect("POST", "/staff/dispatch/sessions/{session}/quick-reply", 302, 403, 403, 403, 302, 403)
expect("POST", "/staff/dispatch/sessions/{session}/reply", 302, 403, 403, 403, 200, 403)
expect("POST", "/staff/dispatch/sessions/{session}/transfer", 302, 403, 403, 403, 200, 403)
expect("POST", "/staff/dispatch/sessions/{session}/close", 302, 403, 403, 403, 200, 403)
expect("GET", "/staff/admin/", 302, 403, 403, 403, 403, 200)
expect("GET", "/staff/admin/accounts", 302, 403, 403, 403, 403, 200)
expect("GET", "/staff/admin/accounts/new", 302, 403, 403, 403, 403, 200)
expect("GET", "/staff/admin/accounts/{target_user}", 302, 403, 403, 403, 403, 200)
expect("POST", "/staff/admin/accounts/{target_user}/role", 302, 403, 403, 403, 403, 302)
expect("POST", "/staff/admin/accounts/{target_user}/disable", 302, 403, 403, 403, 403, 302)
expect("POST", "/staff/admin/accounts/{target_user}/enable", 302, 403, 403, 403, 403, 302)
expect(
    "POST", "/staff/admin/accounts/{target_user}/second-factor/reset", 302, 403, 403, 403, 403, 302
)
expect("GET", "/staff/admin/tokens", 302, 403, 403, 403, 403, 200)
expect("POST", "/staff/admin/tokens/{token}/revoke", 302, 403, 403, 403, 403, 302)
expect("GET", "/staff/admin/audit", 302, 403, 403, 403, 403, 200)
expect("POST", "/staff/admin/audit/export", 302, 403, 403, 403, 403, 200)
expect("POST", "/staff/admin/audit/verify", 302, 403, 403, 403, 403, 302)
# Machine interfaces: signatures and tokens, not sessions.
expect("POST", "/sms/inbound", 403, 403, 403, 403, 403, 403)
expect("POST", "/sms/status", 403, 403, 403, 403, 403, 403)
expect("GET", "/api/v1/lookup", 401, 401, 401, 401, 401, 401)
# Development tools exist only outside production (the tests run as "testing").
expect("GET", "/dev/outbox", 200, 200, 200, 200, 200, 200)
expect("GET", "/dev/phone", 200, 200, 200, 200, 200, 200)


def _shape(path: str) -> str:
    """A path with its ids blanked, so a rule and the table's URLs can be compared."""
    return re.sub(r"\{\w+\}|<(?:int:)?\w+>", "*", path)


def _alternatives(rule: str) -> list[str]:
    """``<any(a, b):x>`` rules stand for one path per alternative."""
    match = re.search(r"<any\(([^)]*)\):\w+>", rule)
    if not match:
        return [rule]
    return [rule.replace(match.group(0), o.strip()) for o in match.group(1).split(",")]


def test_every_route_is_in_the_table(app):
    """A new route cannot slip past the matrix: each rule must appear in the table, for at
    least one of its methods (an ``any`` converter's rule, for one of its alternatives: the
    same view behind the same checks)."""
    listed = {_shape(path) for _, path in EXPECTED}
    missing = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and not any(_shape(path) in listed for path in _alternatives(rule.rule))
    ]
    assert missing == []


@pytest.fixture
def seed(app, sign_in_as, make_user) -> tuple[Seed, dict]:
    """The matrix's people (one per role, signed in) and the data their URLs point at."""
    from datetime import timedelta

    from webapp.admin import tokens
    from webapp.dispatch import lookup
    from webapp.dispatch.relay.texter import file_text, open_session
    from webapp.footage import services as footage
    from webapp.models.types import utcnow
    from webapp.profiles import services as profiles

    clients = {"anonymous": app.test_client()}
    accounts = {}
    for name in ROLES[1:]:
        clients[name], accounts[name] = sign_in_as(Role(name))
    other = make_user()
    target = make_user(Role.MODERATOR)
    address = {"street": "1 N State St", "zip_code": "60602"}
    system = {"camera_count": 1, "views": "street", "recording": "motion", "retention_days": 30}
    moderator, at = accounts["moderator"].id, (41.8826, -87.6278)
    registration_ids = [
        registered(app, owner_id, address=address, system=system, approved_by=moderator, at=at)
        for owner_id in (accounts["resident"].id, other.id)
    ]
    with app.test_request_context():
        resident = db.session.get(User, accounts["resident"].id)
        profiles.save_home(resident, {"street": "1 N State St", "city": "Chicago", "state": "IL",
                                      "zip_code": "60602"})  # fmt: skip
        profiles.set_sharing(resident, share_with_911=True, emergency_planning=False)
        profiles.confirm(resident)
        member = profiles.save_item(resident, "members", {"name": "Ada"}, None)
        phone = profiles.add_phone(resident, "+13125550999")
        registrations = [db.session.get(CameraRegistration, i) for i in registration_ids]
        officer = db.session.get(User, accounts["officer"].id)
        now = utcnow()
        request = footage.create_request(
            officer, case_number="2026-000123", latitude=41.8826, longitude=-87.6278,
            registration_ids=[registrations[0].id], window_start=now - timedelta(hours=2),
            window_end=now - timedelta(hours=1), description="Car broken into",
        )  # fmt: skip
        dispatcher = db.session.get(User, accounts["dispatcher"].id)
        found = lookup.lookup(resident.phone, "INC-1", dispatcher=dispatcher, channel="web")
        emergency = open_session("+13125550998", user_id=None, locale="en", at=now)
        file_text(emergency, "911 fire", None, at=now)
        db.session.commit()
        admin = db.session.get(User, accounts["admin"].id)
        token_row, _raw = tokens.create_token(admin, agency="City 911", name="CAD")
        data = Seed(
            registration=registrations[0].id,
            other_registration=registrations[1].id,
            system=registrations[0].systems[0].id,
            member=member.id,
            phone=phone.id,
            recipient=request.recipients[0].id,
            request=request.id,
            lookup=found.id,
            session=emergency.id,
            token=token_row.id,
            target_user=target.id,
            number=db.session.get(type(registrations[0]), registrations[0].id).number,
        )
    return data, clients


def _status(client, method: str, path: str) -> int:
    if method == "GET":
        with client.get(path) as response:
            return response.status_code
    # Any page with a form carries the session's token (signed in: the sign-out button).
    page = client.get("/terms").get_data(as_text=True)
    page += client.get("/account/reset").get_data(as_text=True)
    match = CSRF_RE.search(page)
    token = match.group(1) if match else ""
    with client.post(path, data={"csrf_token": token}) as response:
        return response.status_code


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(seed, role):
    data, clients = seed
    index = ROLES.index(role)
    client = clients[role]
    actual, expected = {}, {}
    # Routes that change the requester's own state (sign-out) go last.
    for method, path in sorted(EXPECTED, key=lambda key: key[1] == "/account/sign-out"):
        url = path.format(**vars(data))
        actual[(method, path)] = _status(client, method, url)
        expected[(method, path)] = EXPECTED[(method, path)][index]
    wrong = {key: (actual[key], expected[key]) for key in actual if actual[key] != expected[key]}
    assert wrong == {}, f"{role}: (actual, expected) {wrong}"


def test_the_matrix_users_are_who_they_claim(seed, app):
    with app.app_context():
        roles = set(db.session.scalars(select(User.role)))
    assert {r.value for r in Role} <= roles
