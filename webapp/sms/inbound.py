"""Acting on a text: store it, read the command, call the same services as the web, reply.

``handle`` is idempotent per Twilio ``MessageSid``: a repeat gets the stored reply and changes
nothing. Emergency keywords, and every text but STOP from a number in a live emergency
session, go to the dispatchers' relay (``webapp/dispatch/relay/``) before anything else.
Replies are rendered in the sender's language (their account's, else the language of the
keyword they used).

How a text is stored before it is acted on, with as few commits and round trips as that
allows (README, "SMS webhook under load"):

- a text that changes nothing (HELP, STATUS, an unknown number, words we do not understand,
  a stopped number) is stored together with its reply in one ``INSERT`` and one commit, and
  the reply leaves only after that commit;
- a STOP or a START is stored with its reply and written to the consent ledger at once,
  on the same connection (its reply is known before acting): one statement on PostgreSQL,
  one transaction on SQLite;
- a text that changes something else (CONFIRM, LANG, CAMERA, YES/NO) is stored, acted on and
  marked answered in one transaction of the session, with the service functions' own writes;
- either way its effects can never exist without it, and if anything fails everything is
  rolled back and the webhook spools the text to disk, so the import acts on it later, once;
- an emergency text (a keyword, or any text from a number in a live session) is committed on
  its own before the relay is even tried, so that no later failure can lose it (DESIGN.md).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple

from flask import current_app
from flask_babel import force_locale, format_date
from sqlalchemy import bindparam, exists, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import driver_sql
from ..extensions import db
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
from . import texts
from .commands import Command, language_of, parse
from .services import consent_entry_after, record_sms_consent, send_text, sms_consent_values


# The webhook's records are named tuples: immutable like a frozen dataclass, which builds
# each field with ``object.__setattr__`` (about a microsecond more for each record).
class Reply(NamedTuple):
    template: str | None  # None: no reply at all (a stopped number, a text joining a session)
    locale: str
    params: Mapping[str, str] = MappingProxyType({})
    command: str | None = None  # what to record instead of the parsed command ("relay")

    def render(self) -> str:
        if self.template is None:
            return ""
        return texts.render(self.template, self.locale, **self.params)


class Sender(NamedTuple):
    """What the webhook needs to know about the number a text came from."""

    phone: str
    user_id: int | None
    locale: str | None
    verified: bool
    opted_out: bool  # the latest SMS consent entry is a STOP
    in_session: bool  # in a live emergency session


class Handled(NamedTuple):
    reply: str  # the reply's words ("" for none)
    new: bool  # False: this MessageSid was handled before, and nothing changed now


def effective_auth_token(config: Mapping[str, Any] | None = None) -> str | None:
    """Twilio's auth token (``config``: the app's, by default the current app's); outside
    production without one, a local token from SECRET_KEY (the development phone page signs
    with it). Production without a token accepts nothing."""
    if config is None:
        config = current_app.config
    token = config["TWILIO_AUTH_TOKEN"]
    if token:
        return token
    if config["APP_ENV"] == "production":
        return None
    key = config["SECRET_KEY"].encode()
    return hmac.new(key, b"development twilio token", hashlib.sha256).hexdigest()


def handle(
    form: dict[str, str], *, source: str = "webhook", received_at: datetime | None = None
) -> Handled:
    """Store the text and act on it (see the module's notes); return the reply.

    ``source="spool"``: a text imported from the spool, whose sender was already told that we
    could not process it, so the reply is queued as a text in the same transaction;
    ``received_at`` is when it reached us (stored as such, and an emergency text is filed in
    its session at that time).
    Raises whatever the database raises; the caller rolls back (and spools the text).
    """
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    body = form.get("Body", "")
    command = parse(body)
    # Reading the sender, and storing a text that changes nothing, are single statements,
    # each atomic on its own: on a server they run in autocommit, without the round trips
    # of BEGIN and COMMIT (SQLite has none to save, and starts no transaction to read). They
    # run on the driver's cursor (webapp/driver_sql.py).
    with driver_sql.connect(db.engine, autocommit=True) as conn:
        sender = _sender(conn, form.get("From", "")[:32])
        reply = answer(conn, sender, command)
        if reply is not None and source == "webhook":
            text = reply.render()
            with conn.writer_turn():
                stored = _store(conn, sid, form, sender, source, command=command.name, reply=text)
                conn.commit()  # nothing to commit in autocommit; the INSERT's on SQLite
            return Handled(text, new=True) if stored is not None else _replay(conn, sid)
        granted = _consent_change(sender, command)
        if granted is not None and source == "webhook":
            # STOP or START: the text, with its reply (known before acting), and its entry
            # in the consent ledger, together on this connection.
            reply = _consent_reply(granted, _locale(sender, command))
            text = reply.render()
            values = _stored(sid, form, sender, source, command=command.name, reply=text)
            stored = _store_with_consent(conn, values, sender, granted)
            return Handled(text, new=True) if stored is not None else _replay(conn, sid)

    # Anything else is one transaction of the session: the text, what it changes, the texts
    # it queues and its reply are committed together. The text's own statements run on the
    # driver's cursor too, inside the session's transaction.
    with driver_sql.joined(db.session.connection()) as conn:
        if reply is not None:  # from the spool, changing nothing: the reply goes as a text
            text = reply.render()
            stored = _store(conn, sid, form, sender, source, command=command.name, reply=text,
                            received_at=received_at)  # fmt: skip
            if stored is None:
                return _replay(conn, sid, rollback=True)
            reply_later(sender.phone, reply)
            db.session.commit()
            return Handled(text, new=True)
        message_id = _store(conn, sid, form, sender, source, received_at=received_at)
        if message_id is None:
            return _replay(conn, sid, rollback=True)
    reply = act(sender, command, message_id=message_id, body=body, received_at=received_at)
    text = reply.render()
    if source == "spool":
        reply_later(sender.phone, reply)
    with driver_sql.joined(db.session.connection()) as conn:  # (``act`` may have committed)
        conn.execute(
            _PROCESSED,
            {"message_id": message_id, "cmd": reply.command or command.name,
             "text": text or None, "at": utcnow()},
        )  # fmt: skip
    db.session.commit()
    return Handled(text, new=True)


def _replay(conn: driver_sql.DriverConnection, sid: str, *, rollback: bool = False) -> Handled:
    """A MessageSid seen before: its stored reply, and nothing else happens. ``rollback``:
    then end the session's transaction that the INSERT attempt began (which gives its
    connection back to the pool: nothing may run on ``conn`` after that)."""
    row = conn.execute(_STORED_REPLY, {"sid": sid})
    if rollback:
        db.session.rollback()
    return Handled((row[0] or "") if row else "", new=False)


def _store(conn: driver_sql.DriverConnection, *args, **kwargs) -> int | None:
    """Insert the text with ``_stored(*args, **kwargs)``'s values (its command and reply too
    when it is answered at once); does not commit. Its id, or None when its MessageSid is
    known (the insert did nothing)."""
    row = conn.execute(_INSERT, _stored(*args, **kwargs))
    return row[0] if row else None


def _store_with_consent(
    conn: driver_sql.DriverConnection, values: dict, sender: Sender, granted: bool
) -> int | None:
    """Insert a STOP or START (``values``: ``_stored``'s) and, unless its MessageSid is known,
    its entry in the consent ledger, atomically; commit. Its id, or None for a replay.

    On PostgreSQL one statement in autocommit: the entry is inserted from what the text's
    ``INSERT`` returns, so a replay writes none. That is one round trip, where BEGIN, the
    two INSERTs and COMMIT were four. SQLite (no round trips to save) runs them in one
    transaction."""
    if conn.dialect_name == "postgresql":
        entry = sms_consent_values(sender.phone, granted, channel="sms", user_id=sender.user_id)
        # One "at" for both rows: the entry is dated when the text arrived.
        row = conn.execute(_INSERT_WITH_CONSENT, {**entry, **values})
        return row[0] if row else None
    conn.begin()
    with conn.writer_turn():
        row = conn.execute(_INSERT, values)
        if row is not None:
            _change_consent(sender, granted, on=conn)
        conn.commit()  # (a replay's INSERT did nothing: nothing to commit)
    return row[0] if row else None


def _stored(
    sid: str,
    form: dict[str, str],
    sender: Sender,
    source: str,
    *,
    command: str | None = None,
    reply: str | None = None,
    received_at: datetime | None = None,
) -> dict:
    """The values of a text's row (``_INSERT``)."""
    now = utcnow()
    return {
        "sid": sid,
        "sender": sender.phone,
        "to": form.get("To", "")[:32] or None,
        "text": form.get("Body", ""),
        "src": source,
        "at": received_at or now,
        "cmd": command,
        "reply": reply or None,
        "done": now if command is not None else None,
    }


def _sender(conn: driver_sql.DriverConnection, phone: str) -> Sender:
    """The state of a number, in one query."""
    row = conn.execute(_SENDER_STATE, {"sender": phone})
    return Sender(
        phone=phone,
        user_id=row[0],
        locale=row[1],
        verified=row[2] is not None,
        opted_out=row[3] is False,
        in_session=row[4] is not None,
    )


# The webhook's statements are built once, with bound parameters, on the tables (Core):
# building SQLAlchemy expressions, or going through the ORM, on every request cost more than
# running them.
_COLUMNS = InboundMessage.__table__.c
_STORED_REPLY = driver_sql.DriverStatement(
    select(_COLUMNS.reply).where(_COLUMNS.message_sid == bindparam("sid"))
)
_PROCESSED = driver_sql.DriverStatement(
    update(InboundMessage.__table__)
    .where(_COLUMNS.id == bindparam("message_id"))
    .values(  # parameter names differ from the columns': SQLAlchemy reserves those
        command=bindparam("cmd"),
        reply=bindparam("text", type_=_COLUMNS.reply.type),
        processed_at=bindparam("at", type_=_COLUMNS.processed_at.type),
    )
)


def _insert_statement(dialect_insert):
    return (
        dialect_insert(InboundMessage.__table__)
        .values(
            message_sid=bindparam("sid"),
            from_number=bindparam("sender"),
            to_number=bindparam("to"),
            body=bindparam("text", type_=_COLUMNS.body.type),
            source=bindparam("src"),
            received_at=bindparam("at", type_=_COLUMNS.received_at.type),
            command=bindparam("cmd"),
            reply=bindparam("reply", type_=_COLUMNS.reply.type),
            processed_at=bindparam("done", type_=_COLUMNS.processed_at.type),
        )
        .on_conflict_do_nothing(index_elements=["message_sid"])
        .returning(_COLUMNS.id)
    )


_INSERT = driver_sql.DriverStatement(
    {"postgresql": _insert_statement(postgresql.insert), "sqlite": _insert_statement(sqlite.insert)}
)


def _insert_with_consent_statement():
    written = _insert_statement(postgresql.insert).cte("written")
    entry = consent_entry_after(written).cte("entry")
    return select(written.c.id).add_cte(entry)


_INSERT_WITH_CONSENT = driver_sql.DriverStatement({"postgresql": _insert_with_consent_statement()})


def _sender_state_statement():
    users, consents = User.__table__.c, ConsentRecord.__table__.c
    sessions = EmergencySession.__table__.c
    user = select(users.id, users.locale, users.phone_verified_at)
    user = user.where(users.phone == bindparam("sender")).subquery()
    latest_consent = (
        select(consents.granted)
        .where(consents.phone == bindparam("sender"), consents.kind == "sms")
        .order_by(consents.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    live_session = (
        select(sessions.id)
        .where(
            sessions.phone == bindparam("sender"),
            # Constants in the SQL, not an expanding parameter, which SQLAlchemy would render
            # again on every execution.
            sessions.status.in_([literal_column(f"'{status}'") for status in SessionStatus.LIVE]),
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


_SENDER_STATE = driver_sql.DriverStatement(_sender_state_statement())


def _locale(sender: Sender, command: Command) -> str:
    return sender.locale or command.locale or current_app.config["DEFAULT_LOCALE"]


def answer(conn: driver_sql.DriverConnection, sender: Sender, command: Command) -> Reply | None:
    """The reply to a text that changes nothing, or None when acting on it changes something
    (``act``). The order of the rules is DESIGN.md's. What it reads (a STATUS), it reads on
    ``conn``, the webhook's own connection."""
    if command.name in ("emergency", "stop", "start") or sender.in_session:
        return None
    locale = _locale(sender, command)
    if sender.opted_out:
        return Reply(None, locale)  # nothing but the STOP confirmation to a stopped number
    if sender.user_id is None or not sender.verified:
        return Reply("help_unknown", locale)
    if command.name == "help":
        return Reply("help", locale)
    if command.name == "status":
        return _status(conn, sender, locale)
    if command.name not in HANDLERS:
        return Reply("not_understood", locale)
    return None


def act(
    sender: Sender,
    command: Command,
    *,
    message_id: int,
    body: str,
    received_at: datetime | None = None,
) -> Reply:
    """Act on a stored text (``message_id``, whose words are ``body``) that ``answer`` left
    alone, and say what to reply. Does not commit, except that an emergency text is committed
    before the relay is tried."""
    locale = _locale(sender, command)
    user_id = sender.user_id if sender.verified else None
    # The emergency relay first, whatever else holds (a STOP sent before included): a keyword
    # opens a session or joins the live one; inside a live session every text but STOP joins
    # it (webapp/dispatch/relay/).
    if command.name == "emergency" or (sender.in_session and command.name != "stop"):
        from ..dispatch.relay import receive

        db.session.commit()  # stored for good before anything else is tried
        template, language = receive(
            sender.phone, body, message_id, user_id=user_id, locale=locale,
            keyword=command.name == "emergency", received_at=received_at,
        )  # fmt: skip
        recorded = "emergency" if command.name == "emergency" else "relay"
        return Reply(template, language, command=recorded)
    if command.name == "stop" and sender.in_session:
        # It keeps its meaning, and the dispatcher sees it too.
        from ..dispatch.relay import receive

        db.session.commit()
        receive(sender.phone, body, message_id, user_id=user_id, locale=locale,
                opens=False, received_at=received_at)  # fmt: skip
        _change_consent(sender, False)
        return _consent_reply(False, locale)
    granted = _consent_change(sender, command)
    if granted is not None:  # (from the spool; the webhook does this in ``handle``)
        _change_consent(sender, granted)
        return _consent_reply(granted, locale)
    return HANDLERS[command.name](db.session.get(User, sender.user_id), command)


def _consent_change(sender: Sender, command: Command) -> bool | None:
    """What a STOP (False) or START (True) writes to the consent ledger, when that is all it
    does; None for any other text, and for one from a number in an emergency session, which
    the relay sees first (``act``)."""
    if sender.in_session:
        return None
    return _CONSENT_COMMANDS.get(command.name)


_CONSENT_COMMANDS = {"stop": False, "start": True}


def _change_consent(
    sender: Sender, granted: bool, *, on: driver_sql.DriverConnection | None = None
) -> None:
    """All that a STOP (``granted`` False) or START changes, wherever it is acted on: the
    webhook's own transaction (``on``), or the session's (the spool, an emergency session)."""
    record_sms_consent(sender.phone, granted, channel="sms", user_id=sender.user_id, on=on)


def _consent_reply(granted: bool, locale: str) -> Reply:
    return Reply("start_confirmation" if granted else "stop_confirmation", locale)


def _status(conn: driver_sql.DriverConnection, sender: Sender, locale: str) -> Reply:
    """The profile's state, the camera requests' and the language, read in one statement
    (``_STATUS_STATE``) on the webhook's connection."""
    from ..profiles.freshness import freshness

    row = conn.execute(_STATUS_STATE, {"user_id": sender.user_id})
    if row is None:  # the account was deleted since its number was read
        return Reply("help_unknown", locale)
    has_profile, *facts, registered, willing = row
    profile = _ProfileFacts(*facts) if has_profile else None
    fresh = freshness(profile)
    with force_locale(locale):
        state_key = "none" if profile is None else fresh.state
        when = fresh.inactive_at if fresh.state == "inactive" else fresh.confirmed_at
        date = format_date(when, format="long") if when else ""
        state = str(texts.PROFILE_STATES[state_key]) % {"date": date}
        camera = str(texts.CAMERA_STATES["on" if willing else "off" if registered else "none"])
    language = BY_CODE[locale].name
    return Reply("status", locale, {"state": state, "camera": camera, "language": language})


class _ProfileFacts(NamedTuple):
    """What ``freshness`` reads of a profile, as ``_STATUS_STATE`` reads it."""

    share_with_911: bool
    confirmed_at: datetime | None
    street: str | None
    city: str | None
    state: str | None
    zip_code: str | None

    has_address = property(Profile.has_address.fget)  # the model's own rule


def _status_state_statement():
    """An account's profile, only what ``freshness`` reads (its notes and health fields are
    never read, so never decrypted, to answer a STATUS), and whether the account has camera
    registrations (any of them, as ``own_registrations`` lists them) and whether any is
    willing: one row for an account (with or without a profile), none for no account."""
    users, profiles = User.__table__.c, Profile.__table__.c
    registrations = CameraRegistration.__table__.c
    own = registrations.user_id == users.id
    facts = [getattr(profiles, name) for name in _ProfileFacts._fields]
    return (
        select(
            profiles.id.is_not(None),
            *facts,
            exists().where(own),
            exists().where(own, registrations.willing.is_(True)),
        )
        .select_from(User.__table__.outerjoin(Profile.__table__, profiles.user_id == users.id))
        .where(users.id == bindparam("user_id"))
    )


_STATUS_STATE = driver_sql.DriverStatement(_status_state_statement())


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


# Commands that change something (``act``); STATUS only reads (``answer``).
HANDLERS = {
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
