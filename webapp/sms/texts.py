"""Every text message we send, in one registry.

Texts are rendered in the *recipient's* language with ``force_locale``. Keeping them here
lets one test check every text, in every locale, against the SMS segment budget.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ..config import ConfigError
from ..i18n import BY_CODE
from .segments import segments

MAX_SEGMENTS = 2  # every text fits two SMS segments, with its values at their longest

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
    "second_factor_reset": _l(
        "%(program)s: an administrator reset your two-step verification. Set it up again when "
        "you next sign in. Not expected? Tell your supervisor now."
    ),
    "profile_stale_soon": _l(
        "%(program)s: please confirm your safety profile by %(date)s so 911 sees it as "
        "current. Reply CONFIRM or sign in to our website."
    ),
    "profile_stale_today": _l(
        "%(program)s: your safety profile is out of date today. 911 will see it as old. "
        "Reply CONFIRM or sign in to our website."
    ),
    # Replies to texts (TwiML). Carriers' HELP rules: program name, where to get help, message
    # frequency, rates, how to stop.
    "help": _l(
        "%(program)s: %(site)s. Msg frequency varies. Msg & data rates may apply. "
        "Reply STOP to end. Commands: STATUS, CONFIRM, CAMERA ON/OFF, LANG. Emergency: call 911."
    ),
    "help_unknown": _l(
        "%(program)s: sign up at %(site)s to tell 911 about your household. Msg frequency "
        "varies. Msg & data rates may apply. Reply HELP for help, STOP to end. Emergency: call 911."
    ),
    "stop_confirmation": _l(
        "%(program)s: you will get no more texts from us. Reply START to get them again."
    ),
    "start_confirmation": _l(
        "%(program)s: texts are on again. Msg & data rates may apply. Reply HELP for help, "
        "STOP to end."
    ),
    "status": _l(
        "%(program)s: profile %(state)s. Camera requests: %(camera)s. Language: %(language)s."
    ),
    "confirmed": _l("%(program)s: thank you. Your safety profile is confirmed until %(date)s."),
    "confirm_incomplete": _l(
        "%(program)s: your profile needs your home address and your OK to share it with 911. "
        "Please finish it on our website."
    ),
    "language_set": _l("%(program)s: we will write to you in English."),
    "language_unknown": _l(
        "%(program)s: reply LANG and one of: English, Español, Polski, 中文, العربية."
    ),
    # Anything we cannot read: the emergency line first, in the language of the text.
    "not_understood": _l(
        "If this is an emergency, call 911. %(program)s: we did not understand. "
        "Reply HELP for help."
    ),
    # The emergency relay (webapp/dispatch/relay.py). The instant reply to the text that opens
    # a session: dispatchers on duty, or not; or the session could not be written.
    "emergency_received": _l(
        "%(program)s: 911 dispatchers have your message. CALL 911 IF YOU CAN. If you cannot "
        "call, reply with your address and what is happening."
    ),
    "emergency_off_duty": _l(
        "%(program)s: this line is not monitored right now. Do not wait for an answer: CALL 911 "
        "NOW. If you cannot speak, text 911 directly."
    ),
    "emergency_failed": _l(
        "%(program)s: we could not pass your message to a dispatcher. CALL 911 NOW. If you "
        "cannot speak, text 911 directly."
    ),
    # Nobody claimed the session in time (EMERGENCY_CLAIM_TIMEOUT), or its dispatcher left.
    "emergency_unanswered": _l(
        "%(program)s: no dispatcher is answering your texts right now. Do not wait: CALL 911 "
        "NOW. If you cannot speak, text 911 directly."
    ),
    # To SUPERVISOR_PHONES: never anything the texter wrote.
    "emergency_supervisor_alert": _l(
        "%(program)s: emergency text session #%(session)s has waited %(seconds)s seconds "
        "without a dispatcher. Open the dispatch console."
    ),
    "emergency_supervisor_released": _l(
        "%(program)s: the dispatcher of emergency text session #%(session)s is no longer at "
        "the console; it is waiting again. Open the dispatch console."
    ),
    # A dispatcher's quick replies, in the texter's language.
    "emergency_ask_address": _l(
        "%(program)s, 911 dispatcher: what is your address? Street number, street, apartment "
        "and city."
    ),
    "emergency_ask_safe": _l("%(program)s, 911 dispatcher: are you safe now?"),
    "emergency_help_coming": _l(
        "%(program)s, 911 dispatcher: help is on the way. Text us if anything changes."
    ),
    "camera_approved": _l(
        "%(program)s: your camera registration %(number)s is approved. Thank you! You can "
        "print your placard on our website."
    ),
    "camera_changes_requested": _l(
        "%(program)s: please update your camera registration. Sign in to our website to see "
        "what to change."
    ),
    "camera_rejected": _l(
        "%(program)s: your camera registration was not approved. Sign in to our website to see why."
    ),
    "camera_renew_soon": _l(
        "%(program)s: please renew camera registration %(number)s by %(date)s. Reply CONFIRM "
        "or sign in to our website."
    ),
    "camera_renew_today": _l(
        "%(program)s: camera registration %(number)s is due for renewal today. Reply CONFIRM "
        "or sign in to our website."
    ),
    "camera_on": _l(
        "%(program)s: thank you. Police may ask you for footage; you can always say no. "
        "Reply CAMERA OFF to stop."
    ),
    "camera_off": _l(
        "%(program)s: police will not ask you for footage. Reply CAMERA ON to allow it again."
    ),
    "camera_none": _l("%(program)s: you have no camera registration. Register at %(site)s."),
    "cameras_renewed": _l(
        "%(program)s: thank you. Your camera registration is renewed for a year. Your safety "
        "profile still needs finishing on our website."
    ),
    # Footage requests (webapp/footage): the request, and the replies to YES/NO code. The
    # request carries no link (links in texts are what phishers imitate), and leaves the time
    # window and description to the website and email: with a 40-character case number, more
    # would not fit two UCS-2 segments (67 characters each) in Polish, Chinese or Arabic.
    "footage_request": _l(
        "%(program)s: police ask for footage from your cameras, case %(case)s. You are free to "
        "refuse. Reply YES %(code)s or NO %(code)s, or answer on our website."
    ),
    "footage_agreed": _l(
        "%(program)s: thank you. The officer will contact you about case %(case)s. Changed "
        "your mind? Reply NO %(code)s."
    ),
    "footage_declined": _l(
        "%(program)s: OK, you said no to case %(case)s. The police will not contact you about it."
    ),
    # A YES or NO without a code while requests are open (never taken as START).
    "footage_code_needed": _l(
        "%(program)s: please add the request's code, like YES %(code)s or NO %(code)s. "
        "Open: %(codes)s."
    ),
    "footage_unknown": _l(
        "%(program)s: no open footage request has the code %(code)s. It may have closed. See "
        "your requests on our website."
    ),
    "service_unavailable": _l(
        "%(program)s: we could not process your message. In an emergency, call 911."
    ),
}

# Short words that fill the STATUS text: camera requests.
CAMERA_STATES = {
    "on": _l("on"),
    "off": _l("off"),
    "none": _l("no cameras registered"),
}

# Short words that fill the STATUS text.
PROFILE_STATES = {
    "not_shared": _l("not shared with 911"),
    "unconfirmed": _l("not confirmed yet"),
    "active": _l("active, confirmed %(date)s"),
    "stale": _l("out of date, confirmed %(date)s"),
    "inactive": _l("inactive since %(date)s"),
    "none": _l("not started"),
}

# The longest value each placeholder can take, for the segment-budget test.
LONGEST_PARAMS = {
    "program": "Safety Registry",
    "code": "999999",
    "date": "30 de septiembre de 2027",  # the longest long date of our locales
    "site": "safety-registry.cityname.gov",
    "state": "out of date, confirmed 30 de septiembre de 2027",
    "camera": "no cameras registered",
    "number": "CR-XXXX-XXXX",
    "language": "简体中文",
    "case": "XX-2027-0000000000/9-XX-2027-0000000000/",  # footage.services.CASE_NUMBER: 40
    "session": "9999999999",  # an emergency session's id
    "seconds": "999999",  # how long it has waited
    "codes": "9999, 9999, 9999",  # the newest three open footage requests' codes
}


def site(app: Flask | None = None) -> str:
    """The site's address as people type it (no scheme), of ``app`` (the current app's)."""
    config = (app or current_app).config
    base = config["PUBLIC_BASE_URL"] or "http://127.0.0.1:5000"
    return base.split("://", 1)[-1].rstrip("/")


def render(template: str, locale: str, **params: str) -> str:
    """``TEXTS[template]`` in ``locale``, with ``params`` (the program's name and the site's
    address by default)."""
    params.setdefault("program", current_app.config["PROGRAM_NAME"])
    params.setdefault("site", site())
    with force_locale(locale):
        return str(TEXTS[template]) % params


def longest_text(program: str) -> tuple[str, str, int]:
    """The text that takes the most SMS segments with ``program`` as the program's name and
    every other value at its longest: (template, locale, segments)."""
    longest = ("", "", 0)
    for locale in BY_CODE:
        with force_locale(locale):
            for template, text in TEXTS.items():
                rendered = str(text) % {**LONGEST_PARAMS, "program": program}
                count = segments(rendered)
                if count > longest[2]:
                    longest = (template, locale, count)
    return longest


def check_program_name(app: Flask) -> None:
    """Refuse a PROGRAM_NAME that would push a text past ``MAX_SEGMENTS`` in some language,
    naming the text (called at start-up)."""
    with app.app_context():
        template, locale, count = longest_text(app.config["PROGRAM_NAME"])
    if count > MAX_SEGMENTS:
        raise ConfigError(
            f"PROGRAM_NAME {app.config['PROGRAM_NAME']!r} is too long for text messages: the "
            f"text {template!r} in {locale!r} would take {count} SMS segments (at most "
            f"{MAX_SEGMENTS}). Choose a shorter name."
        )
