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
    "add_profile_phone": _l(
        "%(program)s: your code to add this phone to a safety profile is %(code)s. "
        "It expires in 10 minutes."
    ),
    "profile_stale_soon": _l(
        "%(program)s: please confirm your safety profile by %(date)s so 911 sees it as "
        "current. Reply CONFIRM or sign in to our website."
    ),
    "profile_stale_today": _l(
        "%(program)s: your safety profile is out of date today. 911 will see it as old. "
        "Reply CONFIRM or sign in to our website."
    ),
}

# The longest value each placeholder can take, for the segment-budget test.
LONGEST_PARAMS = {
    "program": "Safety Registry",
    "code": "999999",
    "date": "30 de septiembre de 2027",
}


def render(template: str, locale: str, **params: str) -> str:
    params.setdefault("program", current_app.config["PROGRAM_NAME"])
    with force_locale(locale):
        return str(TEXTS[template]) % params
