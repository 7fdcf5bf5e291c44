"""What a 911 dispatcher (or a dispatch system) is shown of a safety profile.

Only what responders need: the home and how to get in, hazards and shut-offs, the household
(health, language and communication), pets, vehicles, emergency contacts, and how fresh the
answers are. Left out on purpose: vaccinations, the profile's other phone numbers, the
emergency-planning choice, and every account detail but the language.

The values are copied out of the ORM rows into frozen dataclasses while the rows are loaded,
so a view outlives its database session and cannot write anything back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..i18n import BY_CODE
from ..models import HouseholdMember, Profile
from ..models.types import utcnow
from ..profiles.freshness import freshness

# The profile's lists responders see (loaded with the profile by ``lookup.find_profile``).
RESPONDER_SECTIONS = ("members", "pets", "vehicles", "contacts")


@dataclass(frozen=True)
class FreshnessView:
    state: str  # "active" or "stale" (only those are shown to 911)
    confirmed_at: datetime
    days_since_confirmed: int
    stale: bool  # past 6 months: shown, with its age
    stale_at: datetime  # when it went, or goes, stale


@dataclass(frozen=True)
class AddressView:
    street: str | None
    unit: str | None
    city: str | None
    state: str | None
    zip_code: str | None
    building_type: str | None  # house, apartment, mobile_home, senior_living, other
    floor: str | None
    bedrooms: str | None


@dataclass(frozen=True)
class MemberView:
    name: str | None
    relationship: str | None  # self, partner, child, parent, ... (profiles.forms.RELATIONSHIPS)
    birth_year: int | None
    age: int | None  # this year minus the year of birth: the age now or in a few months
    description: str | None
    language: str | None
    interpreter_needed: bool
    communication: tuple[str, ...]  # deaf, blind, speech, nonverbal, autism, cognitive
    medical_conditions: str | None
    medications: str | None
    allergies: str | None
    blood_type: str | None
    mental_health: str | None
    disabilities: str | None
    equipment: str | None
    advance_directive: str | None


@dataclass(frozen=True)
class PetView:
    name: str | None
    kind: str | None
    service_animal: bool
    notes: str | None


@dataclass(frozen=True)
class VehicleView:
    make: str | None
    model: str | None
    colour: str | None
    plate: str | None


@dataclass(frozen=True)
class ContactView:
    name: str
    relationship: str | None
    phone: str  # E.164
    language: str | None


@dataclass(frozen=True)
class ResponderView:
    """A profile as responders see it. ``to_dict()`` gives the API's JSON."""

    language: str  # the account holder's language (BCP 47 tag): texts and site
    interpreter_needed: bool  # someone in the household needs an interpreter
    interpreter_languages: tuple[str, ...]  # the languages of those who need one
    address: AddressView
    access_notes: str | None
    hazards: str | None
    utility_shutoffs: str | None
    notes: str | None
    members: tuple[MemberView, ...]
    pets: tuple[PetView, ...]
    vehicles: tuple[VehicleView, ...]
    contacts: tuple[ContactView, ...]
    freshness: FreshnessView

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self, dict_factory=_json_ready)


def _json_ready(items: list[tuple[str, Any]]) -> dict[str, Any]:
    out = {}
    for key, value in items:
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def _member(member: HouseholdMember, year: int) -> MemberView:
    return MemberView(
        name=member.name,
        relationship=member.relationship_,
        birth_year=member.birth_year,
        age=year - member.birth_year if member.birth_year else None,
        description=member.description,
        language=member.language,
        interpreter_needed=bool(member.interpreter_needed),
        communication=tuple(filter(None, (member.communication or "").split(","))),
        medical_conditions=member.medical_conditions,
        medications=member.medications,
        allergies=member.allergies,
        blood_type=member.blood_type,
        mental_health=member.mental_health,
        disabilities=member.disabilities,
        equipment=member.equipment,
        advance_directive=member.advance_directive,
    )


def responder_view(profile: Profile, now: datetime | None = None) -> ResponderView:
    """What responders need of ``profile``. Only for profiles shown to 911 (the caller has
    checked, and audited the look-up): a profile that is not raises ``ValueError``."""
    now = now or utcnow()
    fresh = freshness(profile, now)
    if not fresh.shown_to_911:
        raise ValueError("this profile is not shown to 911")
    members = tuple(_member(m, now.year) for m in profile.members)
    needing = [m for m in members if m.interpreter_needed]
    language = BY_CODE.get(profile.user.locale)  # loaded with the profile by find_profile
    return ResponderView(
        language=language.tag if language else "en",
        interpreter_needed=bool(needing),
        interpreter_languages=tuple(dict.fromkeys(m.language for m in needing if m.language)),
        address=AddressView(
            street=profile.street,
            unit=profile.unit,
            city=profile.city,
            state=profile.state,
            zip_code=profile.zip_code,
            building_type=profile.building_type,
            floor=profile.floor,
            bedrooms=profile.bedrooms,
        ),
        access_notes=profile.access_notes,
        hazards=profile.hazards,
        utility_shutoffs=profile.utility_shutoffs,
        notes=profile.notes,
        members=members,
        pets=tuple(PetView(p.name, p.kind, bool(p.service_animal), p.notes) for p in profile.pets),
        vehicles=tuple(VehicleView(v.make, v.model, v.colour, v.plate) for v in profile.vehicles),
        contacts=tuple(
            ContactView(c.name, c.relationship_, c.phone, c.language) for c in profile.contacts
        ),
        freshness=FreshnessView(
            state=fresh.state,
            confirmed_at=fresh.confirmed_at,
            days_since_confirmed=(now - fresh.confirmed_at).days,
            stale=fresh.state == "stale",
            stale_at=fresh.stale_at,
        ),
    )
