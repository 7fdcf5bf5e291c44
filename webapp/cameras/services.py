"""Camera-registration operations, shared by the owner's pages, the moderators' console and the
SMS commands (``CAMERA ON``/``OFF`` and the pause button are one function).

Each public function is one unit of work: it commits, or raises a ``CameraError`` whose message
the page shows. Another owner's registration is never found (``NotFound`` -> 404).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..errors import ServiceError
from ..extensions import db
from ..models import (
    CameraEvent,
    CameraRegistration,
    CameraSystem,
    ConsentRecord,
    RegistrationStatus,
    User,
)
from ..models.types import utcnow
from ..sms.services import send_text
from .geocoding import geocoder, one_line

TERMS_VERSION = "2026-11-01"
ADDRESS_FIELDS = ("street", "unit", "city", "state", "zip_code")
REGISTRATION_FIELDS = (
    *ADDRESS_FIELDS,
    "business_name", "business_type", "hours", "contact_name", "contact_phone",
    "placard_wanted", "contact_methods", "email",
)  # fmt: skip
SYSTEM_FIELDS = ("placement", "camera_count", "views", "recording", "retention_days",
                 "can_export")  # fmt: skip
# Registration numbers: no 0/O, 1/I/L, so they can be read off a placard and typed.
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class CameraError(ServiceError):
    """A problem the owner or moderator can fix (same shape as account errors)."""


class NotFound(Exception):
    """No such registration for *this* owner (another owner's answers 404 too)."""


class LastSystem(CameraError):
    message = _l("A registration needs at least one camera system. Withdraw it instead.")


class LocationNeeded(CameraError):
    message = _l("Enter the latitude and longitude before approving.")
    field = "latitude"


class ReasonNeeded(CameraError):
    message = _l("Give a reason: the registrant will read it.")
    field = "reason"


class AlreadyDecided(CameraError):
    message = _l("This registration is not waiting for a decision any more.")


# --- the owner --------------------------------------------------------------------------------


def own_registrations(user: User) -> list[CameraRegistration]:
    return list(
        db.session.scalars(
            select(CameraRegistration)
            .where(CameraRegistration.user_id == user.id)
            .order_by(CameraRegistration.id)
        )
    )


def get_own(user: User, registration_id: int) -> CameraRegistration:
    registration = db.session.get(CameraRegistration, registration_id)
    if registration is None or registration.user_id != user.id:
        raise NotFound()
    return registration


def register(
    user: User, kind: str, data: dict[str, Any], system: dict[str, Any], *, willing: bool
) -> CameraRegistration:
    """A new registration, with its first camera system, waiting for a moderator. The terms
    (and the choice to be asked for footage) go to the consent ledger with their version."""
    registration = CameraRegistration(
        user_id=user.id,
        kind=kind,
        status=RegistrationStatus.PENDING,
        willing=willing,
        terms_version=TERMS_VERSION,
        terms_accepted_at=utcnow(),
        **{name: data.get(name) for name in REGISTRATION_FIELDS if name in data},
    )
    if kind != "business":
        registration.placard_wanted = False
    registration.systems.append(CameraSystem(**_system_values(system)))
    _summarise(registration)
    _locate(registration)
    db.session.add(registration)
    db.session.flush()
    _consent(user, "camera_terms", True, "web")
    _consent(user, "camera_requests", willing, "web")
    _event(registration, user, "submitted")
    record("camera.registered", actor=user, subject_type="camera_registration",
           subject_id=registration.id, reason=kind)  # fmt: skip
    db.session.commit()
    return registration


def update(user: User, registration_id: int, data: dict[str, Any]) -> CameraRegistration:
    """The owner edits the details. A new address must be located and verified again, so the
    registration goes back to the queue (and out of police search) until a moderator has
    approved it; so does any edit after changes were asked for or after a rejection."""
    registration = get_own(user, registration_id)
    moved = any(
        (data.get(name) or None) != (getattr(registration, name) or None)
        for name in ADDRESS_FIELDS
        if name in data
    )
    for name in REGISTRATION_FIELDS:
        if name in data:
            setattr(registration, name, data[name])
    if not registration.is_business:
        registration.placard_wanted = False
    if moved:
        registration.latitude = registration.longitude = None
        registration.location_verified = False
        registration.location_source = None
        _locate(registration)
    if moved or registration.status in (
        RegistrationStatus.CHANGES_REQUESTED,
        RegistrationStatus.REJECTED,
    ):
        _resubmit(registration, user, "address_changed" if moved else "resubmitted")
    else:
        _event(registration, user, "edited")
    db.session.commit()
    return registration


def save_system(
    user: User, registration_id: int, values: dict[str, Any], system_id: int | None = None
) -> CameraSystem:
    registration = get_own(user, registration_id)
    if system_id is None:
        system = CameraSystem(**_system_values(values))
        registration.systems.append(system)
    else:
        system = _own_system(registration, system_id)
        for name, value in _system_values(values).items():
            setattr(system, name, value)
    _summarise(registration)
    _after_owner_edit(registration, user)
    db.session.commit()
    return system


def remove_system(user: User, registration_id: int, system_id: int) -> None:
    registration = get_own(user, registration_id)
    system = _own_system(registration, system_id)
    if len(registration.systems) == 1:
        raise LastSystem()
    registration.systems.remove(system)
    _summarise(registration)
    _after_owner_edit(registration, user)
    db.session.commit()


def get_system(user: User, registration_id: int, system_id: int) -> CameraSystem:
    return _own_system(get_own(user, registration_id), system_id)


def set_willing(
    user: User, willing: bool, *, registration_id: int | None = None, channel: str = "web"
) -> int:
    """Pause or resume being asked for footage: one registration, or all of them (the
    ``CAMERA ON``/``CAMERA OFF`` texts). Recorded in the consent ledger. Returns how many
    registrations changed; 0 when the owner has none (or none changed). The caller commits."""
    if registration_id is None:
        registrations = own_registrations(user)
    else:
        registrations = [get_own(user, registration_id)]
    changed = 0
    for registration in registrations:
        if registration.willing != willing:
            registration.willing = willing
            action = "resumed" if willing else "paused"
            _event(registration, user, action)
            record(f"camera.{action}", actor=user, subject_type="camera_registration",
                   subject_id=registration.id, reason=channel)  # fmt: skip
            changed += 1
    if changed:
        _consent(user, "camera_requests", willing, channel)
    return changed


def renew(user: User, *, registration_id: int | None = None, channel: str = "web") -> int:
    """The owner says the approved registration(s) are still right: current for another year.
    Returns how many were renewed. The caller commits."""
    if registration_id is None:
        registrations = own_registrations(user)
    else:
        registrations = [get_own(user, registration_id)]
    renewed = 0
    now = utcnow()
    for registration in registrations:
        if registration.status == RegistrationStatus.APPROVED:
            registration.renewed_at = now
            _event(registration, user, "renewed")
            record("camera.renewed", actor=user, subject_type="camera_registration",
                   subject_id=registration.id, reason=channel)  # fmt: skip
            renewed += 1
    return renewed


def withdraw(user: User, registration_id: int) -> None:
    """Delete the registration and everything about it; the audit log keeps only ids."""
    registration = get_own(user, registration_id)
    record("camera.withdrawn", actor=user, subject_type="camera_registration",
           subject_id=registration.id)  # fmt: skip
    _consent(user, "camera_requests", False, "web")
    db.session.delete(registration)
    db.session.commit()


# --- moderators -------------------------------------------------------------------------------


def open_for_moderation(moderator: User, registration_id: int) -> CameraRegistration:
    """A moderator opens a registration (never a safety profile): audited."""
    registration = db.session.get(CameraRegistration, registration_id)
    if registration is None:
        raise NotFound()
    record("camera.viewed", actor=moderator, subject_type="camera_registration",
           subject_id=registration.id, reason="moderation")  # fmt: skip
    db.session.commit()
    return registration


def moderate(
    moderator: User,
    registration_id: int,
    action: str,
    *,
    reason: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> CameraRegistration:
    """Approve, reject or ask for changes. Approval needs verified coordinates; the other two
    need a reason the registrant reads. The registrant gets a text in their language."""
    registration = db.session.get(CameraRegistration, registration_id)
    if registration is None:
        raise NotFound()
    if registration.status != RegistrationStatus.PENDING:
        raise AlreadyDecided()
    reason = (reason or "").strip() or None
    if action == "approve":
        if latitude is None or longitude is None:
            raise LocationNeeded()
        if (latitude, longitude) != (registration.latitude, registration.longitude):
            registration.location_source = "moderator"
        registration.latitude, registration.longitude = latitude, longitude
        registration.location_verified = True
        registration.status = RegistrationStatus.APPROVED
        registration.renewed_at = utcnow()
    elif action in ("reject", "request_changes"):
        if reason is None:
            raise ReasonNeeded()
        registration.status = (
            RegistrationStatus.REJECTED if action == "reject"
            else RegistrationStatus.CHANGES_REQUESTED
        )  # fmt: skip
    else:
        raise ValueError(f"unknown moderation action {action!r}")
    registration.reviewed_at = utcnow()
    if action == "approve" and registration.number is None:
        _assign_number(registration)
    _event(registration, moderator, action, reason)
    record(f"camera.{action}", actor=moderator, subject_type="camera_registration",
           subject_id=registration.id, reason=reason)  # fmt: skip
    owner = db.session.get(User, registration.user_id)
    template = {"approve": "camera_approved", "reject": "camera_rejected",
                "request_changes": "camera_changes_requested"}[action]  # fmt: skip
    send_text(owner.phone, template, owner.locale, number=registration.number or "")
    db.session.commit()
    return registration


def is_valid_number(number: str) -> bool:
    """The public placard check: only whether the number belongs to an approved
    registration. Nothing else about it is ever shown."""
    number = normalise_number(number)
    if not number:
        return False
    status = db.session.scalar(
        select(CameraRegistration.status).where(CameraRegistration.number == number)
    )
    return status == RegistrationStatus.APPROVED


def normalise_number(number: str | None) -> str:
    cleaned = "".join(ch for ch in (number or "").upper() if ch.isalnum())
    if cleaned.startswith("CR"):
        cleaned = cleaned[2:]
    if len(cleaned) != 8 or any(ch not in NUMBER_ALPHABET for ch in cleaned):
        return ""
    return f"CR-{cleaned[:4]}-{cleaned[4:]}"


# --- inner workings ---------------------------------------------------------------------------


def _system_values(values: dict[str, Any]) -> dict[str, Any]:
    return {name: values.get(name) for name in SYSTEM_FIELDS if name in values}


def _own_system(registration: CameraRegistration, system_id: int) -> CameraSystem:
    for system in registration.systems:
        if system.id == system_id:
            return system
    raise NotFound()


def _summarise(registration: CameraRegistration) -> None:
    """Keep the search summary (cameras, what they see, days kept) in step with the systems."""
    systems = registration.systems
    registration.camera_count = sum(s.camera_count or 0 for s in systems)
    views = []
    for system in systems:
        views += [v for v in (system.views or "").split(",") if v and v not in views]
    registration.views = ",".join(views)
    registration.retention_days = max((s.retention_days or 0 for s in systems), default=0)


def _locate(registration: CameraRegistration) -> None:
    found = geocoder().locate(
        one_line(registration.street, registration.unit, registration.city,
                 registration.state, registration.zip_code)
    )  # fmt: skip
    if found is not None:
        registration.latitude, registration.longitude = found.latitude, found.longitude
        registration.location_source = "geocoder"


def _after_owner_edit(registration: CameraRegistration, user: User) -> None:
    if registration.status in (RegistrationStatus.CHANGES_REQUESTED, RegistrationStatus.REJECTED):
        _resubmit(registration, user, "resubmitted")
    else:
        _event(registration, user, "edited")


def _resubmit(registration: CameraRegistration, user: User, action: str) -> None:
    registration.status = RegistrationStatus.PENDING
    registration.submitted_at = utcnow()
    _event(registration, user, action)
    record("camera.resubmitted", actor=user, subject_type="camera_registration",
           subject_id=registration.id, reason=action)  # fmt: skip


def _assign_number(registration: CameraRegistration) -> None:
    for _attempt in range(5):
        code = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
        number = f"CR-{code[:4]}-{code[4:]}"
        taken = db.session.scalar(
            select(CameraRegistration.id).where(CameraRegistration.number == number)
        )
        if taken is None:
            registration.number = number
            return
    raise IntegrityError("registration number", None, Exception("no free number"))


def _event(registration, actor, action: str, reason: str | None = None) -> None:
    registration.events.append(
        CameraEvent(actor_id=actor.id if actor else None, action=action, reason=reason)
    )


def _consent(user: User, kind: str, granted: bool, channel: str) -> None:
    db.session.add(ConsentRecord(user_id=user.id, phone=user.phone, kind=kind, granted=granted,
                                 version=TERMS_VERSION, channel=channel))  # fmt: skip
