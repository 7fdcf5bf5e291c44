"""Every text message we send, in one registry.

Texts are rendered in the *recipient's* language with ``force_locale``. Keeping them here
lets one test check every text, in every locale, against the SMS segment budget.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

TEXTS = {
    "verify_phone": _l(
        "%(program)s: your code is %(code)s. It expires in 10 minutes. Never share it."
    ),
    "reset_password": _l(
        "%(program)s: your password reset code is %(code)s. It expires in 10 minutes. "
        "If you did not ask for it, ignore this text."
    ),
    "change_phone": _l(
        "%(program)s: your code to add this phone number is %(code)s. It expires in 10 minutes."
    ),
}

# The longest value each placeholder can take, for the segment-budget test.
LONGEST_PARAMS = {"program": "Safety Registry", "code": "999999"}


def render(template: str, locale: str, **params: str) -> str:
    params.setdefault("program", current_app.config["PROGRAM_NAME"])
    with force_locale(locale):
        return str(TEXTS[template]) % params
