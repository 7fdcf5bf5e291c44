"""Signing in and out: server-side sessions, lockout, safe redirects."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEvent, UserSession
from webapp.models.types import utcnow

from ..support.web import sign_in, submit


def test_sign_in_with_phone_as_typed_and_password(app, client, make_user):
    make_user(phone="+13125550142")
    response = sign_in(client, "(312) 555-0142")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    assert client.get("/account/").status_code == 200


def test_wrong_password_and_unknown_phone_get_the_same_answer(app, client, make_user):
    user = make_user()
    wrong = sign_in(client, user.phone, "not the password at all").get_data(as_text=True)
    unknown = sign_in(client, "+13125550199").get_data(as_text=True)
    message = "The phone number or password is not right."
    assert message in wrong and message in unknown
    assert client.get("/account/").status_code == 302


def test_sign_in_starts_a_new_session(app, make_user):
    user = make_user()
    client = app.test_client()
    client.get("/?lang=es")  # something in the session from before signing in
    with client.session_transaction() as before:
        before["planted"] = "by an attacker"
    sign_in(client, user.phone)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after["lang"] == "es"  # the language choice survives
        assert after["sid"]


def test_sign_out_is_enforced_on_the_server(app, make_user):
    user = make_user()
    client = app.test_client()
    sign_in(client, user.phone)
    with client.session_transaction() as sess:
        stolen = dict(sess)  # a copy of the cookie's contents, as a thief would keep it

    response = submit(client, "/account/sign-out", {}, page="/account/")
    assert response.status_code == 302

    replay = app.test_client()
    with replay.session_transaction() as sess:
        sess.update(stolen)
    assert replay.get("/account/").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(UserSession)).revoked_at is not None


def test_sign_out_needs_post_and_csrf(app, resident):
    client, _ = resident
    assert client.get("/account/sign-out").status_code == 405
    forged = client.post("/account/sign-out")  # what a cross-site form could send
    assert forged.status_code == 400
    assert "This form expired or was sent from another site" in forged.get_data(as_text=True)
    assert client.get("/account/").status_code == 200  # still signed in


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/account/settings", "/account/settings"),
        ("https://evil.example/", "/account/"),
        ("//evil.example/", "/account/"),
        ("/\\evil.example", "/account/"),
        ("javascript:alert(1)", "/account/"),
    ],
)
def test_next_redirects_only_to_our_own_paths(app, client, make_user, next_url, expected):
    user = make_user()
    from urllib.parse import quote

    path = "/account/sign-in?next=" + quote(next_url, safe="")
    response = submit(
        client, path, {"phone": user.phone, "password": user.password}, page="/account/sign-in"
    )
    assert response.headers["Location"] == expected


def test_five_failures_in_fifteen_minutes_lock_the_account_for_ten(app, client, make_user):
    user = make_user()
    start = utcnow()
    for minute in range(5):
        with time_machine.travel(start + timedelta(minutes=minute * 3)):
            page = sign_in(client, user.phone, "wrong password here").get_data(as_text=True)
    assert "This account is locked for 10 minutes" in page

    with time_machine.travel(start + timedelta(minutes=12, seconds=30)):
        page = sign_in(client, user.phone).get_data(as_text=True)
        assert "This account is locked for 10 minutes" in page  # even the right password

    with time_machine.travel(start + timedelta(minutes=22, seconds=1)):
        assert sign_in(client, user.phone).status_code == 302

    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "account.locked" in actions


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(app, client, make_user):
    user = make_user()
    start = utcnow()
    for minute in (0, 5, 10, 14, 16):
        with time_machine.travel(start + timedelta(minutes=minute)):
            sign_in(client, user.phone, "wrong password here")
    with time_machine.travel(start + timedelta(minutes=17)):
        assert sign_in(client, user.phone).status_code == 302


def test_sign_in_is_rate_limited(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True)
    user = make_user()
    client = app.test_client()
    statuses = [sign_in(client, user.phone, "wrong password here").status_code for _ in range(11)]
    assert statuses[-1] == 429
    page = sign_in(client, user.phone).get_data(as_text=True)
    assert "Too many attempts" in page


def test_disabled_accounts_cannot_sign_in_and_lose_their_sessions(app, make_user):
    user = make_user()
    client = app.test_client()
    sign_in(client, user.phone)
    from webapp.models import User

    with app.app_context():
        db.session.get(User, user.id).disabled_at = utcnow()
        db.session.commit()
    assert client.get("/account/").status_code == 302
    assert "This account is disabled" in sign_in(client, user.phone).get_data(as_text=True)


def test_a_session_ends_twelve_hours_after_sign_in(app, resident):
    client, _ = resident
    with time_machine.travel(utcnow() + timedelta(hours=11, minutes=59)):
        assert client.get("/account/").status_code == 200
    with time_machine.travel(utcnow() + timedelta(hours=12, minutes=1)):
        assert client.get("/account/").status_code == 302
