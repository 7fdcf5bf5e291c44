"""Phone verification by SMS code: 6 digits, hashed, single use, 10 minutes, 5 tries, resends."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import OutboundMessage, User, VerificationCode
from webapp.models.types import utcnow

from ..support.web import last_code, sign_up, submit, texts_to


def signed_up(app, phone: str = "+13125550142"):
    client = app.test_client()
    assert sign_up(client, phone=phone).status_code == 302
    return client


def verify(client, code):
    return submit(client, "/account/verify", {"code": code})


def is_verified(app, phone="+13125550142") -> bool:
    with app.app_context():
        return db.session.scalar(select(User).where(User.phone == phone)).phone_verified


def test_the_right_code_verifies_the_phone(app):
    client = signed_up(app)
    code = last_code(app, "+13125550142")
    assert len(code) == 6 and code.isdigit()

    response = verify(client, code)

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    assert is_verified(app)


def test_unverified_accounts_are_sent_to_verification(app):
    client = signed_up(app)
    assert client.get("/account/").headers["Location"] == "/account/verify"


def test_a_wrong_code_is_refused(app):
    client = signed_up(app)
    code = last_code(app, "+13125550142")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page = verify(client, wrong).get_data(as_text=True)
    assert "The code is not right" in page
    assert not is_verified(app)


def test_a_malformed_code_gets_a_clear_error(app):
    client = signed_up(app)
    page = verify(client, "12ab").get_data(as_text=True)
    assert "The code is 6 digits, like 123456." in page


def test_codes_expire_after_ten_minutes(app):
    client = signed_up(app)
    code = last_code(app, "+13125550142")
    with time_machine.travel(utcnow() + timedelta(minutes=10, seconds=1)):
        page = verify(client, code).get_data(as_text=True)
    assert "The code has expired or was already used" in page
    assert not is_verified(app)


def test_a_code_still_works_just_before_it_expires(app):
    client = signed_up(app)
    code = last_code(app, "+13125550142")
    with time_machine.travel(utcnow() + timedelta(minutes=9, seconds=50)):
        verify(client, code)
    assert is_verified(app)


def test_five_wrong_codes_burn_the_code(app):
    client = signed_up(app)
    code = last_code(app, "+13125550142")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        assert "The code is not right" in verify(client, wrong).get_data(as_text=True)
    assert "Too many wrong codes" in verify(client, wrong).get_data(as_text=True)

    page = verify(client, code).get_data(as_text=True)

    assert "Too many wrong codes" in page
    assert not is_verified(app)


def test_resends_wait_a_minute_and_are_limited_per_hour(app):
    client = signed_up(app)
    start = utcnow()

    response = submit(client, "/account/verify/resend", {}, page="/account/verify")
    assert "Please wait before asking again" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert len(texts_to(app, "+13125550142")) == 1

    for minute in range(1, 5):
        with time_machine.travel(start + timedelta(minutes=minute * 2)):
            submit(client, "/account/verify/resend", {}, page="/account/verify")
    assert len(texts_to(app, "+13125550142")) == 5

    with time_machine.travel(start + timedelta(minutes=20)):
        response = submit(client, "/account/verify/resend", {}, page="/account/verify")
        page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Too many codes were sent to this number" in page
    assert len(texts_to(app, "+13125550142")) == 5

    with time_machine.travel(start + timedelta(minutes=70)):
        submit(client, "/account/verify/resend", {}, page="/account/verify")
    assert len(texts_to(app, "+13125550142")) == 6


def test_an_earlier_code_still_works_after_a_resend_and_each_works_once(app):
    client = signed_up(app)
    old = last_code(app, "+13125550142")
    with time_machine.travel(utcnow() + timedelta(minutes=2)):
        submit(client, "/account/verify/resend", {}, page="/account/verify")
        new = last_code(app, "+13125550142")
        verify(client, old)  # the first text arrived late: it still counts
    assert is_verified(app)
    with app.app_context():
        rows = db.session.scalars(select(VerificationCode)).all()
        assert len(rows) == 2 and all(r.used_at is not None for r in rows)  # both used up
    assert new  # the resend really went out


def test_an_earlier_code_expires_on_its_own_clock(app):
    client = signed_up(app)
    old = last_code(app, "+13125550142")
    start = utcnow()
    with time_machine.travel(start + timedelta(minutes=5)):
        submit(client, "/account/verify/resend", {}, page="/account/verify")
    with time_machine.travel(start + timedelta(minutes=11)):
        page = verify(client, old).get_data(as_text=True)
    assert "The code is not right" in page
    assert not is_verified(app)


def test_an_undeliverable_code_text_is_shown_on_the_verify_page(app):
    client = signed_up(app)
    with app.app_context():
        message = db.session.scalar(select(OutboundMessage))
        message.status = "undelivered"  # what Twilio's status callback reports
        db.session.commit()
    page = client.get("/account/verify").get_data(as_text=True)
    assert "We could not deliver the text with your code" in page
