"""Acting on a text: store it, read the command, call the same services as the web, reply.

``handle`` is idempotent per Twilio ``MessageSid``: a repeat gets the stored reply and changes
nothing. Emergency keywords, and every text but STOP from a number in a live emergency
session, go to the dispatchers' relay (``webapp/dispatch/relay.py``) before anything else.
Replies are rendered in the sender's language (their account's, else the language of the
keyword they used).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import force_locale, format_date
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..i18n import BY_CODE
from ..models import (
    ConsentRecord,
    EmergencySession,
    InboundMessage,
    Profile,
    SessionStatus,
    User,
)
from ..models.types import utcnow
from . import texts
from .commands import Command, language_of, parse
from .services import record_sms_consent, send_text


@dataclass(frozen=True)
class Reply:
    template: str | None  # None: no reply at all (a stopped number, a text joining a session)
    locale: str
    params: dict = field(default_factory=dict)
    command: str | None = None  # what to record instead of the parsed command ("relay")

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
    sender = form.get("From", "")[:32]
    message_id = _store(sid, sender, form, source)
    if message_id is None:  # this MessageSid was stored before: the same answer, no change
        reply = db.session.scalar(_STORED_REPLY, {"sid": sid})
        return reply or ""
    body = form.get("Body", "")
    command = parse(body)
    reply = dispatch(sender, command, message_id=message_id, body=body)
    text = reply.render()
    # One UPDATE, without loading the row back (and decrypting its body) first.
    db.session.execute(
        _PROCESSED,
        {"message_id": message_id, "cmd": reply.command or command.name, "text": text or None,
         "at": utcnow()},
        execution_options={"synchronize_session": False},
    )  # fmt: skip
    db.session.commit()
    return text


def _store(sid: str, sender: str, form: dict[str, str], source: str) -> int | None:
    """Insert and commit the text in one statement; None when its MessageSid is known."""
    params = {
        "sid": sid,
        "sender": sender,
        "to": form.get("To", "")[:32] or None,
        "text": form.get("Body", ""),
        "src": source,
        "at": utcnow(),
    }
    message_id = db.session.execute(_INSERTS[db.engine.dialect.name], params).scalar()
    db.session.commit()
    return message_id


def _sender_state(sender: str) -> tuple[int | None, str | None, bool, bool, bool]:
    """(user id, locale, phone verified, opted out, in a live emergency session) of a number,
    in one query."""
    row = db.session.execute(_SENDER_STATE, {"sender": sender}).one()
    return row[0], row[1], row[2] is not None, row[3] is False, row[4] is not None


# The webhook's statements are built once, with bound parameters: building SQLAlchemy
# expressions on every request cost more than running them.
_COLUMNS = InboundMessage.__table__.c
_STORED_REPLY = select(InboundMessage.reply).where(InboundMessage.message_sid == bindparam("sid"))
_PROCESSED = (
    update(InboundMessage)
    .where(InboundMessage.id == bindparam("message_id"))
    .values(  # parameter names differ from the columns': SQLAlchemy reserves those
        command=bindparam("cmd"),
        reply=bindparam("text", type_=_COLUMNS.reply.type),
        processed_at=bindparam("at", type_=_COLUMNS.processed_at.type),
    )
)


def _insert_statement(dialect_insert):
    return (
        dialect_insert(InboundMessage)
        .values(
            message_sid=bindparam("sid"),
            from_number=bindparam("sender"),
            to_number=bindparam("to"),
            body=bindparam("text", type_=_COLUMNS.body.type),
            source=bindparam("src"),
            received_at=bindparam("at", type_=_COLUMNS.received_at.type),
        )
        .on_conflict_do_nothing(index_elements=["message_sid"])
        .returning(InboundMessage.id)
    )


_INSERTS = {
    "postgresql": _insert_statement(postgresql.insert),
    "sqlite": _insert_statement(sqlite.insert),
}


def _sender_state_statement():
    user = select(User.id, User.locale, User.phone_verified_at)
    user = user.where(User.phone == bindparam("sender")).subquery()
    latest_consent = (
        select(ConsentRecord.granted)
        .where(ConsentRecord.phone == bindparam("sender"), ConsentRecord.kind == "sms")
        .order_by(ConsentRecord.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    live_session = (
        select(EmergencySession.id)
        .where(
            EmergencySession.phone == bindparam("sender"),
            EmergencySession.status.in_(SessionStatus.LIVE),
        )
        .limit(1)
        .scalar_subquery()
    )
    return select(
        select(user.c.id).scalar_subquery(),
        select(user.c.locale).scalar_subquery(),
        select(user.c.phone_verified_at).scalar_subquery(),
        latest_consent,
        live_session,
    )


_SENDER_STATE = _sender_state_statement()


def dispatch(
    sender: str, command: Command, *, message_id: int | None = None, body: str = ""
) -> Reply:
    """Act on a stored text (``message_id``, whose words are ``body``) and say what to reply."""
    user_id, user_locale, verified, opted_out, in_session = _sender_state(sender)
    locale = user_locale or command.locale or current_app.config["DEFAULT_LOCALE"]

    # The emergency relay first, whatever else holds (a STOP sent before included): a keyword
    # opens a session or joins the live one; inside a live session every text but STOP joins
    # it (webapp/dispatch/relay.py).
    if command.name == "emergency" or (in_session and command.name != "stop"):
        from ..dispatch.relay import receive

        template, language = receive(
            sender, body, message_id, user_id=user_id if verified else None, locale=locale,
            keyword=command.name == "emergency",
        )  # fmt: skip
        recorded = "emergency" if command.name == "emergency" else "relay"
        return Reply(template, language, command=recorded)
    if command.name == "stop":
        if in_session:  # it keeps its meaning, and the dispatcher sees it too
            from ..dispatch.relay import receive

            receive(sender, body, message_id, user_id=user_id if verified else None,
                    locale=locale, opens=False)  # fmt: skip
        record_sms_consent(sender, False, channel="sms", user_id=user_id)
        db.session.commit()
        return Reply("stop_confirmation", locale)
    if command.name == "start":
        record_sms_consent(sender, True, channel="sms", user_id=user_id)
        db.session.commit()
        return Reply("start_confirmation", locale)
    if opted_out:
        return Reply(None, locale)  # nothing but the STOP confirmation to a stopped number
    if user_id is None or not verified:
        return Reply("help_unknown", locale)
    if command.name == "help":
        return Reply("help", locale)
    handler = HANDLERS.get(command.name)
    if handler is None:
        return Reply("not_understood", locale)
    return handler(db.session.get(User, user_id), command)


def _status(user: User, command: Command) -> Reply:
    from ..profiles.freshness import freshness

    profile = db.session.scalar(select(Profile).where(Profile.user_id == user.id))
    fresh = freshness(profile)
    with force_locale(user.locale):
        state_key = "none" if profile is None else fresh.state
        when = fresh.inactive_at if fresh.state == "inactive" else fresh.confirmed_at
        date = format_date(when, format="long") if when else ""
        state = str(texts.PROFILE_STATES[state_key]) % {"date": date}
        camera = str(texts.CAMERA_STATES[_camera_state(user)])
    language = BY_CODE[user.locale].name
    return Reply("status", user.locale, {"state": state, "camera": camera, "language": language})


def _camera_state(user: User) -> str:
    from ..cameras.services import own_registrations

    registrations = own_registrations(user)
    if not registrations:
        return "none"
    return "on" if any(r.willing for r in registrations) else "off"


def _confirm(user: User, command: Command) -> Reply:
    """Reconfirm the profile and renew the approved camera registrations."""
    from ..cameras.services import renew
    from ..profiles import services as profiles
    from ..profiles.freshness import freshness

    renewed = renew(user, channel="sms")
    try:
        profile = profiles.confirm(user, channel="sms")
    except profiles.ProfileIncomplete:
        return Reply("cameras_renewed" if renewed else "confirm_incomplete", user.locale)
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


def _camera(willing: bool):
    def handler(user: User, command: Command) -> Reply:
        from ..cameras.services import own_registrations, set_willing

        if not own_registrations(user):
            return Reply("camera_none", user.locale)
        set_willing(user, willing, channel="sms")  # the same function as the web's button
        return Reply("camera_on" if willing else "camera_off", user.locale)

    return handler


def _footage_answer(yes: bool):
    """YES code / NO code: the same function as the buttons on the owner's requests page."""

    def handler(user: User, command: Command) -> Reply:
        from ..footage.services import FootageError, answer

        code = command.argument
        try:
            result = answer(user, code, yes, "sms")
        except FootageError:  # no such code, or the request has closed
            return Reply("footage_unknown", user.locale, {"code": code})
        params = {"code": result.code, "case": result.request.case_number}
        return Reply("footage_agreed" if yes else "footage_declined", user.locale, params)

    return handler


HANDLERS = {
    "status": _status,
    "confirm": _confirm,
    "lang": _language,
    "camera_on": _camera(True),
    "camera_off": _camera(False),
    "answer_yes": _footage_answer(True),
    "answer_no": _footage_answer(False),
}


def reply_later(sender: str, reply: Reply) -> None:
    """Send a reply as an ordinary text (for messages imported from the spool)."""
    if reply.template is not None:
        send_text(sender, reply.template, reply.locale, **reply.params)
