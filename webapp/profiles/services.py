"""Safety-profile operations, shared by the web pages and (later) the SMS commands.

Each public function is one unit of work: it commits, or raises a ``ProfileError`` whose
message the page shows. Items of another resident are never found (``NotFound`` -> 404).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..accounts.codes import check_code, issue_code
from ..audit.services import record
from ..errors import ServiceError
from ..extensions import db
from ..models import (
    CodePurpose,
    ConsentRecord,
    EmergencyContact,
    HouseholdMember,
    Pet,
    Profile,
    ProfilePhone,
    User,
    Vehicle,
)
from ..models.types import utcnow

SHARING_VERSION = "2026-11-01"

# The list sections: any number of items each.
ITEM_MODELS: dict[str, type] = {
    "members": HouseholdMember,
    "pets": Pet,
    "vehicles": Vehicle,
    "contacts": EmergencyContact,
}


class ProfileError(ServiceError):
    """A problem the resident can fix (same shape as account errors)."""


class NotFound(Exception):
    """No such item in *this* resident's profile (another resident's answers 404 too)."""


class ProfileIncomplete(ProfileError):
    message = _l(
        "Add your home address and agree to show your profile to 911 before confirming it."
    )


class PhoneAlreadyAdded(ProfileError):
    message = _l("This phone number is already on your profile.")
    field = "phone"


def profile_for(user: User) -> Profile:
    """The user's profile, created empty the first time (progress is saved as they go)."""
    profile = db.session.scalar(select(Profile).where(Profile.user_id == user.id))
    if profile is None:
        profile = Profile(user_id=user.id)
        db.session.add(profile)
        db.session.flush()
    return profile


def save_home(user: User, data: dict[str, Any]) -> Profile:
    profile = profile_for(user)
    for name, value in data.items():
        setattr(profile, name, value)
    db.session.commit()
    return profile


# --- list sections ---------------------------------------------------------------------------


def _owned(user: User, model: type, item_id: int):
    """Row ``item_id`` of ``model`` if it belongs to ``user``'s profile, else ``NotFound``."""
    item = db.session.scalar(
        select(model)
        .join(Profile, Profile.id == model.profile_id)
        .where(model.id == item_id, Profile.user_id == user.id)
    )
    if item is None:
        raise NotFound()
    return item


def get_item(user: User, section: str, item_id: int):
    return _owned(user, ITEM_MODELS[section], item_id)


def save_item(user: User, section: str, data: dict[str, Any], item_id: int | None = None):
    """Add an item to a list section, or change one of this user's items."""
    if item_id is None:
        item = ITEM_MODELS[section](profile_id=profile_for(user).id)
        db.session.add(item)
    else:
        item = get_item(user, section, item_id)
    for name, value in data.items():
        setattr(item, name, value)
    db.session.commit()
    return item


def remove_item(user: User, section: str, item_id: int) -> None:
    db.session.delete(get_item(user, section, item_id))
    db.session.commit()


# --- sharing and confirmation ----------------------------------------------------------------


def set_sharing(user: User, *, share_with_911: bool, emergency_planning: bool) -> Profile:
    """Record both choices in the consent ledger when they change."""
    profile = profile_for(user)
    for kind, attribute, granted in (
        ("share_911", "share_with_911", share_with_911),
        ("emergency_planning", "emergency_planning", emergency_planning),
    ):
        if getattr(profile, attribute) != granted:
            setattr(profile, attribute, granted)
            db.session.add(
                ConsentRecord(
                    user_id=user.id,
                    phone=user.phone,
                    kind=kind,
                    granted=granted,
                    version=SHARING_VERSION,
                    channel="web",
                )
            )
    db.session.commit()
    return profile


def confirm(user: User, *, channel: str = "web") -> Profile:
    """The resident says the profile is right as it is: it is fresh for 6 more months.

    The web's one-click button and the SMS ``CONFIRM`` command both call this; the caller
    commits. Raises ``ProfileIncomplete`` (having changed nothing).
    """
    profile = db.session.scalar(select(Profile).where(Profile.user_id == user.id))
    if profile is None or not (profile.has_address and profile.share_with_911):
        raise ProfileIncomplete()
    profile.confirmed_at = utcnow()
    record("profile.confirmed", actor=user, subject_type="user", subject_id=user.id,
           reason=channel)  # fmt: skip
    return profile


# --- further phones --------------------------------------------------------------------------


def add_phone(user: User, phone: str) -> ProfilePhone:
    """Add a number for 911 look-up and text it a code; it counts once verified."""
    profile = profile_for(user)
    if phone == user.phone or any(p.phone == phone for p in profile.phones):
        raise PhoneAlreadyAdded()
    entry = ProfilePhone(profile_id=profile.id, phone=phone)
    db.session.add(entry)
    db.session.flush()
    try:
        issue_code(user, CodePurpose.ADD_PROFILE_PHONE, phone)
    except ServiceError:
        db.session.delete(entry)  # a number that got no code is not kept half-added
        db.session.commit()
        raise
    db.session.commit()
    return entry


def resend_phone_code(user: User, phone_id: int) -> None:
    entry = own_phone(user, phone_id)
    issue_code(user, CodePurpose.ADD_PROFILE_PHONE, entry.phone)
    db.session.commit()


def verify_phone(user: User, phone_id: int, code: str) -> ProfilePhone:
    entry = own_phone(user, phone_id)
    row = check_code(user, CodePurpose.ADD_PROFILE_PHONE, code)
    if row.phone != entry.phone:  # the latest code went to another number being added
        db.session.rollback()
        raise ProfileError(
            _l("This code was sent to another number. Ask for a new code for this one."),
            field="code",
        )
    entry.verified_at = utcnow()
    record("profile.phone_verified", actor=user, subject_type="user", subject_id=user.id)
    db.session.commit()
    return entry


def remove_phone(user: User, phone_id: int) -> None:
    db.session.delete(own_phone(user, phone_id))
    db.session.commit()


def own_phone(user: User, phone_id: int) -> ProfilePhone:
    return _owned(user, ProfilePhone, phone_id)


# --- dispatchers -----------------------------------------------------------------------------


def record_dispatcher_view(
    profile: Profile, *, actor: User | None, agency: str, incident: str, channel: str
) -> None:
    """Audit a dispatcher's look-up of ``profile``; the resident sees it on their access page.

    Does not commit: it joins the look-up's transaction.
    """
    record("profile.viewed", actor=actor, subject_type="user", subject_id=profile.user_id,
           reason=incident, agency=agency or channel)  # fmt: skip
