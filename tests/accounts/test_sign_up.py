"""Sign-up: phone in E.164, password rules, language, optional email, recorded consent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from webapp.accounts.services import TERMS_VERSION
from webapp.extensions import db
from webapp.models import ConsentRecord, User, VerificationCode

from ..support.web import PASSWORD, last_code, sign_up, texts_to


def test_sign_up_stores_e164_and_texts_a_code_in_the_chosen_language(app, client):
    response = sign_up(client, phone="(312) 555-0142", locale="es", email="ana@example.com")

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/verify"
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.phone == "+13125550142"
        assert user.locale == "es"
        assert user.email == "ana@example.com"
        assert user.phone_verified_at is None
        assert user.password_hash != PASSWORD and PASSWORD not in user.password_hash
    [text] = texts_to(app, "+13125550142")
    assert text.locale == "es"
    assert "código" in text.body


def test_consent_is_recorded_in_the_ledger_with_the_wording_version(app, client):
    sign_up(client)
    with app.app_context():
        record = db.session.scalar(select(ConsentRecord))
        assert (record.kind, record.granted, record.channel) == ("terms_privacy", True, "web")
        assert record.version == TERMS_VERSION


def test_the_code_is_stored_only_as_a_keyed_hash(app, client):
    sign_up(client)
    code = last_code(app, "+13125550142")
    with app.app_context():
        row = db.session.scalar(select(VerificationCode))
        assert code not in row.code_hash
        assert len(row.code_hash) == 64


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"phone": ""}, "Enter your mobile phone number."),
        ({"phone": "12345"}, "Enter a phone number, like 312 555 0142"),
        ({"password": "short pw"}, "Your password must be 10 to 128 characters long."),
        ({"password": "x" * 129}, "Your password must be 10 to 128 characters long."),
        ({"password": "1234567890"}, "This password is too common"),
        ({"password": "Qwertyuiop"}, "This password is too common"),
        ({"email": "not-an-email"}, "Enter an email address like name@example.com."),
        ({"consent": None}, "You must agree to the terms and privacy notice."),
        ({"locale": "xx"}, "Not a valid choice"),
    ],
)
def test_bad_input_gets_a_clear_error_and_keeps_the_answers(app, client, fields, message):
    response = sign_up(client, **{"email": "keep@example.com", **fields})

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert message in page
    assert "<title>Error:" in page
    if "email" not in fields:
        assert 'value="keep@example.com"' in page
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_errors_are_translated(client):
    client.get("/?lang=es")
    page = sign_up(client, phone="12345", consent=None).get_data(as_text=True)
    assert '<html lang="es"' in page
    assert "Hay un problema" in page
    assert "There is a problem" not in page
    assert "Enter a phone number" not in page


def test_a_verified_number_cannot_be_registered_twice(app, client, make_user):
    user = make_user(phone="+13125550142")
    response = sign_up(client, phone="312 555 0142")
    assert "An account already uses this phone number" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User.id).where(User.phone == user.phone)) == user.id


def test_an_unverified_sign_up_does_not_hold_the_number_hostage(app, client, make_user):
    squatter = make_user(phone="+13125550142", verified=False)
    response = sign_up(client, phone="312 555 0142")
    assert response.status_code == 302
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.phone == "+13125550142"))
        assert owner.id != squatter.id
