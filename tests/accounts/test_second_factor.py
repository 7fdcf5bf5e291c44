"""The staff second factor: authenticator app set-up with a QR code, single-use codes,
recovery codes, the shared lock-out, and staff session time-outs (with time-machine)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import segno
import time_machine
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEvent, RecoveryCode, Role, User, UserSession
from webapp.models.types import utcnow

from ..support.web import SECOND_FACTOR, SETUP, TOTP_SECRET_RE, sign_in, submit

STAFF = [r for r in Role if r.is_staff]
CONSOLES = {
    Role.MODERATOR: "/staff/moderation/",
    Role.OFFICER: "/staff/police/",
    Role.DISPATCHER: "/staff/dispatch/",
    Role.ADMIN: "/staff/admin/",
}
RECOVERY_CODES = "/account/second-factor/recovery-codes"
# Five seconds into a 30-second time step, so "30 seconds later" is always the next step.
T0 = datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC)
LOCKED = "This account is locked for 10 minutes"
WRONG = "The code is not right."
REUSED = "This code was already used."


def at(seconds: float):
    """The clock frozen ``seconds`` after T0."""
    return time_machine.travel(T0 + timedelta(seconds=seconds), tick=False)


def code_at(secret: str, seconds: float) -> str:
    return pyotp.TOTP(secret).at(T0 + timedelta(seconds=seconds))


def wrong_code(secret: str, seconds: float) -> str:
    """A 6-digit code the app does not show around that moment."""
    totp = pyotp.TOTP(secret)
    when = T0 + timedelta(seconds=seconds)
    near = {totp.at(when, counter_offset=i) for i in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222") if c not in near)


def enter(client, code: str, next_url: str | None = None):
    path = SECOND_FACTOR + (f"?next={next_url}" if next_url else "")
    return submit(client, path, {"code": code})


def new_session(app, user):
    """Another browser signing in with the password: it still owes the second factor."""
    client = app.test_client()
    response = sign_in(client, user.phone)
    assert response.status_code == 302
    return client, response


def actions(app) -> list[tuple[str, str, str | None]]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [(e.action, e.outcome, e.reason) for e in rows]


def qr_path(svg: str) -> str:
    return re.search(r'class="qrline"[^>]*\sd="([^"]+)"', svg).group(1)


# --- enrolment -----------------------------------------------------------------------------


def test_set_up_shows_a_qr_code_of_the_key_and_the_key_itself(app, make_user):
    moderator = make_user(Role.MODERATOR)
    client = app.test_client()
    response = sign_in(client, moderator.phone)
    assert response.headers["Location"].startswith(SETUP)

    page = client.get(SETUP).get_data(as_text=True)
    shown = TOTP_SECRET_RE.search(page).group(1)
    secret = shown.replace(" ", "")
    assert re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{4}", shown)  # grouped for typing by hand
    with app.app_context():
        user = db.session.get(User, moderator.id)
        assert user.totp_secret == secret and user.totp_enabled_at is None
        uri = pyotp.TOTP(secret).provisioning_uri(
            name=moderator.phone, issuer_name=app.config["PROGRAM_NAME"]
        )
    # The QR code drawn on the page encodes that key for the app.
    assert qr_path(page) == qr_path(segno.make(uri, error="m").svg_inline())
    assert "<title>QR code for your authenticator app</title>" in page
    assert "<script" not in page
    # Showing the page again keeps the key, so an app that already scanned it still works.
    assert TOTP_SECRET_RE.search(client.get(SETUP).get_data(as_text=True)).group(1) == shown
    assert [a for a, *_ in actions(app)].count("second_factor.enrolment_started") == 1


def test_a_wrong_code_is_refused_and_the_right_one_turns_it_on_with_recovery_codes(app, make_user):
    moderator = make_user(Role.MODERATOR)
    with at(0):
        client, _ = new_session(app, moderator)
        secret = TOTP_SECRET_RE.search(client.get(SETUP).get_data(as_text=True))[1]
        secret = secret.replace(" ", "")

        refused = submit(client, SETUP, {"code": wrong_code(secret, 0)}).get_data(as_text=True)
        assert WRONG in refused and 'aria-invalid="true"' in refused
        assert client.get("/staff/moderation/").status_code == 302

        shown = submit(client, SETUP, {"code": code_at(secret, 0)}).get_data(as_text=True)
        codes = re.findall(r"<code>([2-9A-Z]{5}-[2-9A-Z]{5})</code>", shown)
        assert len(set(codes)) == 10
        assert "This is the only time these codes are shown." in shown

        # This session has passed the second factor; the codes are never shown again.
        assert client.get("/staff/moderation/").status_code == 200
        assert client.get(SETUP).status_code == 302
        again = client.get(RECOVERY_CODES).get_data(as_text=True)
        assert not any(code in again for code in codes)
        assert "You have 10 unused recovery codes." in again

    with app.app_context():
        user = db.session.get(User, moderator.id)
        assert user.totp_enabled_at == T0
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert len(stored) == 10
        assert not any(c.replace("-", "") in h or c in h for c in codes for h in stored)
    events = actions(app)
    assert ("second_factor.enrolment", "failure", "wrong code") in events
    assert ("second_factor.enabled", "success", None) in events
    # The audit log never holds a key or a code.
    reasons = " ".join(r for *_, r in events if r)
    assert secret not in reasons and not any(c in reasons for c in codes)


@pytest.mark.parametrize("role", STAFF)
def test_staff_pages_are_unreachable_before_set_up(app, make_user, role):
    user = make_user(role)
    client, response = new_session(app, user)
    assert response.headers["Location"].startswith(SETUP)
    for path in ["/staff/", CONSOLES[role]]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith(SETUP + "?next=")
    assert client.get(SECOND_FACTOR).headers["Location"].startswith(SETUP)


@pytest.mark.parametrize("role", STAFF)
def test_staff_pages_are_unreachable_before_the_code_of_each_session(app, sign_in_as, role):
    with at(0):
        _, user = sign_in_as(role)
    with at(30):
        client, response = new_session(app, user)
        assert response.headers["Location"] == SECOND_FACTOR
        for path in ["/staff/", CONSOLES[role], RECOVERY_CODES]:
            response = client.get(path)
            assert response.status_code == 302, path
            assert response.headers["Location"].startswith(SECOND_FACTOR + "?next=")
        assert client.get(SECOND_FACTOR).status_code == 200

        # The code sends the person on to where they were going.
        next_url = client.get(CONSOLES[role]).headers["Location"].split("next=")[1]
        response = enter(client, code_at(user.totp_secret, 30), next_url)
        assert response.headers["Location"] == CONSOLES[role]
        assert client.get(CONSOLES[role]).status_code == 200
    assert ("second_factor", "success", "authenticator app") in actions(app)


def test_signing_in_with_a_next_page_leads_there_after_the_code(app, sign_in_as):
    with at(0):
        _, user = sign_in_as(Role.MODERATOR)
    with at(30):
        client = app.test_client()
        response = submit(
            client,
            "/account/sign-in?next=/staff/moderation/",
            {"phone": user.phone, "password": user.password},
            page="/account/sign-in",
        )
        assert response.headers["Location"] == SECOND_FACTOR + "?next=/staff/moderation/"
        response = enter(client, code_at(user.totp_secret, 30), "/staff/moderation/")
        assert response.headers["Location"] == "/staff/moderation/"


def test_residents_have_no_second_factor(app, resident):
    client, _ = resident
    assert client.get("/account/").status_code == 200
    for path in (SETUP, SECOND_FACTOR, RECOVERY_CODES):
        assert client.get(path).status_code == 403, path


# --- codes ---------------------------------------------------------------------------------


def test_a_used_code_is_refused_even_in_a_new_session(app, sign_in_as):
    with at(0):
        _, user = sign_in_as(Role.MODERATOR)  # set-up used the code of this time step
        client, _ = new_session(app, user)
        page = enter(client, code_at(user.totp_secret, 0)).get_data(as_text=True)
        assert REUSED in page
        assert client.get("/staff/moderation/").status_code == 302
    with at(30):
        assert enter(client, code_at(user.totp_secret, 30)).status_code == 302
        assert client.get("/staff/moderation/").status_code == 200
        # ...and that one cannot be used again either, from a third browser.
        third, _ = new_session(app, user)
        assert REUSED in enter(third, code_at(user.totp_secret, 30)).get_data(as_text=True)
    assert ("second_factor", "failure", "code reused") in actions(app)


def test_a_code_from_a_step_either_side_is_accepted_but_no_older(app, sign_in_as):
    with at(0):
        _, user = sign_in_as(Role.MODERATOR)
    with at(60):  # the app's clock runs 30 seconds late: accepted
        client, _ = new_session(app, user)
        assert WRONG in enter(client, code_at(user.totp_secret, -30)).get_data(as_text=True)
        assert enter(client, code_at(user.totp_secret, 30)).status_code == 302
    with at(120):  # ...or 30 seconds early
        other, _ = new_session(app, user)
        assert enter(other, code_at(user.totp_secret, 150)).status_code == 302


def test_a_recovery_code_works_once(app, sign_in_as):
    with at(0):
        _, user = sign_in_as(Role.OFFICER)
        code = user.recovery_codes[3]
        client, _ = new_session(app, user)
        # As typed from paper: lower case, without the dash.
        response = enter(client, code.replace("-", "").lower(), "/staff/police/")
        assert response.headers["Location"] == "/staff/police/"
        page = client.get("/staff/police/", follow_redirects=True).get_data(as_text=True)
        assert "You signed in with a recovery code. 9 codes are left" in page

        again, _ = new_session(app, user)
        assert WRONG in enter(again, code).get_data(as_text=True)
        assert enter(again, user.recovery_codes[4]).status_code == 302
    with app.app_context():
        used = db.session.scalars(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None)))
        assert len(used.all()) == 2
    events = actions(app)
    assert ("second_factor", "success", "recovery code") in events
    assert not any(code in (r or "") for *_, r in events)


def test_new_recovery_codes_need_a_code_from_the_app_and_replace_the_old_ones(app, sign_in_as):
    with at(0):
        client, user = sign_in_as(Role.ADMIN)
        assert "Make new recovery codes" in client.get("/account/").get_data(as_text=True)
        page = submit(client, RECOVERY_CODES, {"code": user.recovery_codes[0]})
        assert "The code is 6 digits" in page.get_data(as_text=True)
    with at(30):
        page = submit(client, RECOVERY_CODES, {"code": code_at(user.totp_secret, 30)})
        fresh = re.findall(r"<code>([2-9A-Z]{5}-[2-9A-Z]{5})</code>", page.get_data(as_text=True))
        assert len(fresh) == 10 and not set(fresh) & set(user.recovery_codes)

        other, _ = new_session(app, user)
        assert WRONG in enter(other, user.recovery_codes[1]).get_data(as_text=True)
        assert enter(other, fresh[0]).status_code == 302
    assert ("second_factor.recovery_codes_created", "success", None) in actions(app)


# --- lock-out ------------------------------------------------------------------------------


def test_five_wrong_codes_lock_the_account_for_ten_minutes(app, sign_in_as):
    with at(0):
        _, user = sign_in_as(Role.DISPATCHER)
        client, _ = new_session(app, user)
    for minute in range(5):
        with at(60 + minute * 120):
            page = enter(client, wrong_code(user.totp_secret, 60 + minute * 120))
    assert LOCKED in page.get_data(as_text=True)

    with at(60 * 18):  # 9 minutes after the lock: even a right code, or the password, is refused
        page = enter(client, code_at(user.totp_secret, 60 * 18)).get_data(as_text=True)
        assert LOCKED in page
        assert LOCKED in enter(client, user.recovery_codes[0]).get_data(as_text=True)
        assert client.get("/staff/dispatch/").status_code == 302
        assert LOCKED in sign_in(app.test_client(), user.phone).get_data(as_text=True)

    with at(60 * 19 + 30):  # 10 minutes and a half after the lock
        assert enter(client, code_at(user.totp_secret, 60 * 19 + 30)).status_code == 302
        assert client.get("/staff/dispatch/").status_code == 200

    events = actions(app)
    assert events.count(("second_factor", "failure", "wrong code")) == 5
    assert ("account.locked", "success", None) in events
    assert ("second_factor", "locked", None) in events
    with app.app_context():
        user_row = db.session.get(User, user.id)
        assert user_row.failed_sign_ins == 0 and user_row.locked_until is None


def test_wrong_passwords_and_wrong_codes_count_together(app, sign_in_as):
    with at(0):
        _, user = sign_in_as(Role.MODERATOR)
        for _ in range(3):
            sign_in(app.test_client(), user.phone, "not the password at all")
        # The right password does not wipe the count: the sign-in is only half done.
        client, _ = new_session(app, user)
        enter(client, wrong_code(user.totp_secret, 0))
        page = enter(client, wrong_code(user.totp_secret, 0)).get_data(as_text=True)
    assert LOCKED in page


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(app, sign_in_as):
    with at(0):
        _, user = sign_in_as(Role.MODERATOR)
        client, _ = new_session(app, user)
    for minute in (1, 5, 10, 14, 17):
        with at(minute * 60):
            page = enter(client, wrong_code(user.totp_secret, minute * 60)).get_data(as_text=True)
            assert LOCKED not in page
    with at(18 * 60):
        assert enter(client, code_at(user.totp_secret, 18 * 60)).status_code == 302


# --- session time-outs ---------------------------------------------------------------------


def test_a_staff_session_ends_after_thirty_minutes_idle(app, sign_in_as):
    with at(0):
        client, user = sign_in_as(Role.MODERATOR)
    with at(29 * 60):
        assert client.get("/staff/moderation/").status_code == 200
    with at(58 * 60):  # 29 minutes after the last page: still signed in
        assert client.get("/staff/moderation/").status_code == 200
    with at(89 * 60):  # 31 minutes idle
        response = client.get("/staff/moderation/")
        assert response.headers["Location"].startswith("/account/sign-in?next=")
        assert client.get("/account/").status_code == 302
    with app.app_context():
        session = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
        assert session.revoked_at == T0 + timedelta(minutes=89)
    assert ("session.expired", "success", "idle") in actions(app)


def test_a_staff_session_ends_after_twelve_hours_however_busy(app, sign_in_as):
    with at(0):
        client, _ = sign_in_as(Role.OFFICER)
    for minutes in range(20, 12 * 60, 20):
        with at(minutes * 60):
            assert client.get("/staff/police/").status_code == 200, minutes
    with at(12 * 3600 + 60):
        assert client.get("/staff/police/").status_code == 302


def test_residents_are_not_signed_out_when_idle(app, resident):
    client, _ = resident
    with time_machine.travel(utcnow() + timedelta(hours=3)):
        assert client.get("/account/").status_code == 200
    with time_machine.travel(utcnow() + timedelta(hours=12, minutes=1)):
        assert client.get("/account/").status_code == 302


def test_of_two_requests_racing_with_one_code_only_one_gets_in(app, sign_in_as):
    from webapp.accounts import second_factor
    from webapp.accounts.errors import SecondFactorReused

    with at(0):
        _, user = sign_in_as(Role.MODERATOR)
    with at(30), app.app_context():
        code = code_at(user.totp_secret, 30)
        slower = db.session.get(User, user.id)  # one request has read the account...
        assert slower.totp_last_step is not None
        with app.app_context():  # ...when another one uses the code
            second_factor.regenerate_recovery_codes(db.session.get(User, user.id), code)
        with pytest.raises(SecondFactorReused):
            second_factor.regenerate_recovery_codes(slower, code)
