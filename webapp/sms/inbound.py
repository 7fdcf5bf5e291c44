"""Acting on a text: store it, read the command, call the same services as the web, reply.

``handle`` is idempotent per Twilio ``MessageSid``: a repeat gets the stored reply and changes
nothing. Replies are rendered in the sender's language (their account's, else the language of
the keyword they used).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import force_locale, format_date
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..i18n import BY_CODE
from ..models import InboundMessage, Profile, User
from ..models.types import utcnow
from . import texts
from .commands import Command, language_of, parse
from .services import record_sms_consent, send_text, sms_opted_out


@dataclass(frozen=True)
class Reply:
    template: str | None  # None: no reply at all (a stopped number)
    locale: str
    params: dict = field(default_factory=dict)

    def render(self) -> str:
        if self.template is None:
            return ""
        return texts.render(self.template, self.locale, **self.params)


def effective_auth_token() -> str | None:
    """Twilio's auth token; outside production without one, a local token from SECRET_KEY
    (the development phone page signs with it). Production without a token accepts nothing."""
    token = current_app.config["TWILIO_AUTH_TOKEN"]
    if token:
        return token
    if current_app.config["APP_ENV"] == "production":
        return None
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"development twilio token", hashlib.sha256).hexdigest()


def handle(form: dict[str, str], *, source: str = "webhook") -> str:
    """Store the text (committed before anything else), act on it, return the reply text."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    existing = db.session.scalar(select(InboundMessage).where(InboundMessage.message_sid == sid))
    if existing is not None:
        return existing.reply or ""
    message = InboundMessage(
        message_sid=sid,
        from_number=form.get("From", "")[:32],
        to_number=form.get("To", "")[:32] or None,
        body=form.get("Body", ""),
        source=source,
    )
    db.session.add(message)
    try:
        # Read the id before the commit expires the object (reading it after costs a SELECT).
        db.session.flush()
        message_id, sender = message.id, message.from_number
        db.session.commit()
    except IntegrityError:  # the same MessageSid, stored a moment ago by another request
        db.session.rollback()
        return ""
    command = parse(form.get("Body", ""))
    reply = dispatch(sender, command)
    text = reply.render()
    # One UPDATE, without loading the row back (and decrypting its body) first.
    db.session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == message_id)
        .values(command=command.name, reply=text or None, processed_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return text


def dispatch(sender: str, command: Command) -> Reply:
    user = db.session.scalar(select(User).where(User.phone == sender))
    locale = user.locale if user else (command.locale or current_app.config["DEFAULT_LOCALE"])
    user_id = user.id if user else None

    if command.name == "emergency":  # always answered, whatever else holds
        return Reply("emergency_not_monitored", locale)
    if command.name == "stop":
        record_sms_consent(sender, False, channel="sms", user_id=user_id)
        db.session.commit()
        return Reply("stop_confirmation", locale)
    if command.name == "start":
        record_sms_consent(sender, True, channel="sms", user_id=user_id)
        db.session.commit()
        return Reply("start_confirmation", locale)
    if sms_opted_out(sender):
        return Reply(None, locale)  # nothing but the STOP confirmation to a stopped number
    if user is None or not user.phone_verified:
        return Reply("help_unknown", locale)
    handler = HANDLERS.get(command.name)
    return handler(user, command) if handler else Reply("not_understood", locale)


def _help(user: User, command: Command) -> Reply:
    return Reply("help", user.locale)


def _status(user: User, command: Command) -> Reply:
    from ..profiles.freshness import freshness

    profile = db.session.scalar(select(Profile).where(Profile.user_id == user.id))
    fresh = freshness(profile)
    with force_locale(user.locale):
        state_key = "none" if profile is None else fresh.state
        when = fresh.inactive_at if fresh.state == "inactive" else fresh.confirmed_at
        date = format_date(when, format="long") if when else ""
        state = str(texts.PROFILE_STATES[state_key]) % {"date": date}
        camera = str(texts.CAMERA_UNAVAILABLE)
    language = BY_CODE[user.locale].name
    return Reply("status", user.locale, {"state": state, "camera": camera, "language": language})


def _confirm(user: User, command: Command) -> Reply:
    from ..profiles import services as profiles
    from ..profiles.freshness import freshness

    try:
        profile = profiles.confirm(user, channel="sms")
    except profiles.ProfileIncomplete:
        return Reply("confirm_incomplete", user.locale)
    with force_locale(user.locale):
        date = format_date(freshness(profile).stale_at, format="long")
    return Reply("confirmed", user.locale, {"date": date})


def _language(user: User, command: Command) -> Reply:
    from ..accounts.services import set_language

    code = language_of(command.argument)
    if code is None:
        return Reply("language_unknown", user.locale)
    set_language(user, code, channel="sms")
    return Reply("language_set", code)


def _not_available(user: User, command: Command) -> Reply:
    return Reply("not_available", user.locale)


HANDLERS = {
    "help": _help,
    "status": _status,
    "confirm": _confirm,
    "lang": _language,
    # Wired up when the camera registry and footage requests land.
    "camera_on": _not_available,
    "camera_off": _not_available,
    "answer_yes": _not_available,
    "answer_no": _not_available,
}


def reply_later(sender: str, reply: Reply) -> None:
    """Send a reply as an ordinary text (for messages imported from the spool)."""
    if reply.template is not None:
        send_text(sender, reply.template, reply.locale, **reply.params)
