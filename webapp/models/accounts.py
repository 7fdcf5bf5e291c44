"""Accounts: people, their server-side sessions, one-time SMS codes and the consent ledger."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

if TYPE_CHECKING:
    from .profiles import Profile

from ..crypto import EncryptedText
from ..extensions import db
from .types import UTCDateTime, utcnow


class Role(enum.StrEnum):
    RESIDENT = "resident"
    MODERATOR = "moderator"
    OFFICER = "officer"
    DISPATCHER = "dispatcher"
    ADMIN = "admin"

    @property
    def is_staff(self) -> bool:
        return self is not Role.RESIDENT


class User(UserMixin, db.Model):
    __tablename__ = "users"
    # Ids are never reused (SQLite would reuse a deleted rowid): audit rows refer to them.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), unique=True)  # E.164
    password_hash: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    role: Mapped[str] = mapped_column(String(16), default=Role.RESIDENT.value)
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Sign-in throttling: failures counted inside a 15-minute window, then a lock.
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    failure_window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Staff second factor (TOTP): the secret is encrypted; the last accepted time step makes a
    # code single-use. Wrong codes count in failed_sign_ins and lock like wrong passwords.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText("users.totp_secret"))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None]
    # Dispatchers: marked available for emergency texts since (None: off duty).
    on_duty_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    profile: Mapped[Profile | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, uselist=False
    )

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_staff(self) -> bool:
        return self.role_enum.is_staff

    @property
    def phone_verified(self) -> bool:
        return self.phone_verified_at is not None

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled accounts cannot sign in
        return self.disabled_at is None

    def __repr__(self) -> str:  # never the phone number: reprs end up in logs
        return f"<User {self.id} {self.role}>"


class UserSession(db.Model):
    """A signed-in browser. The cookie holds only ``token``; revoking the row signs it out."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    second_factor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # staff: TOTP done

    user: Mapped[User] = relationship(back_populates="sessions")


class RecoveryCode(db.Model):
    """A single-use staff recovery code for a lost authenticator; only its hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(db.Model):
    """A dispatch system's token for the look-up API: one per agency system, stored hashed,
    created and revoked by an admin."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # shown to admins to tell tokens apart
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CodePurpose(enum.StrEnum):
    VERIFY_PHONE = "verify_phone"
    RESET_PASSWORD = "reset_password"  # noqa: S105 (a purpose, not a password)
    CHANGE_PHONE = "change_phone"
    ADD_PROFILE_PHONE = "add_profile_phone"


class VerificationCode(db.Model):
    """A 6-digit code sent by SMS. Only its keyed hash is stored."""

    __tablename__ = "verification_codes"
    __table_args__ = (Index("ix_verification_codes_phone_purpose", "phone", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(16))  # where it was sent (E.164)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConsentRecord(db.Model):
    """The consent ledger: every opt-in and opt-out, with channel and wording version."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    phone: Mapped[str | None] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # "terms_privacy", "sms", ...
    granted: Mapped[bool]
    version: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))  # "web", "sms", ...
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
