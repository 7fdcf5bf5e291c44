"""The Twilio SMS backend, end to end: the real ``twilio`` client talks HTTP to a local fake
of Twilio's Messages API (``TWILIO_API_BASE_URL``); nothing of ours is mocked."""

from __future__ import annotations

import logging
import re
import socket
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp import create_app
from webapp.config import ConfigError
from webapp.extensions import db
from webapp.models import OutboundMessage, User, VerificationCode
from webapp.sms.backends import SmsDeliveryError, TwilioBackend

from .conftest import SECRET, sign_up, submit
from .fake_twilio import ACCOUNT_SID, AUTH_TOKEN

FROM_NUMBER = "+13125550100"
SERVICE_SID = "MG" + "0" * 32
PUBLIC_BASE_URL = "https://registry.example.gov"
PHONE = "+13125550142"
SPANISH_CODE_TEXT = (
    "Safety Registry: su código es {code}. Vence en 10 minutos. No lo comparta con nadie."
)
NOT_SENT = "We could not send a text to this number. Check it and try again."
NOT_SENT_ES = "No pudimos enviar un mensaje de texto a este número. Revíselo y vuelva a intentarlo."
# Explicit empties, so TWILIO_* variables in the environment cannot change the outcome.
NO_TWILIO = dict.fromkeys(
    [
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_FROM_NUMBER",
        "TWILIO_MESSAGING_SERVICE_SID",
    ],
    "",
)
FIELD_ERROR = re.compile(r'<p id="phone-error" class="field-error">.*?</p>', re.S)


def twilio_settings(api_base_url: str, **overrides) -> dict:
    return {
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": api_base_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        **overrides,
    }


@pytest.fixture
def twilio_app(make_app, fake_twilio):
    """Build an app whose Twilio backend talks to the fake; settings overridable by keyword."""

    def build(**overrides):
        return make_app(**twilio_settings(fake_twilio.url, **overrides))

    return build


def messages(app) -> list[OutboundMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        db.session.expunge_all()
        return list(rows)


def code_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(VerificationCode))


def closed_port_url() -> str:
    """A local URL nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- sending through the web form ----------------------------------------------------------


def test_sign_up_texts_the_code_through_twilio_in_the_chosen_language(twilio_app, fake_twilio):
    app = twilio_app()
    client = app.test_client()

    response = sign_up(client, locale="es")

    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/account/verify"
    [request] = fake_twilio.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert request.status == 201
    form = request.form
    assert set(form) == {"To", "From", "Body", "StatusCallback"}
    assert form["To"] == PHONE
    assert form["From"] == FROM_NUMBER
    assert form["StatusCallback"] == "https://registry.example.gov/sms/status"
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", form["Body"]).group(1)
    assert form["Body"] == SPANISH_CODE_TEXT.format(code=code)

    [message] = messages(app)
    assert message.backend == "twilio"
    assert message.to == PHONE
    assert message.body == form["Body"]
    assert (message.template, message.locale) == ("verify_phone", "es")
    assert message.provider_sid == request.response["sid"]
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.provider_sid)
    assert message.status == "queued"
    assert message.sent_at is not None
    assert message.error_code is None

    # The code Twilio was asked to deliver is the one that verifies the phone.
    response = submit(client, "/account/verify", {"code": code})
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    with app.app_context():
        assert db.session.scalar(select(User)).phone_verified


@pytest.mark.parametrize("from_number", ["", FROM_NUMBER])
def test_a_messaging_service_sends_without_a_from_number(twilio_app, fake_twilio, from_number):
    app = twilio_app(TWILIO_MESSAGING_SERVICE_SID=SERVICE_SID, TWILIO_FROM_NUMBER=from_number)

    assert sign_up(app.test_client()).status_code == 302

    [request] = fake_twilio.requests
    assert request.form["MessagingServiceSid"] == SERVICE_SID
    assert "From" not in request.form
    assert request.form["To"] == PHONE
    [message] = messages(app)
    assert message.provider_sid == request.response["sid"]
    assert message.status == "accepted"  # what Twilio answers when the service picks a sender


def test_without_a_public_base_url_no_status_callback_is_sent(twilio_app, fake_twilio):
    app = twilio_app(PUBLIC_BASE_URL="")

    assert sign_up(app.test_client()).status_code == 302

    [request] = fake_twilio.requests
    assert "StatusCallback" not in request.form
    assert request.form["From"] == FROM_NUMBER


def test_a_trailing_slash_on_the_public_base_url_is_not_doubled(twilio_app, fake_twilio):
    app = twilio_app(PUBLIC_BASE_URL="https://registry.example.gov/")

    sign_up(app.test_client())

    [request] = fake_twilio.requests
    assert request.form["StatusCallback"] == "https://registry.example.gov/sms/status"


def test_the_code_is_never_logged(twilio_app, fake_twilio, caplog):
    app = twilio_app()
    caplog.set_level(logging.DEBUG)

    sign_up(app.test_client())

    [request] = fake_twilio.requests
    code = re.search(r"\d{6}", request.form["Body"]).group(0)
    assert "handed to twilio" in caplog.text
    assert code not in caplog.text
    assert request.form["Body"] not in caplog.text
    assert AUTH_TOKEN not in caplog.text


# --- Twilio says no --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "error"), [("en", NOT_SENT), ("es", NOT_SENT_ES)], ids=["en", "es"]
)
def test_an_invalid_number_error_is_shown_and_the_person_can_retry_at_once(
    twilio_app,
    fake_twilio,
    lang,
    error,
):
    app = twilio_app()
    client = app.test_client()
    client.get(f"/?lang={lang}")
    fake_twilio.fail_next(400, code=21211)

    response = sign_up(client)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    field_error = FIELD_ERROR.search(page)
    assert field_error and error in field_error.group(0)
    assert f'<a href="#phone">{error}</a>' in page  # and in the error summary
    [request] = fake_twilio.requests
    assert (request.status, request.response["code"]) == (400, 21211)
    [message] = messages(app)
    assert (message.backend, message.status, message.error_code) == ("twilio", "failed", "21211")
    assert message.provider_sid is None
    assert message.sent_at is None
    assert code_rows(app) == 0  # a code nobody received does not count

    # No "wait a minute" and no hourly count against the person: the retry goes straight out.
    response = sign_up(client)

    assert response.status_code == 302, response.get_data(as_text=True)
    assert len(fake_twilio.requests) == 2
    assert fake_twilio.requests[-1].status == 201
    assert [m.status for m in messages(app)] == ["failed", "queued"]
    assert code_rows(app) == 1


def test_an_unreachable_twilio_shows_the_same_clear_error(make_app):
    app = make_app(**twilio_settings(closed_port_url()))
    client = app.test_client()

    response = sign_up(client)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    field_error = FIELD_ERROR.search(page)
    assert field_error and NOT_SENT in field_error.group(0)
    [message] = messages(app)
    assert (message.status, message.error_code) == ("failed", "ConnectionError")
    assert code_rows(app) == 0


def test_a_twilio_outage_on_resend_is_flashed_and_stores_no_new_code(twilio_app, fake_twilio):
    app = twilio_app()
    client = app.test_client()
    assert sign_up(client).status_code == 302
    # A resend within a minute is refused before Twilio is asked; only the outage matters here,
    # so the first code row is aged past the resend interval.
    with app.app_context():
        row = db.session.scalar(select(VerificationCode))
        row.created_at -= timedelta(minutes=2)
        db.session.commit()
    fake_twilio.fail_next(500)

    response = submit(client, "/account/verify/resend", {}, page="/account/verify")

    assert response.status_code == 302
    page = client.get("/account/verify").get_data(as_text=True)
    assert NOT_SENT in page
    assert [r.status for r in fake_twilio.requests] == [201, 500]
    assert [m.status for m in messages(app)] == ["queued", "failed"]
    assert messages(app)[-1].error_code == "20500"
    assert code_rows(app) == 1  # only the first code; the one nobody received is gone


def test_a_failed_resend_leaves_the_earlier_code_usable(twilio_app, fake_twilio):
    app = twilio_app()
    client = app.test_client()
    assert sign_up(client).status_code == 302
    code = re.search(r"\d{6}", fake_twilio.requests[0].form["Body"]).group(0)
    with app.app_context():
        row = db.session.scalar(select(VerificationCode))
        row.created_at -= timedelta(minutes=2)
        db.session.commit()
    fake_twilio.fail_next(500)
    submit(client, "/account/verify/resend", {}, page="/account/verify")

    response = submit(client, "/account/verify", {"code": code})

    assert response.status_code == 302


# --- the backend on its own -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "expected_code", "permanent"),
    [
        (400, 21211, "21211", True),
        (400, 21610, "21610", True),
        (500, None, "20500", False),
        (503, 20500, "20500", False),
        (429, None, "20429", False),
        (429, 20429, "20429", False),
    ],
)
def test_twilio_errors_are_classified(
    twilio_app,
    fake_twilio,
    status,
    code,
    expected_code,
    permanent,
):
    app = twilio_app()
    fake_twilio.fail_next(status, code=code)
    with app.app_context():
        message = OutboundMessage(to=PHONE, body="Hello", template="t", locale="en", backend="x")
        with pytest.raises(SmsDeliveryError) as caught:
            TwilioBackend(app.config).send(message)
        assert caught.value.code == expected_code
        assert caught.value.permanent is permanent
        assert message.provider_sid is None
    [request] = fake_twilio.requests
    assert request.status == status


def test_the_backend_sets_the_sid_and_status_twilio_returns(twilio_app, fake_twilio):
    app = twilio_app()
    with app.app_context():
        message = OutboundMessage(to=PHONE, body="Hello", template="t", locale="en", backend="x")
        TwilioBackend(app.config).send(message)
        assert message.provider_sid == fake_twilio.requests[0].response["sid"]
        assert message.status == "queued"


def test_an_unreachable_twilio_is_a_temporary_failure(make_app):
    app = make_app(**twilio_settings(closed_port_url()))
    with app.app_context():
        message = OutboundMessage(to=PHONE, body="Hello", template="t", locale="en", backend="x")
        with pytest.raises(SmsDeliveryError) as caught:
            TwilioBackend(app.config).send(message)
    assert caught.value.permanent is False
    assert caught.value.code == "ConnectionError"


def test_wrong_credentials_are_refused_by_twilio(make_app, fake_twilio):
    app = make_app(**twilio_settings(fake_twilio.url, TWILIO_AUTH_TOKEN="not-the-token"))
    with app.app_context():
        message = OutboundMessage(to=PHONE, body="Hello", template="t", locale="en", backend="x")
        with pytest.raises(SmsDeliveryError) as caught:
            TwilioBackend(app.config).send(message)
    assert caught.value.code == "20003"
    [request] = fake_twilio.requests
    assert (request.status, request.auth) == (401, (ACCOUNT_SID, "not-the-token"))


# --- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "missing",
    [
        {"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""},
        {"TWILIO_ACCOUNT_SID": ""},
        {"TWILIO_AUTH_TOKEN": ""},
        {"TWILIO_FROM_NUMBER": "", "TWILIO_MESSAGING_SERVICE_SID": ""},
    ],
)
def test_twilio_without_credentials_or_sender_refuses_to_start(make_app, missing):
    with pytest.raises(ConfigError, match="SMS_BACKEND=twilio needs"):
        make_app(**twilio_settings("", **missing))


def test_twilio_without_credentials_refuses_to_start_from_create_app():
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_SID"):
        create_app(
            {**NO_TWILIO, "APP_ENV": "testing", "SECRET_KEY": SECRET, "SMS_BACKEND": "twilio"}
        )


def test_credentials_alone_pick_twilio(make_app):
    app = make_app(**twilio_settings("", SMS_BACKEND=""))
    assert app.config["SMS_BACKEND"] == "twilio"
    assert app.extensions["sms_backend"].name == "twilio"
    assert isinstance(app.extensions["sms_backend"], TwilioBackend)


def test_nothing_set_picks_the_outbox(make_app):
    app = make_app(**NO_TWILIO, SMS_BACKEND="")
    assert app.config["SMS_BACKEND"] == "outbox"
    assert app.extensions["sms_backend"].name == "outbox"


def test_the_outbox_can_be_forced_even_with_credentials(make_app):
    app = make_app(**twilio_settings("", SMS_BACKEND="outbox"))
    assert app.extensions["sms_backend"].name == "outbox"
