"""Dispatchers' profile look-ups by phone number, shared by the console, the API for dispatch
systems and the emergency text sessions.

A look-up needs an incident reference. It finds the profile of the account whose verified
number it is, or of a verified further number, when that profile is shown to 911 (shared,
with an address, confirmed within 7 months). Each look-up is a ``ProfileLookup`` row that opens
a 45-minute window in which the dispatcher who made it may open the profile again; after that
a new look-up is needed.

Audit: every look-up writes ``dispatch.lookup`` (found or not; subject: the look-up, whose row
holds the number). One that finds a profile also writes ``profile.viewed`` on the resident,
which is what their "who has seen my profile" page lists: one entry per look-up, with when,
the agency and the incident. Each later opening inside the window writes ``profile.reopened``
on the resident (for the audit log; their page already shows that look-up).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager, joinedload

from ..audit.services import record
from ..errors import ServiceError
from ..extensions import db
from ..models import (
    ApiToken,
    EmergencySession,
    Profile,
    ProfileLookup,
    ProfilePhone,
    Role,
    SessionStatus,
    User,
)
from ..models.types import utcnow
from ..phones import InvalidPhoneNumber, to_e164
from ..profiles.freshness import PROFILE_SCHEDULE, freshness
from ..profiles.services import record_dispatcher_view
from .responder import RESPONDER_SECTIONS, ResponderView, responder_view

__all__ = [
    "LOOKUP_WINDOW",
    "LookupExpired",
    "LookupNotFound",
    "LookupProblem",
    "NoProfile",
    "ResponderView",
    "SessionClosed",
    "Shown",
    "find_profile",
    "lookup",
    "lookup_and_show",
    "open_lookups",
    "own_lookup",
    "responder_view",
    "session_view",
    "view",
]

LOOKUP_WINDOW = timedelta(minutes=45)
WINDOW_MINUTES = int(LOOKUP_WINDOW.total_seconds() // 60)
INCIDENT_MAX = 64  # ProfileLookup.incident
CHANNELS = ("web", "api", "session")
DEFAULT_AGENCY = "911"


class LookupProblem(ServiceError):
    """A problem the dispatcher can fix (same shape as account errors: message, field)."""

    code = "invalid_request"  # what the API answers with


class InvalidPhone(LookupProblem):
    message = _l("Enter a phone number, like 312 555 0142 or +48 601 234 567.")
    field = "phone"
    code = "invalid_phone"


class IncidentMissing(LookupProblem):
    message = _l("Enter the incident reference.")
    field = "incident"
    code = "invalid_incident"


class IncidentTooLong(LookupProblem):
    field = "incident"
    code = "invalid_incident"

    def __init__(self):
        super().__init__(
            _("The incident reference must be %(max)d characters or fewer.", max=INCIDENT_MAX)
        )


class LookupExpired(LookupProblem):
    """The look-up's window is over: a new look-up (with its incident) is needed."""

    code = "lookup_expired"

    def __init__(self):
        super().__init__(
            _("This look-up has ended: a profile can be seen for %(minutes)d minutes after "
              "the look-up. Look the number up again to see it.", minutes=WINDOW_MINUTES)
        )  # fmt: skip


class NoProfile(LookupProblem):
    """The look-up found no profile, or the profile is no longer shown to 911."""

    message = _l("No safety profile is shown to 911 for this number.")
    code = "not_found"


class SessionClosed(LookupProblem):
    message = _l(
        "This text session is closed. Look the number up with an incident reference to see "
        "the profile."
    )
    code = "session_closed"


class LookupNotFound(Exception):
    """No such look-up of *this* dispatcher's (another's answers 404 too)."""


@dataclass(frozen=True)
class Shown:
    """A look-up and what it shows: ``profile`` is None when no profile is shown to 911."""

    lookup: ProfileLookup
    profile: ResponderView | None


# --- finding ---------------------------------------------------------------------------------


def find_profile(phone: str, now: datetime | None = None) -> Profile | None:
    """The profile 911 is shown for ``phone`` (E.164), or None.

    The account's own verified number comes first; then a verified further number, the most
    recently confirmed profile first when several households list it. Only profiles shown to
    911 count. Each query is an equality look-up on a unique or indexed column (users.phone,
    profile_phones.phone) joined on keys, so the time does not grow with the number of
    profiles; the account, household, pets, vehicles and contacts come in the same query:
    one query for an account's number, two for a further number or nobody's.
    """
    now = now or utcnow()
    params = {"phone": phone, "lapsed": PROFILE_SCHEDULE.lapsed_before(now)}
    for statement in _statements():
        for profile in db.session.scalars(statement, params).unique():
            if freshness(profile, now).shown_to_911:
                return profile
    return None


@functools.cache
def _statements():
    """The two look-up queries, built once (with bound parameters): building a statement with
    its eager loads costs more CPU than running it."""
    base = (
        select(Profile)
        .join(Profile.user)
        .where(
            Profile.share_with_911.is_(True),
            Profile.confirmed_at > bindparam("lapsed"),
            Profile.street.is_not(None),
        )
        .options(
            contains_eager(Profile.user),  # its language
            *(joinedload(getattr(Profile, name)) for name in RESPONDER_SECTIONS),
        )
    )
    own = base.where(User.phone == bindparam("phone"), User.phone_verified_at.is_not(None))
    further = (
        base.join(ProfilePhone, ProfilePhone.profile_id == Profile.id)
        .where(ProfilePhone.phone == bindparam("phone"), ProfilePhone.verified_at.is_not(None))
        .order_by(Profile.confirmed_at.desc(), Profile.id.desc())
        .limit(5)
    )
    return own, further


def parse_phone(raw: str | None) -> str:
    try:
        return to_e164((raw or "").strip(), current_app.config["SMS_DEFAULT_REGION"])
    except InvalidPhoneNumber:
        raise InvalidPhone() from None


def clean_incident(raw: str | None) -> str:
    incident = " ".join((raw or "").split())  # trimmed; no tabs or line breaks kept
    if not incident:
        raise IncidentMissing()
    if len(incident) > INCIDENT_MAX:
        raise IncidentTooLong()
    return incident


def console_agency() -> str:
    return current_app.config.get("DISPATCH_AGENCY") or DEFAULT_AGENCY


# --- looking up ------------------------------------------------------------------------------


def _check_caller(dispatcher: User | None, token: ApiToken | None, channel: str) -> None:
    """Least privilege in the service too, not only in the routes."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if (dispatcher is None) == (token is None):
        raise ValueError("a look-up is made by a dispatcher or by an API token, not both")
    if (channel == "api") != (token is not None):
        raise ValueError("API tokens look up on the api channel only")
    if dispatcher is not None and dispatcher.role != Role.DISPATCHER.value:
        raise PermissionError("only dispatchers look up profiles")


def lookup_and_show(
    phone: str,
    incident: str,
    *,
    dispatcher: User | None = None,
    token: ApiToken | None = None,
    channel: str,
    session_id: int | None = None,
    now: datetime | None = None,
) -> Shown:
    """Look ``phone`` up for ``incident`` and return what it shows (see ``lookup``)."""
    return _look_up(phone, incident, dispatcher=dispatcher, token=token, channel=channel,
                    session_id=session_id, now=now, show=True)  # fmt: skip


def lookup(
    phone: str,
    incident: str,
    *,
    dispatcher: User | None = None,
    token: ApiToken | None = None,
    channel: str,
    session_id: int | None = None,
    now: datetime | None = None,
) -> ProfileLookup:
    """Look ``phone`` up for ``incident``, by a dispatcher (console, text session) or a
    dispatch system's token (API). Raises ``LookupProblem`` for a bad number or incident.

    Records the look-up (open for ``LOOKUP_WINDOW``) and audits it, found or not; a found
    profile's view is audited on the resident, with the agency (the token's, or
    ``DISPATCH_AGENCY`` for the console) and the incident.
    """
    return _look_up(phone, incident, dispatcher=dispatcher, token=token, channel=channel,
                    session_id=session_id, now=now, show=False).lookup  # fmt: skip


def _look_up(
    phone: str,
    incident: str,
    *,
    dispatcher: User | None,
    token: ApiToken | None,
    channel: str,
    session_id: int | None,
    now: datetime | None,
    show: bool,
) -> Shown:
    _check_caller(dispatcher, token, channel)
    now = now or utcnow()
    e164 = parse_phone(phone)
    incident = clean_incident(incident)
    agency = token.agency if token is not None else console_agency()
    profile = find_profile(e164, now)
    row = ProfileLookup(
        dispatcher_id=dispatcher.id if dispatcher is not None else None,
        api_token_id=token.id if token is not None else None,
        profile_id=profile.id if profile is not None else None,
        phone=e164,
        incident=incident,
        agency=agency,
        channel=channel,
        session_id=session_id,
        created_at=now,
        expires_at=now + LOOKUP_WINDOW,
    )
    db.session.add(row)
    db.session.flush()
    record("dispatch.lookup", outcome="success" if profile else "not_found", actor=dispatcher,
           subject_type="profile_lookup", subject_id=row.id, reason=incident,
           agency=agency)  # fmt: skip
    shown = None
    if profile is not None:
        record_dispatcher_view(profile, actor=dispatcher, agency=agency, incident=incident,
                               channel=channel)  # fmt: skip
        if show:
            shown = responder_view(profile, now)  # read before the commit expires the rows
    db.session.commit()
    return Shown(row, shown)


# --- opening a look-up again -----------------------------------------------------------------


def own_lookup(lookup_id: int, dispatcher: User) -> ProfileLookup:
    """The look-up ``lookup_id`` if ``dispatcher`` made it, else ``LookupNotFound``."""
    row = db.session.get(ProfileLookup, lookup_id)
    if row is None or row.dispatcher_id is None or row.dispatcher_id != dispatcher.id:
        raise LookupNotFound(lookup_id)
    return row


def _reopen(row: ProfileLookup, dispatcher: User, now: datetime) -> ResponderView:
    if now >= row.expires_at:
        raise LookupExpired()
    profile = db.session.get(Profile, row.profile_id) if row.profile_id else None
    if profile is None or not freshness(profile, now).shown_to_911:
        raise NoProfile()  # none found, or withdrawn, deleted or lapsed since
    record("profile.reopened", actor=dispatcher, subject_type="user", subject_id=profile.user_id,
           reason=row.incident, agency=row.agency)  # fmt: skip
    shown = responder_view(profile, now)
    db.session.commit()
    return shown


def view(lookup_id: int, dispatcher: User, now: datetime | None = None) -> ResponderView:
    """Open look-up ``lookup_id`` again: only the dispatcher who made it, only before it
    expires (then ``LookupExpired``: look the number up again). Every opening is audited.
    ``NoProfile`` when the look-up found nothing or the profile is no longer shown."""
    now = now or utcnow()
    return _reopen(own_lookup(lookup_id, dispatcher), dispatcher, now)


def open_lookups(dispatcher: User, now: datetime | None = None, limit: int = 20):
    """This dispatcher's look-ups still open, newest first (for the console)."""
    now = now or utcnow()
    return db.session.scalars(
        select(ProfileLookup)
        .where(ProfileLookup.dispatcher_id == dispatcher.id, ProfileLookup.expires_at > now)
        .order_by(ProfileLookup.id.desc())
        .limit(limit)
    ).all()


# --- text sessions ---------------------------------------------------------------------------


def session_view(
    session: EmergencySession,
    dispatcher: User,
    *,
    incident: str | None = None,
    now: datetime | None = None,
) -> Shown:
    """The texter's profile for a dispatcher answering an emergency text session.

    No look-up form: the first call looks the session's number up (channel ``session``,
    incident ``TEXT-<session id>`` unless given) and audits it like any look-up; later calls
    inside its window reopen that look-up (audited as a view). A closed session with no open
    look-up raises ``SessionClosed``: a look-up with an incident reference is then needed.
    """
    now = now or utcnow()
    row = db.session.scalar(
        select(ProfileLookup)
        .where(
            ProfileLookup.session_id == session.id,
            ProfileLookup.dispatcher_id == dispatcher.id,
            ProfileLookup.channel == "session",
            ProfileLookup.expires_at > now,
        )
        .order_by(ProfileLookup.id.desc())
        .limit(1)
    )
    if row is None:
        if session.status not in SessionStatus.LIVE:
            raise SessionClosed()
        return lookup_and_show(session.phone, incident or f"TEXT-{session.id}",
                               dispatcher=dispatcher, channel="session", session_id=session.id,
                               now=now)  # fmt: skip
    try:
        return Shown(row, _reopen(row, dispatcher, now))
    except NoProfile:
        return Shown(row, None)
