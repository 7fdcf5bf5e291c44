"""Development tools (never registered in production): the text-message outbox, and a page
that acts as a phone, so anyone can try the SMS channel with no Twilio account.

The phone page signs each text like Twilio does and posts it to ``/sms/inbound`` through the
whole app (signature check included); replies and outbox messages show as a conversation.
"""

from __future__ import annotations

import secrets
from html import unescape
from re import DOTALL, search

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from ..accounts.forms import PhoneField
from ..extensions import db
from ..models import InboundMessage, OutboundMessage
from .routes import effective_auth_token

bp = Blueprint("dev", __name__, url_prefix="/dev", template_folder="templates")


class PhoneSimulatorForm(FlaskForm):
    sender = PhoneField(
        _l("Text from this number"),
        validators=[InputRequired(message=_l("Enter a phone number."))],
    )
    body = TextAreaField(
        _l("Message"),
        validators=[
            InputRequired(message=_l("Write a message.")),
            Length(max=1600, message=_l("This answer must be %(max)d characters or fewer.")),
        ],
        render_kw={"rows": 2},
    )


@bp.route("/outbox")
def outbox():
    messages = db.session.scalars(
        select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(100)
    ).all()
    return render_template("dev/outbox.html", messages=messages)


@bp.route("/phone", methods=["GET", "POST"])
def phone():
    form = PhoneSimulatorForm()
    if request.method == "GET":
        form.sender.data = request.args.get("number", "+13125550142")
    if form.validate_on_submit():
        _post_like_twilio(form.sender.e164, form.body.data)
        return redirect(url_for("dev.phone", number=form.sender.e164))
    number = form.sender.e164 or request.args.get("number", "")
    return render_template("dev/phone.html", form=form, number=number,
                           conversation=_conversation(number))  # fmt: skip


def _post_like_twilio(sender: str, body: str) -> str:
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": current_app.config["TWILIO_FROM_NUMBER"] or "+15550100000",
        "Body": body,
        "NumMedia": "0",
    }
    base = current_app.config["PUBLIC_BASE_URL"] or request.host_url
    url = base.rstrip("/") + url_for("sms.inbound")
    signature = RequestValidator(effective_auth_token()).compute_signature(url, params)
    response = current_app.test_client().post(
        url_for("sms.inbound"),
        data=params,
        base_url=base,
        headers={"X-Twilio-Signature": signature},
    )
    match = search(r"<Message>(.*?)</Message>", response.get_data(as_text=True), DOTALL)
    return unescape(match.group(1)) if match else ""


def _conversation(number: str) -> list[dict]:
    if not number:
        return []
    inbound = db.session.scalars(
        select(InboundMessage).where(InboundMessage.from_number == number)
    ).all()
    outbound = db.session.scalars(select(OutboundMessage).where(OutboundMessage.to == number)).all()
    items = []
    for message in inbound:
        items.append({"at": message.received_at, "mine": True, "body": message.body or ""})
        if message.reply:
            items.append({"at": message.processed_at or message.received_at, "mine": False,
                          "body": message.reply, "status": "TwiML"})  # fmt: skip
    for message in outbound:
        items.append({"at": message.created_at, "mine": False, "body": message.body,
                      "status": message.status})  # fmt: skip
    return sorted(items, key=lambda item: item["at"])
