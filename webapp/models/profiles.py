"""Safety profiles: what a household wants 911 to know.

Free-text and health fields are ``EncryptedText``: a database dump shows ciphertext only. The
address stays readable because it is what 911 needs first and what camera registrations reuse.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

if TYPE_CHECKING:
    from .accounts import User

from ..crypto import EncryptedText
from ..extensions import db
from .types import UTCDateTime, utcnow


def enc(table: str, column: str) -> EncryptedText:
    return EncryptedText(f"{table}.{column}")


class Profile(db.Model):
    __tablename__ = "profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    # Home
    street: Mapped[str | None] = mapped_column(String(120))
    unit: Mapped[str | None] = mapped_column(String(40))
    city: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[str | None] = mapped_column(String(2))
    zip_code: Mapped[str | None] = mapped_column(String(10))
    building_type: Mapped[str | None] = mapped_column(String(24))
    floor: Mapped[str | None] = mapped_column(String(20))
    bedrooms: Mapped[str | None] = mapped_column(enc("profiles", "bedrooms"))
    access_notes: Mapped[str | None] = mapped_column(enc("profiles", "access_notes"))
    hazards: Mapped[str | None] = mapped_column(enc("profiles", "hazards"))
    utility_shutoffs: Mapped[str | None] = mapped_column(enc("profiles", "utility_shutoffs"))
    notes: Mapped[str | None] = mapped_column(enc("profiles", "notes"))
    # Sharing
    share_with_911: Mapped[bool] = mapped_column(default=False)
    emergency_planning: Mapped[bool] = mapped_column(default=False)
    # Freshness
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    members: Mapped[list[HouseholdMember]] = relationship(
        cascade="all, delete-orphan", order_by="HouseholdMember.id"
    )
    pets: Mapped[list[Pet]] = relationship(cascade="all, delete-orphan", order_by="Pet.id")
    vehicles: Mapped[list[Vehicle]] = relationship(
        cascade="all, delete-orphan", order_by="Vehicle.id"
    )
    contacts: Mapped[list[EmergencyContact]] = relationship(
        cascade="all, delete-orphan", order_by="EmergencyContact.id"
    )
    phones: Mapped[list[ProfilePhone]] = relationship(
        cascade="all, delete-orphan", order_by="ProfilePhone.id"
    )
    reminders: Mapped[list[ProfileReminder]] = relationship(cascade="all, delete-orphan")
    # Read-only way back to the account (its language, for the 911 view); User.profile owns
    # the link and its cascade.
    user: Mapped[User] = relationship(viewonly=True)

    @property
    def has_address(self) -> bool:
        return bool(self.street and self.city and self.state and self.zip_code)


class HouseholdMember(db.Model):
    __tablename__ = "household_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(enc("household_members", "name"))
    relationship_: Mapped[str | None] = mapped_column("relationship", String(24))
    birth_year: Mapped[int | None]
    description: Mapped[str | None] = mapped_column(enc("household_members", "description"))
    language: Mapped[str | None] = mapped_column(String(60))
    interpreter_needed: Mapped[bool] = mapped_column(default=False)
    communication: Mapped[str | None] = mapped_column(enc("household_members", "communication"))
    medical_conditions: Mapped[str | None] = mapped_column(
        enc("household_members", "medical_conditions")
    )
    medications: Mapped[str | None] = mapped_column(enc("household_members", "medications"))
    allergies: Mapped[str | None] = mapped_column(enc("household_members", "allergies"))
    blood_type: Mapped[str | None] = mapped_column(enc("household_members", "blood_type"))
    mental_health: Mapped[str | None] = mapped_column(enc("household_members", "mental_health"))
    disabilities: Mapped[str | None] = mapped_column(enc("household_members", "disabilities"))
    equipment: Mapped[str | None] = mapped_column(enc("household_members", "equipment"))
    advance_directive: Mapped[str | None] = mapped_column(
        enc("household_members", "advance_directive")
    )
    vaccinations: Mapped[str | None] = mapped_column(enc("household_members", "vaccinations"))


class Pet(db.Model):
    __tablename__ = "pets"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(60))
    kind: Mapped[str | None] = mapped_column(String(60))
    service_animal: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(enc("pets", "notes"))


class Vehicle(db.Model):
    __tablename__ = "vehicles"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    make: Mapped[str | None] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(40))
    colour: Mapped[str | None] = mapped_column(String(30))
    plate: Mapped[str | None] = mapped_column(String(12))


class EmergencyContact(db.Model):
    __tablename__ = "emergency_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(enc("emergency_contacts", "name"))
    relationship_: Mapped[str | None] = mapped_column("relationship", String(24))
    phone: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(60))


class ProfilePhone(db.Model):
    """A further number that finds this profile, counted only once verified by SMS code."""

    __tablename__ = "profile_phones"
    __table_args__ = (UniqueConstraint("profile_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    phone: Mapped[str] = mapped_column(String(16), index=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProfileReminder(db.Model):
    """One row per reminder sent: the unique key makes ``reminders run`` idempotent."""

    __tablename__ = "profile_reminders"
    __table_args__ = (UniqueConstraint("profile_id", "kind", "cycle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    cycle: Mapped[datetime] = mapped_column(UTCDateTime)  # the confirmation it follows
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))  # "sent", "skipped", "suppressed"
