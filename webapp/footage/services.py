"""Footage requests: an officer asks chosen camera owners for footage; owners answer YES or NO,
by text or on the website (one function, ``answer``, for both).

Rules:

- only approved, willing, current (not lapsed) registrations can be asked;
- the time window is 15 minutes to 12 hours long and has ended; the description is short and
  holds no victim details;
- each owner gets one text (and an email when they chose email) in their own language, with a
  4-digit code unique among that owner's open requests; an owner with several of the chosen
  registrations is asked once, and their answer covers all of them;
- a request closes after the longest retention period among the chosen registrations (after
  that no footage is left to ask for); unanswered owners then show "no answer", and late
  answers are refused;
- while a request is open an owner may change their answer either way: withdrawing a YES hides
  their contact details from the officer again;
- the officer sees an owner's contact details only once that owner has agreed, and every page
  view that shows them is audited.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..audit.services import record
from ..cameras.renewal import renewal
from ..cameras.search import distance_m
from ..errors import ServiceError
from ..extensions import db
from ..mail import MailError, send_email
from ..models import (
    CameraRegistration,
    FootageRecipient,
    FootageRequest,
    RecipientState,
    RegistrationStatus,
    User,
)
from ..models.types import utcnow
from ..sms.services import send_text
from ..sms.texts import site

log = logging.getLogger(__name__)

WINDOW_MIN = timedelta(minutes=15)
WINDOW_MAX = timedelta(hours=12)
DESCRIPTION_MAX = 300
# Case numbers go into texts: only characters every phone shows (GSM-7), at most 40 as police
# search allows (FootageRequest.case_number).
CASE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./#:_()-]{0,39}$")
CODE_DIGITS = 4


class FootageError(ServiceError):
    """A problem the officer or owner can fix (same shape as account errors)."""


class NotFound(Exception):
    """No such request or recipient for *this* officer or owner (answers 404)."""


class CaseNumberNeeded(FootageError):
    message = _l("Enter the case number.")
    field = "case_number"


class CaseNumberInvalid(FootageError):
    message = _l(
        "Enter the case number with at most 40 letters, digits, spaces, dashes, dots or slashes."
    )
    field = "case_number"


class LocationInvalid(FootageError):
    message = _l("The incident's location is missing. Start again from the camera search.")


class WindowBackwards(FootageError):
    message = _l("The end of the time window must be after its start.")
    field = "end_time"


class WindowTooShort(FootageError):
    message = _l("The time window must be at least 15 minutes long.")
    field = "end_time"


class WindowTooLong(FootageError):
    message = _l("The time window can be at most 12 hours long. Send another request for more.")
    field = "end_time"


class WindowInFuture(FootageError):
    message = _l("The time window cannot end in the future.")
    field = "end_time"


class DescriptionNeeded(FootageError):
    message = _l("Describe what happened and what the footage may show.")
    field = "description"


class DescriptionTooLong(FootageError):
    message = _l("Keep the description to 300 characters or fewer.")
    field = "description"


class NoOwnersChosen(FootageError):
    message = _l("Choose at least one camera owner to ask.")
    field = "registration"


class NotAskable(FootageError):
    message = _l(
        "Some of the chosen cameras cannot be asked: the registration is not approved, has "
        "lapsed or was withdrawn, or the owner paused requests. Untick them and send again."
    )
    field = "registration"


class UnknownCode(FootageError):
    message = _l("There is no open request for footage with this code.")


class RequestClosed(FootageError):
    message = _l("This request is closed. It can no longer be answered.")


# --- rules --------------------------------------------------------------------------------------


def valid_location(latitude: float | None, longitude: float | None) -> bool:
    return (
        latitude is not None
        and longitude is not None
        and -90 <= latitude <= 90  # refuses NaN too
        and -180 <= longitude <= 180
    )


def is_open(footage_request: FootageRequest, now: datetime | None = None) -> bool:
    return (now or utcnow()) < footage_request.closes_at


def is_askable(registration: CameraRegistration, now: datetime | None = None) -> bool:
    """Approved, willing, located and not lapsed: what police search finds."""
    return (
        registration.status == RegistrationStatus.APPROVED
        and registration.willing
        and registration.latitude is not None
        and registration.longitude is not None
        and renewal(registration, now).state != "inactive"
    )


def registrations_by_id(ids: list[int]) -> list[CameraRegistration]:
    unique = sorted(set(ids))
    if not unique:
        return []
    return list(
        db.session.scalars(select(CameraRegistration).where(CameraRegistration.id.in_(unique)))
    )


# --- the officer asks -------------------------------------------------------------------------


def create_request(
    officer: User,
    case_number: str,
    latitude: float,
    longitude: float,
    registration_ids: list[int],
    window_start: datetime,
    window_end: datetime,
    description: str,
) -> FootageRequest:
    """Ask the owners of ``registration_ids`` for footage of the window (aware datetimes).

    Commits the request, one recipient per registration and one queued text per owner, and
    the audit row; then emails the owners who chose email (a failed email is logged, not
    fatal: the text is the request)."""
    now = utcnow()
    case_number = _check_case_number(case_number)
    description = _check_description(description)
    _check_window(window_start, window_end, now)
    if not valid_location(latitude, longitude):
        raise LocationInvalid()
    if not registration_ids:
        raise NoOwnersChosen()
    registrations = registrations_by_id(registration_ids)
    if len(registrations) != len(set(registration_ids)) or not all(
        is_askable(r, now) for r in registrations
    ):
        raise NotAskable()

    longest = max(max(r.retention_days for r in registrations), 1)
    footage_request = FootageRequest(
        officer_id=officer.id,
        case_number=case_number,
        description=description,
        latitude=latitude,
        longitude=longitude,
        window_start=window_start,
        window_end=window_end,
        created_at=now,
        closes_at=now + timedelta(days=longest),
    )
    db.session.add(footage_request)
    db.session.flush()

    by_owner: dict[int, list[CameraRegistration]] = defaultdict(list)
    for registration in registrations:
        by_owner[registration.user_id].append(registration)
    owners = _lock_owners(sorted(by_owner))
    emails: list[tuple[User, str, list[CameraRegistration]]] = []
    for owner in owners:
        code = _new_code(owner.id, now)
        message = send_text(owner.phone, "footage_request", owner.locale, code=code,
                            case=case_number)  # fmt: skip
        for registration in by_owner[owner.id]:
            footage_request.recipients.append(
                FootageRecipient(
                    registration_id=registration.id,
                    owner_id=owner.id,
                    code=code,
                    distance_m=distance_m(
                        latitude, longitude, registration.latitude, registration.longitude
                    ),
                    state=RecipientState.SENT,
                    message_id=message.id,
                )
            )
        emails.append((owner, code, by_owner[owner.id]))
    record(
        "footage.requested", actor=officer, subject_type="footage_request",
        subject_id=footage_request.id,
        reason=f"case {case_number}; {len(owners)} owners, {len(registrations)} registrations",
    )  # fmt: skip
    db.session.commit()
    for owner, code, chosen in emails:
        _email_owner(footage_request, owner, code, chosen)
    return footage_request


def _check_case_number(case_number: str) -> str:
    case_number = " ".join((case_number or "").split())
    if not case_number:
        raise CaseNumberNeeded()
    if not CASE_NUMBER.match(case_number):
        raise CaseNumberInvalid()
    return case_number


def _check_description(description: str) -> str:
    description = (description or "").strip()
    if not description:
        raise DescriptionNeeded()
    if len(description) > DESCRIPTION_MAX:
        raise DescriptionTooLong()
    return description


def _check_window(start: datetime, end: datetime, now: datetime) -> None:
    if end <= start:
        raise WindowBackwards()
    if end - start < WINDOW_MIN:
        raise WindowTooShort()
    if end - start > WINDOW_MAX:
        raise WindowTooLong()
    if end > now:
        raise WindowInFuture()


def _lock_owners(owner_ids: list[int]) -> list[User]:
    """The owners, locked (PostgreSQL) in id order, so that two requests made at once cannot
    give one owner the same code twice (SQLite lets one writer at a time anyway)."""
    query = select(User).where(User.id.in_(owner_ids)).order_by(User.id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return list(db.session.scalars(query))


def open_codes(owner_id: int, now: datetime | None = None) -> list[str]:
    """The codes of the owner's open requests, newest first (a YES or NO by text without a
    code is answered with them)."""
    codes = db.session.scalars(
        select(FootageRecipient.code)
        .join(FootageRequest, FootageRequest.id == FootageRecipient.request_id)
        .where(FootageRecipient.owner_id == owner_id, FootageRequest.closes_at > (now or utcnow()))
        .order_by(FootageRequest.id.desc())
    )
    return list(dict.fromkeys(codes))  # an owner asked about several cameras: one code


def _new_code(owner_id: int, now: datetime) -> str:
    taken = set(open_codes(owner_id, now))
    while True:  # an owner with thousands of open requests is not a real case
        code = _random_code()
        if code not in taken:
            return code


def _random_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _email_owner(
    footage_request: FootageRequest, owner: User, code: str, chosen: list[CameraRegistration]
) -> None:
    addresses = sorted({r.email.strip() for r in chosen if "email" in r.methods and r.email})
    for address in addresses:
        with force_locale(owner.locale):
            subject = _("%(program)s: request for camera footage, case %(case)s",
                        program=_program(), case=footage_request.case_number)  # fmt: skip
            body = render_template(
                "footage/email_request.txt", footage_request=footage_request, code=code,
                registrations=chosen, program=_program(), site=site(),
            )  # fmt: skip
        try:
            send_email(address, subject, body, language=owner.locale, kind="footage_request")
        except MailError as exc:
            log.warning("footage request %s: email to an owner failed (%s)",
                        footage_request.id, exc)  # fmt: skip


def _program() -> str:
    return current_app.config["PROGRAM_NAME"]


# --- the owner answers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    request: FootageRequest
    code: str
    agreed: bool
    changed: bool


def answer(
    owner: User, code: str, yes: bool, channel: str, *, request_id: int | None = None
) -> Answer:
    """Record the owner's YES or NO to their open request with ``code`` (the web page also
    names the request, since a closed request's code may be reused). The SMS commands and the
    web buttons both call this; the caller commits. Raises ``UnknownCode`` or
    ``RequestClosed``."""
    now = utcnow()
    query = (
        select(FootageRecipient)
        .join(FootageRequest, FootageRequest.id == FootageRecipient.request_id)
        .where(FootageRecipient.owner_id == owner.id, FootageRecipient.code == code.strip())
        .order_by(FootageRequest.id.desc(), FootageRecipient.id)
    )
    if request_id is not None:
        query = query.where(FootageRecipient.request_id == request_id)
    recipients = db.session.scalars(query).all()
    if not recipients:
        raise UnknownCode()
    open_ids = [r.request_id for r in recipients
                if is_open(db.session.get(FootageRequest, r.request_id), now)]  # fmt: skip
    if not open_ids:
        raise RequestClosed()
    footage_request = db.session.get(FootageRequest, open_ids[0])  # the newest open one
    state = RecipientState.AGREED if yes else RecipientState.DECLINED
    changed = False
    for recipient in recipients:
        if recipient.request_id == footage_request.id and recipient.state != state:
            recipient.state = state
            recipient.answered_at = now
            recipient.answer_channel = channel
            changed = True
    if changed:
        record(
            "footage.agreed" if yes else "footage.declined", actor=owner,
            subject_type="footage_request", subject_id=footage_request.id, reason=channel,
        )  # fmt: skip
    return Answer(footage_request, code.strip(), yes, changed)
