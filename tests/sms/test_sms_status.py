"""Twilio's status callbacks (``POST /sms/status``): signed, applied only forward.

Messages are sent for real through the worker and the fake Twilio API, so every callback names
a sid Twilio actually returned. Callbacks are signed the way Twilio signs them, over the public
URL (``PUBLIC_BASE_URL`` + path) and the form parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import OutboundMessage
from webapp.sms.services import send_text
from webapp.sms.worker import deliver_due

from ..support.twilio import signature, status_callback, status_params, twilio_settings

STATUS = "/sms/status"
PHONE = "+13125550142"


@pytest.fixture
def app(make_app, fake_twilio):
    return make_app(**twilio_settings(fake_twilio.url))


@dataclass(frozen=True)
class State:
    status: str
    error_code: str | None


def sent_message(app, to: str = PHONE) -> str:
    """Queue a text and let the worker hand it to (fake) Twilio; return Twilio's sid."""
    with app.app_context():
        message = send_text(to, "profile_stale_today", "en")
        db.session.commit()
        message_id = message.id
        assert deliver_due() == 1
        message = db.session.get(OutboundMessage, message_id)
        assert message.status == "queued"
        return message.provider_sid


def state(app, sid: str) -> State:
    with app.app_context():
        message = db.session.scalar(
            select(OutboundMessage).where(OutboundMessage.provider_sid == sid)
        )
        return State(message.status, message.error_code)


def all_states(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        return [(m.id, m.provider_sid, m.status, m.error_code) for m in rows]


def params(sid: str, status: str, **extra: str) -> dict[str, str]:
    """The form Twilio posts to a StatusCallback URL."""
    return status_params(sid, status, To=PHONE, **extra)


def callback(client, sid: str, status: str, **extra: str):
    return status_callback(client, sid, status, To=PHONE, **extra)


def test_a_message_moves_from_queued_to_sent_to_delivered(app):
    sid = sent_message(app)
    client = app.test_client()

    response = callback(client, sid, "sent")
    assert response.status_code == 204
    assert response.get_data() == b""
    assert state(app, sid) == State("sent", None)

    assert callback(client, sid, "delivered").status_code == 204
    assert state(app, sid) == State("delivered", None)


def test_callbacks_for_one_message_leave_the_others_alone(app):
    sid = sent_message(app)
    other = sent_message(app, "+13125550143")

    assert callback(app.test_client(), sid, "delivered").status_code == 204

    assert state(app, sid).status == "delivered"
    assert state(app, other).status == "queued"


@pytest.mark.parametrize("late", ["queued", "sending", "sent"])
def test_a_late_callback_after_delivered_changes_nothing(app, late):
    sid = sent_message(app)
    client = app.test_client()
    callback(client, sid, "delivered")

    assert callback(client, sid, late).status_code == 204

    assert state(app, sid) == State("delivered", None)


def test_failed_after_delivered_changes_nothing(app):
    sid = sent_message(app)
    client = app.test_client()
    callback(client, sid, "delivered")

    assert callback(client, sid, "failed", ErrorCode="30008").status_code == 204

    assert state(app, sid) == State("delivered", None)


def test_the_error_code_is_stored_when_a_message_is_undelivered(app):
    sid = sent_message(app)
    client = app.test_client()
    callback(client, sid, "sent")

    assert callback(client, sid, "undelivered", ErrorCode="30003").status_code == 204

    assert state(app, sid) == State("undelivered", "30003")

    # Final: a late "delivered" (of equal rank) does not overwrite it.
    callback(client, sid, "delivered")
    assert state(app, sid) == State("undelivered", "30003")


def test_an_unknown_sid_is_answered_and_changes_nothing(app):
    sent_message(app)
    before = all_states(app)

    response = callback(app.test_client(), "SM" + "f" * 32, "delivered")

    assert response.status_code == 204
    assert all_states(app) == before


def test_an_unknown_status_changes_nothing(app):
    sid = sent_message(app)

    assert callback(app.test_client(), sid, "exploded").status_code == 204

    assert state(app, sid) == State("queued", None)


def bad_signatures(form: dict[str, str]) -> dict[str, dict[str, str]]:
    tampered = {**form, "MessageStatus": "sent", "SmsStatus": "sent"}
    return {
        "missing": {},
        "empty": {"X-Twilio-Signature": ""},
        "garbage": {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
        "other token": {"X-Twilio-Signature": signature(STATUS, form, token="another-token")},
        # Signed for the host the request reached, not for PUBLIC_BASE_URL.
        "other url": {"X-Twilio-Signature": signature("http://localhost" + STATUS, form)},
        # A valid signature, but for other parameters.
        "other params": {"X-Twilio-Signature": signature(STATUS, tampered)},
    }


@pytest.mark.parametrize(
    "case", ["missing", "empty", "garbage", "other token", "other url", "other params"]
)
def test_a_missing_or_wrong_signature_is_refused_and_changes_nothing(app, case):
    sid = sent_message(app)
    before = all_states(app)
    form = params(sid, "undelivered", ErrorCode="30003")

    response = app.test_client().post("/sms/status", data=form, headers=bad_signatures(form)[case])

    assert response.status_code == 403
    assert all_states(app) == before


def test_a_get_is_not_allowed(app):
    assert app.test_client().get("/sms/status").status_code == 405


def test_a_callback_that_arrives_while_the_batch_is_still_being_sent_is_not_lost(
    app, fake_twilio, monkeypatch
):
    with app.app_context():
        first = send_text(PHONE, "profile_stale_today", "en").id
        send_text("+13125550143", "profile_stale_today", "en")
        db.session.commit()

    # Twilio has answered the first request and reports that text "sent" while the worker is
    # still sending the second one of the same batch.
    answers = []
    create = fake_twilio._message_resource

    def create_and_report_the_earlier_one(form):
        resource = create(form)
        if fake_twilio._requests:  # (the fake holds its lock here: no .requests)
            earlier = fake_twilio._requests[0].response["sid"]
            answers.append(callback(app.test_client(), earlier, "sent").status_code)
        return resource

    monkeypatch.setattr(fake_twilio, "_message_resource", create_and_report_the_earlier_one)
    with app.app_context():
        assert deliver_due(threads=1) == 2

    assert answers == [204]
    with app.app_context():
        assert db.session.get(OutboundMessage, first).status == "sent"
