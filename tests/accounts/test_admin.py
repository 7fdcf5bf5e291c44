"""The administration console: staff accounts, dispatch API tokens, the audit log, and what
an admin can never see."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from sqlalchemy import select, text

from webapp.admin.audit_log import CSV_COLUMNS
from webapp.admin.tokens import authenticate_token, create_token
from webapp.audit.services import record
from webapp.extensions import db
from webapp.models import (
    ApiToken,
    AuditEvent,
    HouseholdMember,
    RecoveryCode,
    Role,
    User,
    UserSession,
)
from webapp.models.types import utcnow

from ..support.database import guards_lifted, rows
from ..support.profiles import HOME, MEMBER, add, fill_home
from ..support.web import csrf_token, new_phone, sign_in, submit, texts_to

ADMIN = "/staff/admin"
TEMPORARY = "a temporary passphrase 42"


@pytest.fixture
def admin(sign_in_as):
    return sign_in_as(Role.ADMIN)


def events(app, action: str) -> list[AuditEvent]:
    return rows(app, AuditEvent, AuditEvent.action == action)


def user_row(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def account_action(client, user_id: int, action: str, data: dict | None = None):
    """POST one of the account page's forms and follow back to the account page."""
    return submit(client, f"{ADMIN}/accounts/{user_id}/{action}", data or {},
                  page=f"{ADMIN}/accounts/{user_id}", follow_redirects=True)  # fmt: skip


def is_sent_to_sign_in(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith(
        "/account/sign-in"
    )


def record_events(app, *specs: dict) -> list[int]:
    """Append audit events directly, as other parts of the app would; returns their ids."""
    with app.app_context():
        ids = []
        for spec in specs:
            spec = dict(spec)
            actor_id = spec.pop("actor_id", None)
            actor = db.session.get(User, actor_id) if actor_id else None
            ids.append(record(spec.pop("action"), actor=actor, **spec).id)
        db.session.commit()
        return ids


# --- the console ---------------------------------------------------------------------------


def test_the_console_leads_to_its_three_tools(admin):
    client, _ = admin
    page = client.get(f"{ADMIN}/").get_data(as_text=True)
    for path in ("/accounts", "/tokens", "/audit"):
        assert f'href="{ADMIN}{path}"' in page


# --- staff accounts ------------------------------------------------------------------------


def test_an_admin_creates_a_staff_account_that_can_sign_in(app, admin):
    client, me = admin
    response = submit(
        client,
        f"{ADMIN}/accounts/new",
        {"phone": "(312) 555-0177", "role": "dispatcher", "password": TEMPORARY, "locale": "es"},
    )
    assert response.status_code == 302
    user_id = int(re.fullmatch(rf"{ADMIN}/accounts/(\d+)", response.headers["Location"])[1])
    user = user_row(app, user_id)
    assert (user.phone, user.role, user.locale) == ("+13125550177", "dispatcher", "es")
    assert user.phone_verified and TEMPORARY not in user.password_hash
    (created,) = [e for e in events(app, "staff.created") if e.actor_id == me.id]
    assert (created.actor_id, created.actor_role, created.subject_id) == (me.id, "admin", user_id)

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The account is created." in page and TEMPORARY not in page
    assert "Dispatcher" in page and "Español" in page and "+1 312-555-0177" in page

    signed_in = sign_in(app.test_client(), "+13125550177", TEMPORARY)
    assert signed_in.status_code == 302 and not is_sent_to_sign_in(signed_in)
    for event in events(app, "staff.created") + events(app, "account.viewed"):
        assert "3125550177" not in " ".join(str(v) for v in vars(event).values())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "12"}, "Enter a phone number"),
        ({"password": "password12"}, "This password is too common"),
        ({"password": "short"}, "must be 10 to 128 characters"),
        ({"role": "resident"}, "Not a valid choice"),
        ({"phone": "TAKEN"}, "An account already uses this phone number."),
    ],
)
def test_creating_an_account_refuses_bad_input(app, admin, make_user, changes, message):
    client, me = admin
    data = {"phone": new_phone(), "role": "officer", "password": TEMPORARY, "locale": "en",
            **changes}  # fmt: skip
    if data["phone"] == "TAKEN":
        data["phone"] = make_user().phone
    response = submit(client, f"{ADMIN}/accounts/new", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page and "There is a problem" in page
    assert [e for e in events(app, "staff.created") if e.actor_id == me.id] == []


def test_the_account_list_filters_by_role_and_phone(app, admin, make_user):
    client, me = admin
    dispatcher = make_user(Role.DISPATCHER)
    officer = make_user(Role.OFFICER)
    resident = make_user(Role.RESIDENT)

    def listed(query=None):
        page = client.get(f"{ADMIN}/accounts", query_string=query).get_data(as_text=True)
        ids = {int(i) for i in re.findall(rf'href="{ADMIN}/accounts/(\d+)"', page)}
        return ids, page

    assert listed()[0] == {me.id, dispatcher.id, officer.id}  # staff by default
    assert listed({"role": "officer"})[0] == {officer.id}
    assert listed({"role": "resident"})[0] == {resident.id}
    everyone, page = listed({"role": "all"})
    assert everyone == {me.id, dispatcher.id, officer.id, resident.id}
    # A resident's number stays masked in the list; staff numbers are shown.
    assert resident.phone[2:] not in page.replace("-", "").replace(" ", "")
    assert "•••• " + resident.phone[-4:] in page

    national = f"({dispatcher.phone[2:5]}) {dispatcher.phone[5:8]}-{dispatcher.phone[8:]}"
    assert listed({"role": "all", "phone": national})[0] == {dispatcher.id}
    assert listed({"role": "all", "phone": officer.phone[-7:]})[0] == {officer.id}
    assert listed({"role": "all", "phone": "no digits"})[0] == set()


def test_opening_an_account_is_audited_and_shows_its_details(app, admin, make_user):
    client, me = admin
    officer = make_user(Role.OFFICER)
    page = client.get(f"{ADMIN}/accounts/{officer.id}").get_data(as_text=True)
    assert "Police officer" in page and officer.phone[-4:] in page
    (viewed,) = events(app, "account.viewed")
    assert (viewed.actor_id, viewed.subject_type, viewed.subject_id) == (me.id, "user", officer.id)
    assert client.get(f"{ADMIN}/accounts/999999").status_code == 404


def test_changing_a_role_applies_at_once(app, admin, sign_in_as):
    client, me = admin
    staff_client, staff = sign_in_as(Role.MODERATOR)
    assert staff_client.get("/staff/moderation/").status_code == 200

    page = account_action(client, staff.id, "role", {"role": "officer"}).get_data(as_text=True)

    assert "The role is changed." in page
    assert user_row(app, staff.id).role == "officer"
    (changed,) = events(app, "role.changed")
    assert (changed.actor_id, changed.subject_id, changed.reason) == (
        me.id,
        staff.id,
        "moderator->officer",
    )
    assert is_sent_to_sign_in(staff_client.get("/staff/moderation/"))  # its session is over
    page = account_action(client, staff.id, "role", {"role": "officer"}).get_data(as_text=True)
    assert "The account already has this role." in page


def test_an_admin_cannot_demote_or_disable_themselves(app, admin):
    client, me = admin
    page = account_action(client, me.id, "role", {"role": "dispatcher"}).get_data(as_text=True)
    assert "You cannot take away your own administrator role." in page
    page = account_action(client, me.id, "disable").get_data(as_text=True)
    assert "You cannot disable your own account." in page

    user = user_row(app, me.id)
    assert user.role == "admin" and user.disabled_at is None
    assert events(app, "role.changed") == [] and events(app, "account.disabled") == []
    assert client.get(f"{ADMIN}/").status_code == 200  # still signed in, still an admin


def test_resetting_a_lost_second_factor(app, admin, sign_in_as, make_user):
    """A staff member lost their phone and their recovery codes: the admin resets the second
    factor; the sessions end, the holder is told by text, and sets up a new app at the next
    sign-in (password first). Refused for the admin's own account and where there is none."""
    client, me = admin
    staff_client, staff = sign_in_as(Role.DISPATCHER, locale="es")
    assert staff_client.get("/staff/dispatch/").status_code == 200
    assert "Reset two-step verification" in client.get(f"{ADMIN}/accounts/{staff.id}").get_data(
        as_text=True
    )

    page = account_action(client, staff.id, "second-factor/reset").get_data(as_text=True)

    assert "Two-step verification is reset" in page
    user = user_row(app, staff.id)
    assert (user.totp_secret, user.totp_enabled_at, user.totp_last_step) == (None, None, None)
    with app.app_context():
        assert db.session.scalar(
            select(sa.func.count()).select_from(RecoveryCode)
            .where(RecoveryCode.user_id == staff.id)
        ) == 0  # fmt: skip
    (reset,) = events(app, "second_factor.reset")
    assert (reset.actor_id, reset.subject_id) == (me.id, staff.id)
    assert [(t.template, t.locale) for t in texts_to(app, staff.phone)][-1] == (
        "second_factor_reset",
        "es",
    )
    assert is_sent_to_sign_in(staff_client.get("/staff/dispatch/"))  # signed out everywhere
    # The old app's codes are worth nothing now: the next sign-in sets up a new app.
    again = app.test_client()
    sign_in(again, staff.phone)
    response = again.get("/staff/dispatch/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/second-factor/setup")

    page = account_action(client, staff.id, "second-factor/reset").get_data(as_text=True)
    assert "This account has no two-step verification to reset." in page
    page = account_action(client, me.id, "second-factor/reset").get_data(as_text=True)
    assert "You cannot reset your own two-step verification." in page
    assert user_row(app, me.id).totp_enabled_at is not None
    assert len(events(app, "second_factor.reset")) == 1


def test_disabling_ends_sessions_at_once_and_enabling_lets_the_holder_back(app, admin, sign_in_as):
    client, me = admin
    staff_client, staff = sign_in_as(Role.MODERATOR)
    assert staff_client.get("/staff/moderation/").status_code == 200

    page = account_action(client, staff.id, "disable").get_data(as_text=True)

    assert "The account is disabled" in page and "Enable the account" in page
    assert is_sent_to_sign_in(staff_client.get("/staff/moderation/"))
    with app.app_context():
        assert db.session.get(User, staff.id).disabled_at is not None
        sessions = db.session.scalars(
            select(UserSession).where(UserSession.user_id == staff.id)
        ).all()
        assert sessions and all(s.revoked_at is not None for s in sessions)
    refused = sign_in(app.test_client(), staff.phone)
    assert refused.status_code == 200 and "This account is disabled." in refused.get_data(
        as_text=True
    )
    (disabled,) = events(app, "account.disabled")
    assert (disabled.actor_id, disabled.subject_id) == (me.id, staff.id)

    page = account_action(client, staff.id, "enable").get_data(as_text=True)

    assert "The account is enabled." in page and "Disable the account" in page
    assert user_row(app, staff.id).disabled_at is None
    (enabled,) = events(app, "account.enabled")
    assert (enabled.actor_id, enabled.subject_id) == (me.id, staff.id)
    back = sign_in(app.test_client(), staff.phone)
    assert back.status_code == 302 and not is_sent_to_sign_in(back)
    assert is_sent_to_sign_in(staff_client.get("/staff/moderation/"))  # old session stays over


# --- dispatch API tokens -------------------------------------------------------------------

TOKEN_RE = re.compile(r'<code class="token" dir="ltr">([^<]+)</code>')


def create_via_web(client, agency="Chicago OEMC", name="CAD primary") -> str:
    response = submit(client, f"{ADMIN}/tokens", {"agency": agency, "name": name})
    assert response.status_code == 200
    return TOKEN_RE.search(response.get_data(as_text=True))[1]


def everything_stored(app) -> str:
    """Every value in every table, as one string."""
    with app.app_context(), db.engine.connect() as connection:
        return " ".join(
            str(value)
            for table in db.metadata.sorted_tables
            for row in connection.execute(sa.select(table))
            for value in row
        )


def test_a_new_token_is_shown_once_and_stored_hashed(app, admin):
    client, me = admin
    raw = create_via_web(client)

    assert len(raw) == 43  # secrets.token_urlsafe(32)
    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert (token.prefix, token.agency, token.name) == (raw[:8], "Chicago OEMC", "CAD primary")
        assert token.created_by_id == me.id and token.revoked_at is None
        token_id = token.id
    assert raw not in everything_stored(app)
    listing = client.get(f"{ADMIN}/tokens").get_data(as_text=True)
    assert raw not in listing and raw[:8] in listing and "Chicago OEMC" in listing
    (created,) = events(app, "api_token.created")
    assert (created.actor_id, created.subject_type, created.subject_id) == (
        me.id,
        "api_token",
        token_id,
    )


def test_token_form_errors(admin):
    client, _ = admin
    response = submit(client, f"{ADMIN}/tokens", {"agency": "", "name": "x" * 81})
    page = response.get_data(as_text=True)
    assert "Enter the agency." in page and "Use 80 characters or fewer." in page
    assert not TOKEN_RE.search(page)


def test_authenticate_token_accepts_only_a_live_token(app, admin):
    client, me = admin
    raw = create_via_web(client)
    with app.app_context():
        assert db.session.scalars(select(ApiToken)).one().last_used_at is None
        for wrong in (None, "", raw[:-1], raw[:-1] + ("A" if raw[-1] != "A" else "B"),
                      raw + "x", "é" + raw[1:], raw * 4):  # fmt: skip
            assert authenticate_token(wrong) is None
        assert db.session.scalars(select(ApiToken)).one().last_used_at is None

        token = authenticate_token(raw)
        assert token is not None and token.agency == "Chicago OEMC"
        first_use = token.last_used_at
        assert first_use is not None
        token_id = token.id
    later = utcnow() + timedelta(hours=1)
    with time_machine.travel(later, tick=False), app.app_context():
        assert authenticate_token(raw).last_used_at == later
    assert "Never" not in client.get(f"{ADMIN}/tokens").get_data(as_text=True)

    response = submit(client, f"{ADMIN}/tokens/{token_id}/revoke", {}, page=f"{ADMIN}/tokens",
                      follow_redirects=True)  # fmt: skip
    assert "The token is revoked." in response.get_data(as_text=True)
    with app.app_context():
        assert authenticate_token(raw) is None
        assert db.session.get(ApiToken, token_id).revoked_at is not None
    (revoked,) = events(app, "api_token.revoked")
    assert (revoked.actor_id, revoked.subject_id) == (me.id, token_id)


def test_tokens_tell_apart_and_revoking_one_leaves_the_other(app, admin):
    client, me = admin
    with app.app_context():
        actor = db.session.get(User, me.id)
        (first, first_raw), (second, second_raw) = (
            create_token(actor, agency="Cook County", name=name) for name in ("a", "b")
        )
        assert first.prefix != second.prefix and first.token_hash != second.token_hash
        first_id = first.id
    submit(client, f"{ADMIN}/tokens/{first_id}/revoke", {}, page=f"{ADMIN}/tokens")
    with app.app_context():
        assert authenticate_token(first_raw) is None
        assert authenticate_token(second_raw) is not None
    assert submit(client, f"{ADMIN}/tokens/99999/revoke", {}, page=f"{ADMIN}/tokens"
                  ).status_code == 404  # fmt: skip


# --- the audit log -------------------------------------------------------------------------

ROW_RE = re.compile(r"<tr>\s*<td>(\d+)</td>")


def listed_ids(client, query: str = "") -> list[int]:
    page = client.get(f"{ADMIN}/audit?{query}").get_data(as_text=True)
    return [int(i) for i in ROW_RE.findall(page)]


def test_the_audit_log_is_newest_first_50_a_page(app, admin):
    client, _ = admin
    ids = record_events(app, *({"action": "test.paging", "subject_type": "thing",
                                "subject_id": i} for i in range(60)))  # fmt: skip
    newest_first = sorted(ids, reverse=True)

    page = client.get(f"{ADMIN}/audit?action=test.").get_data(as_text=True)
    assert "60 events" in page and "Page 1 of 2" in page
    assert f'href="{ADMIN}/audit?page=2&amp;action=test."' in page
    assert listed_ids(client, "action=test.") == newest_first[:50]
    assert listed_ids(client, "action=test.&page=2") == newest_first[50:]
    assert listed_ids(client, "action=test.&page=99") == newest_first[50:]  # the last page
    assert listed_ids(client, "page=abc")[:1] == [max(listed_ids(client))]


def test_the_audit_log_filters(app, admin, make_user):
    client, me = admin
    other = make_user(Role.MODERATOR)
    ids = {}
    for name, when, spec in [
        ("a", datetime(2026, 1, 10, 0, 0, tzinfo=UTC), {"actor_id": me.id, "outcome": "failure"}),
        ("b", datetime(2026, 1, 20, 23, 59, tzinfo=UTC), {"actor_id": other.id}),
        ("c", datetime(2026, 2, 1, 12, 0, tzinfo=UTC), {"subject_type": "user",
                                                         "subject_id": other.id}),
    ]:  # fmt: skip
        with time_machine.travel(when, tick=False):
            (ids[name],) = record_events(app, {"action": f"filter.{name}", **spec})
    (ids["x"],) = record_events(app, {"action": "xfilter.a"})  # "filter." is not a prefix here

    def found(query):
        return {n for n, i in ids.items() if i in listed_ids(client, query)}

    assert found("action=filter.") == {"a", "b", "c"}
    assert found("action=filter.a") == {"a"}
    assert found(f"action=filter.&actor_id={other.id}") == {"b"}
    assert found("action=filter.&outcome=failure") == {"a"}
    assert found(f"subject_type=user&subject_id={other.id}&action=filter") == {"c"}
    assert found("action=filter.&since=2026-01-10&until=2026-01-20") == {"a", "b"}
    assert found("action=filter.&since=2026-01-11") == {"b", "c"}
    assert found("action=filter.&until=2026-01-19") == {"a"}
    assert found("action=filter%25") == set()  # a LIKE wildcard is just a character here

    response = client.get(f"{ADMIN}/audit?actor_id=abc&since=2026-02-02&until=2026-02-01")
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert "The end date must be on or after the start date." in page
    assert "Not a valid integer value." in page and "whole number above 0" not in page
    assert "Enter a whole number above 0." in client.get(f"{ADMIN}/audit?subject_id=0").get_data(
        as_text=True
    )


def test_the_audit_log_shows_ids_not_phone_numbers(app, admin, make_user):
    client, _ = admin
    staff = make_user(Role.OFFICER)
    account_action(client, staff.id, "disable")
    page = client.get(f"{ADMIN}/audit").get_data(as_text=True)
    assert "account.disabled" in page
    assert staff.phone not in page and staff.phone[2:] not in page


def exported(client, data: dict):
    response = submit(client, f"{ADMIN}/audit/export", data, page=f"{ADMIN}/audit")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-log-')
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_csv_export_is_filtered_injection_safe_and_audited(app, admin):
    client, me = admin
    record_events(
        app,
        {"action": "csv.plain", "reason": "nothing special", "subject_type": "user",
         "subject_id": 7},
        {"action": "csv.formula", "reason": '=HYPERLINK("http://evil.example","x")'},
        {"action": "csv.plus", "reason": "+1+1", "agency": "@SUM(A1)"},
        {"action": "csv.minus", "reason": "-2+3"},
        {"action": "csv.tab", "reason": "\t=1"},
    )  # fmt: skip
    record_events(app, {"action": "other.thing"})

    rows = exported(client, {"action": "csv."})

    assert rows[0] == list(CSV_COLUMNS)
    body = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert [r["action"] for r in body] == ["csv.plain", "csv.formula", "csv.plus", "csv.minus",
                                           "csv.tab"]  # fmt: skip
    by_action = {r["action"]: r for r in body}
    assert by_action["csv.plain"]["reason"] == "nothing special"
    assert by_action["csv.plain"]["subject_id"] == "7"
    assert by_action["csv.formula"]["reason"] == '\'=HYPERLINK("http://evil.example","x")'
    assert by_action["csv.plus"]["reason"] == "'+1+1"
    assert by_action["csv.plus"]["agency"] == "'@SUM(A1)"
    assert by_action["csv.minus"]["reason"] == "'-2+3"
    assert by_action["csv.tab"]["reason"] == "'\t=1"
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    (export,) = events(app, "audit.exported")
    assert (export.actor_id, export.actor_role, export.reason) == (me.id, "admin", "action=csv.")
    assert len(by_action["csv.plain"]["hash"]) == 64

    everything = exported(client, {})  # unfiltered: includes the first export's own row
    assert "audit.exported" in [row[CSV_COLUMNS.index("action")] for row in everything]
    assert [e.reason for e in events(app, "audit.exported")] == ["action=csv.", "all"]


def test_csv_export_needs_a_valid_form(app, admin):
    client, _ = admin
    token = csrf_token(client, f"{ADMIN}/audit")
    assert client.post(f"{ADMIN}/audit/export", data={}).status_code == 400  # no CSRF token
    response = client.post(f"{ADMIN}/audit/export", data={"csrf_token": token, "actor_id": "x"})
    assert response.status_code == 302 and response.headers["Location"].startswith(f"{ADMIN}/audit")
    assert events(app, "audit.exported") == []


def test_verify_reports_an_intact_log(app, admin):
    client, me = admin
    response = submit(client, f"{ADMIN}/audit/verify", {}, page=f"{ADMIN}/audit",
                      follow_redirects=True)  # fmt: skip
    assert re.search(
        r"The audit log is intact: \d+ events checked.", response.get_data(as_text=True)
    )
    (verified,) = events(app, "audit.verified")
    assert (verified.actor_id, verified.outcome) == (me.id, "success")


def test_verify_finds_the_first_tampered_row(app, admin):
    client, _ = admin
    record_events(app, *({"action": "test.tamper"} for _ in range(3)))
    with guards_lifted(app), db.engine.begin() as connection:
        second = connection.scalar(text("SELECT id FROM audit_events ORDER BY id LIMIT 1 OFFSET 1"))
        connection.execute(
            text("UPDATE audit_events SET reason = 'nothing to see' WHERE id = :id"),
            {"id": second},
        )

    response = submit(client, f"{ADMIN}/audit/verify", {}, page=f"{ADMIN}/audit",
                      follow_redirects=True)  # fmt: skip

    assert f"The audit log is broken at event {second}." in response.get_data(as_text=True)
    (verified,) = events(app, "audit.verified")
    assert (verified.outcome, verified.reason) == ("failure", f"first bad event {second}")


# --- who may come in, and what they never see ----------------------------------------------

ROUTES = [
    ("GET", "/"),
    ("GET", "/accounts"),
    ("GET", "/accounts/new"),
    ("POST", "/accounts/new"),
    ("GET", "/accounts/{id}"),
    ("POST", "/accounts/{id}/role"),
    ("POST", "/accounts/{id}/disable"),
    ("POST", "/accounts/{id}/enable"),
    ("POST", "/accounts/{id}/second-factor/reset"),
    ("GET", "/tokens"),
    ("POST", "/tokens"),
    ("POST", "/tokens/{id}/revoke"),
    ("GET", "/audit"),
    ("POST", "/audit/export"),
    ("POST", "/audit/verify"),
]


def test_the_route_list_covers_every_admin_route(app):
    rules = {
        (method, re.sub(r"<int:\w+>", "{id}", rule.rule.removeprefix(ADMIN)))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert rules == set(ROUTES)


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_every_admin_route_refuses_other_roles(app, sign_in_as, make_user, role):
    client, _ = sign_in_as(role)
    victim = make_user(Role.DISPATCHER)
    with app.app_context():
        actor = db.session.get(User, victim.id)
        token, raw = create_token(actor, agency="Cook County", name="CAD")
        token_id = token.id
    token_ = csrf_token(client, "/")
    before = len(events(app, "account.viewed"))
    for method, path in ROUTES:
        url = ADMIN + path.format(id=victim.id if "accounts" in path else token_id)
        data = {"csrf_token": token_, "role": "admin", "agency": "x", "name": "y",
                "phone": new_phone(), "password": TEMPORARY, "locale": "en"}  # fmt: skip
        response = client.get(url) if method == "GET" else client.post(url, data=data)
        assert response.status_code == 403, (method, url)
    assert user_row(app, victim.id).role == "dispatcher"
    assert user_row(app, victim.id).disabled_at is None
    with app.app_context():
        assert authenticate_token(raw) is not None
        assert db.session.scalar(select(sa.func.count()).select_from(ApiToken)) == 1
    assert len(events(app, "account.viewed")) == before


def test_anonymous_visitors_are_sent_to_sign_in(app, client, make_user):
    token = csrf_token(client, "/account/sign-in")
    for method, path in ROUTES:
        url = ADMIN + path.format(id=1)
        response = client.get(url) if method == "GET" else client.post(url, data={
            "csrf_token": token})  # fmt: skip
        assert is_sent_to_sign_in(response), (method, url)


def test_an_admin_never_sees_a_safety_profile(app, admin, sign_in_as):
    client, _ = admin
    resident_client, resident = sign_in_as()
    fill_home(resident_client)
    add(resident_client, "members", MEMBER)
    with app.app_context():
        member_id = db.session.scalar(select(HouseholdMember.id))
    secrets_ = [HOME["street"], HOME["access_notes"], HOME["hazards"], MEMBER["name"],
                MEMBER["medications"], MEMBER["medical_conditions"], resident.phone]  # fmt: skip

    own = client.get("/profile/")  # the admin's own (empty) profile, nobody else's
    assert own.status_code == 200
    assert not any(s in own.get_data(as_text=True) for s in secrets_)
    assert client.get(f"/profile/members/{member_id}").status_code == 404

    pages = [f"{ADMIN}/", f"{ADMIN}/accounts?role=all", f"{ADMIN}/accounts?role=resident",
             f"{ADMIN}/accounts/{resident.id}", f"{ADMIN}/audit", f"{ADMIN}/tokens",
             f"{ADMIN}/audit?subject_type=user&subject_id={resident.id}"]  # fmt: skip
    for path in pages:
        page = client.get(path).get_data(as_text=True)
        assert not any(s in page for s in secrets_[:-1]), path
        for forbidden in ('href="/profile', 'href="/cameras', 'href="/account/data',
                          'href="/staff/moderation', 'href="/staff/police'):  # fmt: skip
            assert forbidden not in page, (path, forbidden)
    # The account page shows the number itself (its opening is audited), never the profile.
    assert "Safety profile" not in client.get(f"{ADMIN}/accounts/{resident.id}").get_data(
        as_text=True
    )
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            assert "profile" not in rule.rule and "camera" not in rule.rule
