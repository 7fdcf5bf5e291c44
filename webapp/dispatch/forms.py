"""The dispatcher's look-up form. The number and the incident are checked by the service
(``lookup.parse_phone``, ``lookup.clean_incident``), which the API shares, so both give the
same translated errors."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField

from .lookup import INCIDENT_MAX


class LookupForm(FlaskForm):
    phone = StringField(
        _l("Caller's phone number"),
        render_kw={"inputmode": "tel", "autocomplete": "off", "dir": "ltr", "maxlength": 40},
    )
    incident = StringField(
        _l("Incident reference"),
        render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": INCIDENT_MAX},
    )
