"""The dispatcher's forms: the look-up by phone, and the console's (duty, replies, closing a
session), with the labels of the relay's keys in the dispatcher's language. The services
check every value (``lookup.parse_phone``, ``lookup.clean_incident``, ``relay.RelayError``),
so the forms only carry them: a wrong value gets the service's translated message next to
its field, on the page and from the API alike."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from .lookup import INCIDENT_MAX
from .relay import MAX_REPLY_LENGTH, OUTCOMES


class LookupForm(FlaskForm):
    phone = StringField(
        _l("Caller's phone number"),
        render_kw={"inputmode": "tel", "autocomplete": "off", "dir": "ltr", "maxlength": 40},
    )
    incident = StringField(
        _l("Incident reference"),
        render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": INCIDENT_MAX},
    )


QUICK_REPLY_LABELS = {
    "address": _l("Ask for the address"),
    "safe": _l("Ask if they are safe"),
    "help_coming": _l("Say help is on the way"),
}
OUTCOME_LABELS = {
    "help_sent": _l("Help was sent"),
    "no_response": _l("The texter stopped answering"),
    "not_emergency": _l("Not an emergency"),
    "transferred_to_911": _l("Passed to a 911 call taker"),
    "other": _l("Other"),
    "lapsed": _l("Closed on its own: nobody answered it for an hour"),
}
DELIVERY_LABELS = {
    "queued": _l("Queued"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "failed": _l("Not delivered"),
    "outbox": _l("In the local outbox (development: not sent)"),
}


class DutyForm(FlaskForm):
    on = HiddenField()


class QuickReplyForm(FlaskForm):
    key = HiddenField()  # the buttons are named "key"


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Your reply"),
        render_kw={"rows": 4, "maxlength": MAX_REPLY_LENGTH, "dir": "auto", "autocomplete": "off"},
    )


class TransferForm(FlaskForm):
    # Choices are the dispatchers on duty when the page was drawn; the service checks again.
    to_user_id = SelectField(_l("Transfer to"), choices=[], validate_choice=False)


class CloseForm(FlaskForm):
    outcome = SelectField(
        _l("How did it end?"),
        choices=[SelectChoice("", _l("Choose one"))]
        + [SelectChoice(key, OUTCOME_LABELS[key]) for key in OUTCOMES],
        validate_choice=False,
    )
