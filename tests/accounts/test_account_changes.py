"""Password reset by SMS code, change of phone number (re-verified), settings."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEvent, User, UserSession

from ..support.web import PASSWORD, last_code, sign_in, submit, texts_to

NEW_PASSWORD = "a brand new passphrase"


def request_reset(client, phone):
    return submit(client, "/account/reset", {"phone": phone})


def test_password_reset_by_sms_code(app, make_user):
    user = make_user(locale="pl")
    signed_in_elsewhere = app.test_client()
    sign_in(signed_in_elsewhere, user.phone)
    client = app.test_client()

    response = request_reset(client, user.phone)
    assert response.headers["Location"] == "/account/reset/code"
    [text] = texts_to(app, user.phone)
    assert text.template == "reset_password" and text.locale == "pl"

    response = submit(
        client,
        "/account/reset/code",
        {"code": last_code(app, user.phone), "password": NEW_PASSWORD},
    )
    assert response.headers["Location"] == "/account/sign-in"
    assert sign_in(client, user.phone, PASSWORD).status_code == 200  # old password refused
    assert sign_in(client, user.phone, NEW_PASSWORD).status_code == 302
    # Every session that existed before the reset is over.
    assert signed_in_elsewhere.get("/account/").status_code == 302
    with app.app_context():
        assert "password_reset" in db.session.scalars(select(AuditEvent.action)).all()


def test_a_reset_code_works_only_once(app, make_user):
    user = make_user()
    client = app.test_client()
    request_reset(client, user.phone)
    code = last_code(app, user.phone)
    submit(client, "/account/reset/code", {"code": code, "password": NEW_PASSWORD})

    request_reset(client, user.phone)  # within a minute: no new code is sent
    page = submit(
        client, "/account/reset/code", {"code": code, "password": "yet another passphrase"}
    ).get_data(as_text=True)

    assert "The code has expired or was already used" in page
    assert sign_in(app.test_client(), user.phone, NEW_PASSWORD).status_code == 302


def test_reset_does_not_tell_whether_a_number_has_an_account(app, make_user):
    user = make_user()
    known = request_reset(app.test_client(), user.phone)
    unknown = request_reset(app.test_client(), "+13125550198")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert texts_to(app, "+13125550198") == []


def test_reset_keeps_password_rules(app, make_user):
    user = make_user()
    client = app.test_client()
    request_reset(client, user.phone)
    page = submit(
        client, "/account/reset/code", {"code": last_code(app, user.phone), "password": "short"}
    ).get_data(as_text=True)
    assert "Your password must be 10 to 128 characters long." in page


def test_reset_unlocks_a_locked_account(app, make_user):
    user = make_user()
    client = app.test_client()
    for _ in range(5):
        sign_in(client, user.phone, "wrong password here")
    request_reset(client, user.phone)
    submit(
        client,
        "/account/reset/code",
        {"code": last_code(app, user.phone), "password": NEW_PASSWORD},
    )
    assert sign_in(client, user.phone, NEW_PASSWORD).status_code == 302


def test_change_phone_number_after_verifying_the_new_one(app, resident):
    client, user = resident
    new = "+13125550177"
    response = submit(client, "/account/phone", {"phone": "312 555 0177", "password": PASSWORD})
    assert response.headers["Location"] == "/account/phone/confirm"
    with app.app_context():
        assert db.session.get(User, user.id).phone == user.phone  # not until confirmed

    response = submit(client, "/account/phone/confirm", {"code": last_code(app, new)})

    assert response.headers["Location"] == "/account/"
    with app.app_context():
        assert db.session.get(User, user.id).phone == new
        assert "phone.changed" in db.session.scalars(select(AuditEvent.action)).all()
    assert sign_in(app.test_client(), new).status_code == 302


def test_change_phone_needs_the_password(app, resident):
    client, _ = resident
    page = submit(
        client, "/account/phone", {"phone": "312 555 0177", "password": "not my password"}
    ).get_data(as_text=True)
    assert "The password is not right." in page
    assert 'value="312 555 0177"' in page  # the answer is kept
    assert texts_to(app, "+13125550177") == []


def test_cannot_take_another_verified_account_number(app, resident, make_user):
    client, _ = resident
    other = make_user()
    page = submit(client, "/account/phone", {"phone": other.phone, "password": PASSWORD}).get_data(
        as_text=True
    )
    assert "An account already uses this phone number" in page


def test_a_wrong_code_leaves_the_number_unchanged(app, resident):
    client, user = resident
    submit(client, "/account/phone", {"phone": "312 555 0177", "password": PASSWORD})
    code = last_code(app, "+13125550177")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page = submit(client, "/account/phone/confirm", {"code": wrong}).get_data(as_text=True)
    assert "The code is not right" in page
    with app.app_context():
        assert db.session.get(User, user.id).phone == user.phone


def test_settings_change_language_and_email(app, resident):
    client, user = resident
    response = submit(client, "/account/settings", {"locale": "zh_Hans", "email": "a@example.com"})
    assert response.status_code == 302
    page = client.get("/account/settings").get_data(as_text=True)
    assert '<html lang="zh-Hans"' in page
    with app.app_context():
        row = db.session.get(User, user.id)
        assert (row.locale, row.email) == ("zh_Hans", "a@example.com")


def test_settings_reject_a_bad_email_and_keep_it(app, resident):
    client, _ = resident
    page = submit(client, "/account/settings", {"locale": "en", "email": "nope"}).get_data(
        as_text=True
    )
    assert "Enter an email address like name@example.com." in page
    assert 'value="nope"' in page


def test_sessions_table_holds_no_raw_token(app, resident):
    client, _ = resident
    with client.session_transaction() as sess:
        token = sess["sid"]
    with app.app_context():
        row = db.session.scalar(select(UserSession))
        assert token not in row.token_hash
