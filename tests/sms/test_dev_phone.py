"""The development phone page: the whole SMS channel without a Twilio account."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import InboundMessage

from ..support.web import sign_up, submit


def test_texting_from_the_phone_page_goes_through_the_signed_webhook(app, client, make_user):
    user = make_user(locale="en")
    response = submit(client, "/dev/phone", {"sender": user.phone, "body": "status"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "status" in page
    assert "profile not started" in page  # the TwiML reply, shown in the conversation
    with app.app_context():
        assert db.session.scalar(select(InboundMessage)).command == "status"


def test_outbox_texts_appear_in_the_conversation(app, client):
    sign_up(client, phone="+13125550142")
    page = client.get("/dev/phone?number=%2B13125550142").get_data(as_text=True)
    assert "your code is" in page


def test_the_phone_page_validates_its_form(client):
    page = submit(client, "/dev/phone", {"sender": "12", "body": ""}).get_data(as_text=True)
    assert "Enter a phone number, like" in page and "Write a message." in page


def test_the_phone_page_does_not_exist_in_production(make_app):
    assert make_app(APP_ENV="production").test_client().get("/dev/phone").status_code == 404
