"""The Twilio SMS backend and the outbound queue, end to end: texts are queued as "pending"
rows and the worker (``flask sms worker``) hands them to the real ``twilio`` client, which
talks HTTP to a local fake of Twilio's Messages API (``TWILIO_API_BASE_URL``). Nothing of ours
is mocked; the clock is moved with ``time_machine``."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from webapp import create_app
from webapp.config import ConfigError
from webapp.extensions import db
from webapp.jobs import run
from webapp.models import OutboundMessage, User
from webapp.models.types import utcnow
from webapp.sms.backends import SmsDeliveryError, TwilioBackend
from webapp.sms.services import record_sms_consent, send_text
from webapp.sms.worker import MAX_ATTEMPTS, deliver_due

from ..support.database import PG_URL, rows
from ..support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN
from ..support.settings import SECRET
from ..support.twilio import twilio_settings
from ..support.web import sign_up, submit

FROM_NUMBER = "+13125550100"
SERVICE_SID = "MG" + "0" * 32
PUBLIC_BASE_URL = "https://registry.example.gov"
STATUS_CALLBACK = "https://registry.example.gov/sms/status"
PHONE = "+13125550142"
SPANISH_CODE_TEXT = (
    "Safety Registry: su código es {code}. Vence en 10 minutos. No lo comparta con nadie."
)
WRONG_CODE = "The code is not right. Check the latest text we sent and try again."
CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
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


@pytest.fixture
def twilio_app(make_app, fake_twilio):
    """Build an app whose Twilio backend talks to the fake; settings overridable by keyword."""

    def build(**overrides):
        return make_app(**twilio_settings(fake_twilio.url, **overrides))

    return build


# --- helpers ---------------------------------------------------------------------------------


def messages(app) -> list[OutboundMessage]:
    """Every outbound row, oldest first, detached so it can be read outside the context."""
    return rows(app, OutboundMessage)


def only_message(app) -> OutboundMessage:
    [message] = messages(app)
    return message


def work(app) -> str:
    """Run ``flask sms worker --once``, as cron or an operator would; return its output."""
    result = app.test_cli_runner().invoke(args=["sms", "worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def queue(app, to: str = PHONE, template: str = "verify_phone", **params) -> int:
    """Queue one text the way the services do (send_text, then commit); return its id."""
    if template == "verify_phone":
        params.setdefault("code", "123456")
    with app.app_context():
        message = send_text(to, template, "en", **params)
        db.session.commit()
        return message.id


def stop(app, phone: str = PHONE, granted: bool = False) -> None:
    """The number texts STOP (or START, with ``granted=True``)."""
    with app.app_context():
        record_sms_consent(phone, granted, channel="sms")
        db.session.commit()


def code_in(body: str) -> str:
    match = CODE.search(body)
    assert match, body
    return match.group(1)


def closed_port_url() -> str:
    """A local URL nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextmanager
def frozen_clock() -> Iterator[time_machine.Traveller]:
    """Stop the clock at now (so back-off delays can be measured exactly); move it with
    ``.move_to``. Only ever forward: the app's session cookies refuse a clock that goes back."""
    with time_machine.travel(utcnow(), tick=False) as traveller:
        yield traveller


def move_past(traveller: time_machine.Traveller, when: datetime) -> None:
    traveller.move_to(when + timedelta(seconds=1))


# --- the queue: sign-up queues, the worker sends -------------------------------------------


def test_sign_up_queues_the_code_and_the_worker_sends_it_in_the_chosen_language(
    twilio_app, fake_twilio
):
    app = twilio_app()
    client = app.test_client()

    response = sign_up(client, locale="es")

    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/account/verify"
    assert fake_twilio.requests == []  # nothing leaves before the worker runs
    queued = only_message(app)
    assert (queued.backend, queued.status, queued.to) == ("twilio", "pending", PHONE)
    assert (queued.template, queued.locale) == ("verify_phone", "es")
    assert queued.attempts == 0
    assert queued.provider_sid is None and queued.sent_at is None

    assert work(app) == "Handled 1 messages.\n"

    [request] = fake_twilio.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert request.status == 201
    form = request.form
    assert set(form) == {"To", "From", "Body", "StatusCallback"}
    assert form["To"] == PHONE
    assert form["From"] == FROM_NUMBER
    assert form["StatusCallback"] == STATUS_CALLBACK
    code = code_in(form["Body"])
    assert form["Body"] == SPANISH_CODE_TEXT.format(code=code)

    sent = only_message(app)
    assert sent.body == form["Body"]
    assert sent.provider_sid == request.response["sid"]
    assert re.fullmatch(r"SM[0-9a-f]{32}", sent.provider_sid)
    assert sent.status == "queued"
    assert sent.attempts == 1
    assert sent.sent_at is not None
    assert sent.error_code is None
    assert sent.next_attempt_at is None

    # A second run finds nothing due: the text is not sent twice.
    assert work(app) == "Handled 0 messages.\n"
    assert len(fake_twilio.requests) == 1

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

    work(app)

    [request] = fake_twilio.requests
    assert request.form["MessagingServiceSid"] == SERVICE_SID
    assert "From" not in request.form
    assert request.form["To"] == PHONE
    message = only_message(app)
    assert message.provider_sid == request.response["sid"]
    assert message.status == "accepted"  # what Twilio answers when the service picks a sender


def test_without_a_public_base_url_no_status_callback_is_sent(twilio_app, fake_twilio):
    app = twilio_app(PUBLIC_BASE_URL="")
    queue(app)

    work(app)

    [request] = fake_twilio.requests
    assert "StatusCallback" not in request.form
    assert request.form["From"] == FROM_NUMBER


def test_a_trailing_slash_on_the_public_base_url_is_not_doubled(twilio_app, fake_twilio):
    app = twilio_app(PUBLIC_BASE_URL="https://registry.example.gov/")
    queue(app)

    work(app)

    [request] = fake_twilio.requests
    assert request.form["StatusCallback"] == STATUS_CALLBACK


def test_neither_the_code_nor_the_token_is_ever_logged(twilio_app, fake_twilio, caplog):
    app = twilio_app()
    caplog.set_level(logging.DEBUG)
    assert sign_up(app.test_client()).status_code == 302
    fake_twilio.fail_next(500)  # the retry path logs too

    with frozen_clock() as clock:
        work(app)
        move_past(clock, only_message(app).next_attempt_at)
        work(app)

    assert [r.status for r in fake_twilio.requests] == [500, 201]
    body = fake_twilio.requests[-1].form["Body"]
    assert "will be retried" in caplog.text  # the worker's own lines were captured
    assert "Twilio API Request" in caplog.text  # and the twilio client's
    assert code_in(body) not in caplog.text
    assert body not in caplog.text
    assert AUTH_TOKEN not in caplog.text


# --- retries -----------------------------------------------------------------------------------


def attempt(app) -> tuple[OutboundMessage, timedelta]:
    """Run the worker once: the (only) message then, and how long until its next try."""
    started = utcnow()
    work(app)
    message = only_message(app)
    return message, message.next_attempt_at - started


@pytest.mark.parametrize(
    ("status", "expected_code"),
    [(500, "20500"), (503, "20500"), (429, "20429")],
    ids=["500", "503", "429"],
)
def test_a_temporary_twilio_error_is_retried_with_growing_back_off(
    twilio_app, fake_twilio, status, expected_code
):
    app = twilio_app()
    queue(app)
    fake_twilio.fail_next(status, times=2)

    with frozen_clock() as clock:
        message, first_delay = attempt(app)
        assert (message.status, message.attempts, message.error_code) == (
            "pending",
            1,
            expected_code,
        )
        assert message.provider_sid is None and message.sent_at is None
        assert timedelta(seconds=2 * 0.8) <= first_delay <= timedelta(seconds=2 * 1.2)

        # Before its time the text is left alone.
        assert work(app) == "Handled 0 messages.\n"
        assert len(fake_twilio.requests) == 1

        move_past(clock, message.next_attempt_at)
        message, second_delay = attempt(app)
        assert (message.status, message.attempts, message.error_code) == (
            "pending",
            2,
            expected_code,
        )
        assert timedelta(seconds=4 * 0.8) <= second_delay <= timedelta(seconds=4 * 1.2)
        assert second_delay > first_delay

        clock.move_to(message.next_attempt_at - timedelta(milliseconds=500))
        work(app)
        assert len(fake_twilio.requests) == 2

        move_past(clock, message.next_attempt_at)
        work(app)

    requests = fake_twilio.requests
    assert [r.status for r in requests] == [status, status, 201]
    assert len({r.form["Body"] for r in requests}) == 1  # the same text, retried
    message = only_message(app)
    assert message.status == "queued"
    assert message.attempts == 3
    assert message.provider_sid == requests[-1].response["sid"]
    assert message.sent_at is not None
    assert message.error_code is None


def test_an_unreachable_twilio_is_retried_until_it_is_back(make_app, fake_twilio):
    # Two apps on the same database: one whose Twilio does not answer, then one whose does.
    down = make_app(**twilio_settings(closed_port_url()))
    queue(down)

    with frozen_clock() as clock:
        message, first_delay = attempt(down)
        assert (message.status, message.attempts, message.error_code) == (
            "pending",
            1,
            "ConnectionError",
        )
        assert timedelta(seconds=2 * 0.8) <= first_delay <= timedelta(seconds=2 * 1.2)

        move_past(clock, message.next_attempt_at)
        message, second_delay = attempt(down)
        assert (message.status, message.attempts) == ("pending", 2)
        assert timedelta(seconds=4 * 0.8) <= second_delay <= timedelta(seconds=4 * 1.2)

        up = make_app(**twilio_settings(fake_twilio.url))
        assert work(up) == "Handled 0 messages.\n"  # not due yet, even though Twilio is back
        assert fake_twilio.requests == []

        move_past(clock, message.next_attempt_at)
        work(up)

    [request] = fake_twilio.requests
    assert request.status == 201
    message = only_message(up)
    assert (message.status, message.attempts) == ("queued", 3)
    assert message.provider_sid == request.response["sid"]


@pytest.mark.parametrize("code", [21211, 21610])
def test_a_permanent_twilio_error_fails_the_text_for_good(twilio_app, fake_twilio, code):
    app = twilio_app()
    queue(app)
    fake_twilio.fail_next(400, code=code)

    work(app)

    message = only_message(app)
    assert (message.status, message.error_code, message.attempts) == ("failed", str(code), 1)
    assert message.provider_sid is None
    assert message.sent_at is None

    with time_machine.travel(utcnow() + timedelta(days=2)):
        assert work(app) == "Handled 0 messages.\n"
    assert len(fake_twilio.requests) == 1
    assert only_message(app).status == "failed"


def test_after_max_attempts_a_text_fails_for_good(twilio_app, fake_twilio):
    app = twilio_app()
    queue(app)
    fake_twilio.fail_next(500, times=MAX_ATTEMPTS + 1)

    with frozen_clock() as clock:
        for attempt in range(1, MAX_ATTEMPTS):
            work(app)
            message = only_message(app)
            assert (message.status, message.attempts) == ("pending", attempt)
            move_past(clock, message.next_attempt_at)
        work(app)
        message = only_message(app)
        assert (message.status, message.attempts, message.error_code) == (
            "failed",
            MAX_ATTEMPTS,
            "20500",
        )
        clock.shift(timedelta(days=2))
        assert work(app) == "Handled 0 messages.\n"

    assert [r.status for r in fake_twilio.requests] == [500] * MAX_ATTEMPTS
    assert only_message(app).provider_sid is None


# --- STOP ------------------------------------------------------------------------------------


def test_a_stop_after_queueing_suppresses_the_text_but_not_the_stop_confirmation(
    twilio_app, fake_twilio
):
    app = twilio_app()
    reminder = queue(app, template="profile_stale_today")
    confirmation = queue(app, template="stop_confirmation")
    stop(app)  # the STOP arrives after both were queued, before the worker runs

    assert work(app) == "Handled 2 messages.\n"

    [request] = fake_twilio.requests
    with app.app_context():
        assert request.form["Body"] == db.session.get(OutboundMessage, confirmation).body
    by_id = {m.id: m for m in messages(app)}
    assert (by_id[reminder].status, by_id[reminder].provider_sid) == ("suppressed", None)
    assert by_id[reminder].sent_at is None
    assert by_id[confirmation].status == "queued"
    assert by_id[confirmation].provider_sid == request.response["sid"]


def test_a_start_after_the_stop_lets_the_text_through(twilio_app, fake_twilio):
    app = twilio_app()
    queue(app, template="profile_stale_today")
    stop(app)
    stop(app, granted=True)  # START: the latest entry wins

    work(app)

    assert len(fake_twilio.messages) == 1
    assert only_message(app).status == "queued"


def test_a_stopped_number_is_suppressed_when_queued_and_never_sent(twilio_app, fake_twilio):
    app = twilio_app()
    stop(app)
    queue(app, template="profile_stale_today")
    assert only_message(app).status == "suppressed"

    assert work(app) == "Handled 0 messages.\n"

    assert fake_twilio.requests == []


# --- crashed workers and volume ----------------------------------------------------------------


def test_a_claim_left_by_a_crashed_worker_is_taken_back_after_the_timeout(twilio_app, fake_twilio):
    app = twilio_app()
    stale, recent = queue(app, "+13125550143"), queue(app, "+13125550144")
    with app.app_context():
        now = utcnow()
        for message_id, age in ((stale, 10), (recent, 1)):
            message = db.session.get(OutboundMessage, message_id)
            message.status = "claimed"
            message.claimed_at = now - timedelta(minutes=age)
        db.session.commit()

    assert work(app) == "Handled 1 messages.\n"

    [request] = fake_twilio.requests
    assert request.form["To"] == "+13125550143"
    by_id = {m.id: m for m in messages(app)}
    assert (by_id[stale].status, by_id[stale].attempts) == ("queued", 1)
    assert by_id[stale].provider_sid == request.response["sid"]
    assert (by_id[recent].status, by_id[recent].provider_sid) == ("claimed", None)

    # Its worker may still be sending it; once the timeout passes it is taken back too.
    with time_machine.travel(utcnow() + timedelta(minutes=5)):
        work(app)
    assert [r.form["To"] for r in fake_twilio.requests] == ["+13125550143", "+13125550144"]
    assert [m.status for m in messages(app)] == ["queued", "queued"]


def test_a_large_queue_is_sent_exactly_once(twilio_app, fake_twilio):
    app = twilio_app()
    phones = [f"+1773555{n:04d}" for n in range(250)]
    with app.app_context():
        for phone in phones:  # one transaction, as a batch of reminders would be
            send_text(phone, "profile_stale_today", "en")
        db.session.commit()

    with app.app_context():
        assert run(once=True) == 250

    requests = fake_twilio.requests
    assert len(requests) == 250
    assert all(r.status == 201 for r in requests)
    assert sorted(r.form["To"] for r in requests) == phones
    sids = {r.response["sid"] for r in requests}
    assert len(sids) == 250
    rows = messages(app)
    assert {m.status for m in rows} == {"queued"}
    assert {m.provider_sid for m in rows} == sids
    assert all(m.attempts == 1 for m in rows)
    with app.app_context():
        assert deliver_due() == 0


@pytest.mark.skipif(not PG_URL, reason="several workers need PostgreSQL (SKIP LOCKED)")
def test_two_workers_at_once_send_each_text_exactly_once(twilio_app, fake_twilio):
    app = twilio_app()
    phones = [f"+1773555{n:04d}" for n in range(300)]
    with app.app_context():
        for phone in phones:
            send_text(phone, "profile_stale_today", "en")
        db.session.commit()

    def worker() -> int:
        with app.app_context():
            return run(once=True)

    with ThreadPoolExecutor(max_workers=2) as pool:
        handled = [f.result() for f in [pool.submit(worker), pool.submit(worker)]]
    assert all(handled)  # both took part
    # 16 sending threads can overflow the fake's small listen backlog: a reset connection is
    # a network error, retried (so a row may be handled twice, but sent once). Let any
    # retries through before counting.
    with time_machine.travel(utcnow() + timedelta(minutes=1)), app.app_context():
        run(once=True)

    sent_to = sorted(r.form["To"] for r in fake_twilio.messages)
    assert sent_to == phones
    assert {m.status for m in messages(app)} == {"queued"}


# --- resending a code while Twilio is down -------------------------------------------------------


def signed_up_and_sent(app, fake_twilio):
    """Sign up and let the worker send the first code; return the client and that code."""
    client = app.test_client()
    assert sign_up(client).status_code == 302
    work(app)
    return client, code_in(fake_twilio.requests[-1].form["Body"])


def verify(client, code: str):
    return submit(client, "/account/verify", {"code": code})


def is_verified(app) -> bool:
    with app.app_context():
        return db.session.scalar(select(User)).phone_verified


def resend(client):
    return submit(client, "/account/verify/resend", {}, page="/account/verify")


def test_a_resend_that_fails_once_is_retried_and_its_code_verifies(twilio_app, fake_twilio):
    app = twilio_app()
    client, _first_code = signed_up_and_sent(app, fake_twilio)

    with frozen_clock() as clock:
        clock.shift(timedelta(minutes=2))  # past the minute between resends
        fake_twilio.fail_next(500)
        assert resend(client).status_code == 302
        assert [m.status for m in messages(app)] == ["queued", "pending"]
        work(app)
        retry = messages(app)[-1]
        assert (retry.status, retry.attempts, retry.error_code) == ("pending", 1, "20500")

        move_past(clock, retry.next_attempt_at)
        work(app)

        assert [r.status for r in fake_twilio.requests] == [201, 500, 201]
        assert [m.status for m in messages(app)] == ["queued", "queued"]
        latest_code = code_in(fake_twilio.requests[-1].form["Body"])
        response = verify(client, latest_code)  # the latest code the person received

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    assert is_verified(app)


def test_a_resend_that_fails_for_good_leaves_the_earlier_code_usable(twilio_app, fake_twilio):
    app = twilio_app()
    client, first_code = signed_up_and_sent(app, fake_twilio)

    with frozen_clock() as clock:
        clock.shift(timedelta(minutes=2))
        fake_twilio.fail_next(500, times=MAX_ATTEMPTS)
        assert resend(client).status_code == 302
        for _ in range(MAX_ATTEMPTS):
            work(app)
            retry = messages(app)[-1]
            if retry.status == "failed":
                break
            move_past(clock, retry.next_attempt_at)
        assert [m.status for m in messages(app)] == ["queued", "failed"]
        assert len(fake_twilio.messages) == 1  # the person only ever received the first code

        response = verify(client, first_code)

    page = response.get_data(as_text=True)
    assert WRONG_CODE not in page
    assert response.status_code == 302
    assert is_verified(app)


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
    assert caught.value.permanent is False  # our configuration, not the message, is wrong
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


def test_the_outbox_delivers_at_once_without_a_worker(make_app):
    app = make_app(**NO_TWILIO, SMS_BACKEND="outbox")
    queue(app)

    message = only_message(app)
    assert (message.backend, message.status) == ("outbox", "outbox")
    assert message.sent_at is not None
    assert work(app) == "Handled 0 messages.\n"
