"""Camera registrations: where residents' and businesses' cameras are, and whether the owner is
willing to be asked for footage. Police never get access to a camera, only to the owner's
willingness to be asked.

The spatial index is not a model: on SQLite it is an R*Tree virtual table kept in step by
triggers, on PostgreSQL a partial GiST index over ``ll_to_earth(latitude, longitude)``; both
cover only approved, willing registrations (see migration 0004 and ``cameras/search.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class RegistrationStatus:
    PENDING = "pending"  # waiting for a moderator
    CHANGES_REQUESTED = "changes_requested"  # the owner has to edit it
    APPROVED = "approved"
    REJECTED = "rejected"

    ALL = (PENDING, CHANGES_REQUESTED, APPROVED, REJECTED)


class CameraRegistration(db.Model):
    __tablename__ = "camera_registrations"
    # Ids are never reused (audit rows and footage requests refer to them).
    __table_args__ = (
        Index("ix_camera_registrations_queue", "status", "submitted_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "home" or "business"
    status: Mapped[str] = mapped_column(String(20), default=RegistrationStatus.PENDING)
    # Given on first approval, kept for good: it is printed on the placard.
    number: Mapped[str | None] = mapped_column(String(16), unique=True)
    # Where
    street: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str | None] = mapped_column(String(40))
    city: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(2))
    zip_code: Mapped[str] = mapped_column(String(10))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    location_source: Mapped[str | None] = mapped_column(String(16))  # geocoder, moderator
    location_verified: Mapped[bool] = mapped_column(default=False)
    # Businesses (the CHICAGO Plan)
    business_name: Mapped[str | None] = mapped_column(String(120))
    business_type: Mapped[str | None] = mapped_column(String(24))
    hours: Mapped[str | None] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(80))
    contact_phone: Mapped[str | None] = mapped_column(String(16))
    placard_wanted: Mapped[bool] = mapped_column(default=False)
    # How the owner wants to be asked
    contact_methods: Mapped[str] = mapped_column(String(40), default="sms")  # "sms,call,email"
    email: Mapped[str | None] = mapped_column(String(254))
    willing: Mapped[bool] = mapped_column(default=True)
    terms_version: Mapped[str] = mapped_column(String(32))
    terms_accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A summary of the systems, kept by the service, so that search reads one table.
    camera_count: Mapped[int] = mapped_column(default=0)
    views: Mapped[str] = mapped_column(String(120), default="")
    retention_days: Mapped[int] = mapped_column(default=0)
    # Lifecycle
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    renewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # approval or renewal
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    systems: Mapped[list[CameraSystem]] = relationship(
        cascade="all, delete-orphan", order_by="CameraSystem.id"
    )
    events: Mapped[list[CameraEvent]] = relationship(
        cascade="all, delete-orphan", order_by="CameraEvent.id"
    )

    @property
    def is_business(self) -> bool:
        return self.kind == "business"

    @property
    def methods(self) -> list[str]:
        return [m for m in self.contact_methods.split(",") if m]

    @property
    def view_list(self) -> list[str]:
        return [v for v in self.views.split(",") if v]


class CameraSystem(db.Model):
    """One set of cameras: how many, what they see, how they record and keep footage."""

    __tablename__ = "camera_systems"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("camera_registrations.id", ondelete="CASCADE"), index=True
    )
    placement: Mapped[str | None] = mapped_column(String(10))  # interior, exterior, both
    camera_count: Mapped[int]
    views: Mapped[str] = mapped_column(String(120))  # comma-separated VIEWS keys
    recording: Mapped[str] = mapped_column(String(12))  # continuous, motion
    retention_days: Mapped[int]
    can_export: Mapped[bool] = mapped_column(default=False)


class CameraEvent(db.Model):
    """The registration's own history, shown to the owner and moderators (the audit log keeps
    the same actions, hash-chained)."""

    __tablename__ = "camera_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("camera_registrations.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CameraReminder(db.Model):
    """One row per renewal reminder: the unique key makes ``reminders run`` idempotent."""

    __tablename__ = "camera_reminders"
    __table_args__ = (UniqueConstraint("registration_id", "kind", "cycle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("camera_registrations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    cycle: Mapped[datetime] = mapped_column(UTCDateTime)  # the renewal it follows
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))


# The spatial index lives outside the models (see the module docstring); Alembic's
# autogenerate and the migration test leave these names alone.
SPATIAL_INDEX_TABLE = "camera_index"  # SQLite R*Tree (plus its _node, _parent, _rowid tables)
SPATIAL_INDEX_PG = "ix_camera_registrations_earth"


def is_spatial_index(name: str | None) -> bool:
    return bool(name) and (name.startswith(SPATIAL_INDEX_TABLE) or name == SPATIAL_INDEX_PG)
