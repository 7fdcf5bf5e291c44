"""Acting on a text: store it, read the command, call the same services as the web, reply.

Each text is one transaction: it is stored (``INSERT … ON CONFLICT DO NOTHING``, so a
MessageSid Twilio sends again changes nothing and gets the stored reply), acted on through
the feature services, and marked answered with its reply, then committed; if anything fails
the whole is rolled back and the webhook spools the text to disk, to be acted on once later.
An emergency text (a keyword anywhere, or any text from a number in a live session) is
committed on its own before the relay is even tried, so that no later failure can lose it.

The rules, in order (docs/sms.md): the emergency relay; STOP; HELP; a footage answer without
its code; START; then, for a number that replied STOP, only what reduces sharing (NO code,
CAMERA OFF); then the commands of a verified account. Replies are in the sender's language
(their account's, else the one they wrote in); "not understood" is in the language of the text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import force_locale, format_date
from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import load_only, raiseload

from ..accounts.services import set_language
from ..cameras import services as cameras
from ..dispatch.relay import receive
from ..extensions import db
from ..footage import services as footage
from ..i18n import BY_CODE
from ..models import (
    CameraRegistration,
    ConsentRecord,
    EmergencySession,
    InboundMessage,
    Profile,
    SessionStatus,
    User,
)
from ..models.types import utcnow
from ..profiles import services as profiles
from ..profiles.freshness import freshness
from ..sms import texts
from ..sms.commands import Command, language_of, parse
from ..sms.services import record_sms_consent, send_text

# Commands a number that replied STOP may still give: they only reduce what it shares.
REDUCES_SHARING = frozenset({"answer_no", "camera_off"})


@dataclass(frozen=True)
class Reply:
    template: str | None  # None: no reply at all (a stopped number, a text joining a session)
    locale: str
    params: Mapping[str, str] = field(default_factory=dict)
    command: str | None = None  # what to record instead of the parsed command ("relay")

    def render(self) -> str:
        if self.template is None:
            return ""
        return texts.render(self.template, self.locale, **self.params)


@dataclass(frozen=True)
class Sender:
    """What the webhook needs to know about the number a text came from."""

    phone: str
    user_id: int | None
    locale: str | None
    verified: bool
    opted_out: bool  # the latest SMS consent entry is a STOP
    in_session: bool  # in a live emergency session

    @property
    def account(self) -> int | None:
        """The account whose commands this number may give: a verified one."""
        return self.user_id if self.verified else None


@dataclass(frozen=True)
class Handled:
    reply: str  # the reply's words ("" for none)
    new: bool  # False: this MessageSid was handled before, and nothing changed now


def handle(
    form: Mapping[str, str], *, source: str = "webhook", received_at: datetime | None = None
) -> Handled:
    """Store the text and act on it (see the module's notes); return the reply.

    ``source="spool"``: a text imported from the spool, whose sender was already told that we
    could not process it, so the reply is queued as a text in the same transaction;
    ``received_at`` is when it reached us (stored as such, and an emergency text is filed in
    its session at that time). Raises whatever the database raises; the caller rolls back.
    """
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    body = form.get("Body", "")
    phone = form.get("From", "")[:32]
    command = parse(body)
    message_id = db.session.execute(
        _INSERT[db.session.get_bind().dialect.name],
        {
            "message_sid": sid,
            "from_number": phone,
            "to_number": form.get("To", "")[:32] or None,
            "body": body,
            "source": source,
            "received_at": received_at or utcnow(),
        },
    ).scalar()
    if message_id is None:  # Twilio sent this one before
        stored = db.session.scalar(_STORED_REPLY, {"sid": sid})
        db.session.rollback()
        return Handled(stored or "", new=False)

    sender = read_sender(phone)
    reply = respond(sender, command, message_id=message_id, body=body, received_at=received_at)
    text = reply.render()
    if source == "spool" and reply.template is not None:
        send_text(sender.phone, reply.template, reply.locale, **reply.params)
    db.session.execute(
        _ANSWERED,
        {"message_id": message_id, "cmd": reply.command or command.name, "text": text or None,
         "at": utcnow()},
    )  # fmt: skip
    db.session.commit()
    return Handled(text, new=True)


# The webhook's statements, built once with bound parameters (Core, on the tables), as
# SQLAlchemy's documentation advises for statements run on every request.
_MESSAGES = InboundMessage.__table__


def _insert_text(insert):
    """The text's row, unless its MessageSid is stored already: its id, or no row."""
    return (insert(_MESSAGES).on_conflict_do_nothing(index_elements=["message_sid"])).returning(
        _MESSAGES.c.id
    )


_INSERT = {"postgresql": _insert_text(postgresql.insert), "sqlite": _insert_text(sqlite.insert)}
_STORED_REPLY = select(_MESSAGES.c.reply).where(_MESSAGES.c.message_sid == bindparam("sid"))
_ANSWERED = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("message_id"))
    .values(
        command=bindparam("cmd"),
        reply=bindparam("text", type_=_MESSAGES.c.reply.type),
        processed_at=bindparam("at", type_=_MESSAGES.c.processed_at.type),
    )
)


def _sender_state():
    """A number's account, latest SMS consent and live emergency session, in one query."""
    users, consents = User.__table__.c, ConsentRecord.__table__.c
    sessions = EmergencySession.__table__.c
    phone = bindparam("phone", type_=users.phone.type)
    user = select(users.id, users.locale, users.phone_verified_at).where(users.phone == phone)
    user = user.subquery()
    latest_consent = (
        select(consents.granted)
        .where(consents.phone == phone, consents.kind == "sms")
        .order_by(consents.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    live_session = exists().where(
        sessions.phone == phone, sessions.status.in_(list(SessionStatus.LIVE))
    )
    return select(
        select(user.c.id).scalar_subquery(),
        select(user.c.locale).scalar_subquery(),
        select(user.c.phone_verified_at).scalar_subquery(),
        latest_consent,
        live_session,
    )


_SENDER_STATE = _sender_state()


def read_sender(phone: str) -> Sender:
    """The state of a number, in one query."""
    row = db.session.execute(_SENDER_STATE, {"phone": phone}).one()
    return Sender(
        phone=phone,
        user_id=row[0],
        locale=row[1],
        verified=row[2] is not None,
        opted_out=row[3] is False,
        in_session=bool(row[4]),
    )


def respond(
    sender: Sender,
    command: Command,
    *,
    message_id: int,
    body: str,
    received_at: datetime | None = None,
) -> Reply:
    """Act on a stored text (``message_id``, whose words are ``body``) and say what to reply.
    Does not commit, except that an emergency text is committed before the relay is tried."""
    default = current_app.config["DEFAULT_LOCALE"]
    locale = sender.locale or command.locale or default
    name = command.name
    # The emergency relay first, whatever else holds (a STOP sent before included): a keyword
    # opens a session or joins the live one; inside a live session every text joins it.
    if name == "emergency" or sender.in_session:
        return _relay(sender, command, message_id, body, locale, received_at)
    if name == "stop":
        record_sms_consent(sender.phone, False, channel="sms", user_id=sender.user_id)
        return Reply("stop_confirmation", locale)
    if name == "help":  # always answered, STOP or not (the carriers' rules)
        return Reply("help" if sender.account else "help_unknown", locale)
    if name in ("answer_yes", "answer_no") and not command.argument:
        asked = _ask_for_code(sender.account, locale) if sender.account else None
        if asked is not None:
            return asked
        if name == "answer_yes" and sender.opted_out:
            name = "start"  # "YES" from a number that replied STOP, with nothing to answer
        else:
            return Reply("not_understood", command.locale or locale)
    if name == "start":
        record_sms_consent(sender.phone, True, channel="sms", user_id=sender.user_id)
        return Reply("start_confirmation", locale)
    if name == "unknown":  # from anyone: it starts with "call 911"
        return Reply("not_understood", command.locale or locale)
    if sender.opted_out and name not in REDUCES_SHARING:
        return Reply(None, locale)  # a number that replied STOP has left: no effect, no reply
    if sender.account is None:
        return Reply("help_unknown", locale)
    user = db.session.get(User, sender.account)
    return HANDLERS[name](user, command)


def _ask_for_code(user_id: int, locale: str) -> Reply | None:
    """While footage requests are open, a YES or NO without a valid code asks for one,
    naming the newest three open codes; None when none is open."""
    codes = footage.open_codes(user_id)
    if not codes:
        return None
    return Reply("footage_code_needed", locale, {"code": codes[0], "codes": ", ".join(codes[:3])})


def _relay(
    sender: Sender,
    command: Command,
    message_id: int,
    body: str,
    locale: str,
    received_at: datetime | None,
) -> Reply:
    """File the text in the number's emergency session (webapp/dispatch/relay/), after
    committing it. A STOP inside a session keeps its meaning too, and the dispatcher sees it."""
    recorded = "emergency" if command.name == "emergency" else "relay"
    if command.name == "stop":
        recorded = "stop"
    db.session.execute(
        update(InboundMessage).where(InboundMessage.id == message_id).values(command=recorded)
    )
    db.session.commit()  # stored for good before anything else is tried
    template, language = receive(
        sender.phone, body, message_id, user_id=sender.account, locale=locale,
        keyword=command.name == "emergency", opens=command.name != "stop",
        received_at=received_at,
    )  # fmt: skip
    if command.name == "stop":
        record_sms_consent(sender.phone, False, channel="sms", user_id=sender.user_id)
        return Reply("stop_confirmation", locale, command=recorded)
    return Reply(template, language, command=recorded)


def _status(user: User, command: Command) -> Reply:
    """The profile's state (read without its notes and health fields, so none is decrypted),
    camera requests on or off, and the language."""
    profile = db.session.scalar(
        select(Profile)
        .where(Profile.user_id == user.id)
        .options(
            load_only(
                Profile.share_with_911, Profile.confirmed_at, Profile.street, Profile.city,
                Profile.state, Profile.zip_code,
            ),
            raiseload("*"),
        )
    )  # fmt: skip
    registrations = select(CameraRegistration.willing).where(CameraRegistration.user_id == user.id)
    willing = db.session.scalars(registrations).all()
    fresh = freshness(profile)
    locale = user.locale
    with force_locale(locale):
        state_key = "none" if profile is None else fresh.state
        when = fresh.inactive_at if fresh.state == "inactive" else fresh.confirmed_at
        date = format_date(when, format="long") if when else ""
        state = str(texts.PROFILE_STATES[state_key]) % {"date": date}
        camera = str(texts.CAMERA_STATES["on" if any(willing) else "off" if willing else "none"])
    language = BY_CODE[locale].name
    return Reply("status", locale, {"state": state, "camera": camera, "language": language})


def _confirm(user: User, command: Command) -> Reply:
    """Reconfirm the profile and renew the approved camera registrations."""
    renewed = cameras.renew(user, channel="sms")
    try:
        profile = profiles.confirm(user, channel="sms")
    except profiles.ProfileIncomplete:
        return Reply("cameras_renewed" if renewed else "confirm_incomplete", user.locale)
    with force_locale(user.locale):
        date = format_date(freshness(profile).stale_at, format="long")
    return Reply("confirmed", user.locale, {"date": date})


def _language(user: User, command: Command) -> Reply:
    code = language_of(command.argument)
    if code is None:
        return Reply("language_unknown", user.locale)
    set_language(user, code, channel="sms")
    return Reply("language_set", code)


def _camera(willing: bool):
    def handler(user: User, command: Command) -> Reply:
        if not cameras.own_registrations(user):
            return Reply("camera_none", user.locale)
        cameras.set_willing(user, willing, channel="sms")  # the same function as the web's
        return Reply("camera_on" if willing else "camera_off", user.locale)

    return handler


def _footage_answer(yes: bool):
    """YES code / NO code: the same function as the buttons on the owner's requests page."""

    def handler(user: User, command: Command) -> Reply:
        code = command.argument
        try:
            result = footage.answer(user, code, yes, "sms")
        except footage.FootageError:  # no such code, or the request has closed
            return _ask_for_code(user.id, user.locale) or Reply(
                "footage_unknown", user.locale, {"code": code}
            )
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
