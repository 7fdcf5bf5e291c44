"""The 911 side: emergency text sessions with the city's dispatchers, and dispatchers' profile
look-ups by phone number (each a 45-minute window, audited)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto import EncryptedText
from ..extensions import db
from .types import UTCDateTime, utcnow


class SessionStatus:
    OPEN = "open"  # waiting for a dispatcher
    CLAIMED = "claimed"  # a dispatcher is answering
    CLOSED = "closed"

    LIVE = (OPEN, CLAIMED)


class EmergencySession(db.Model):
    __tablename__ = "emergency_sessions"
    __table_args__ = (Index("ix_emergency_sessions_phone_status", "phone", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32))  # the texter, E.164
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    locale: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12), default=SessionStatus.OPEN, index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Nobody claimed it in time: the texter was told to call or text 911, supervisors alerted.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(24))

    messages: Mapped[list[EmergencyMessage]] = relationship(
        cascade="all, delete-orphan", order_by="EmergencyMessage.id"
    )


class EmergencyMessage(db.Model):
    """One text in a session: from the texter (``inbound``) or a dispatcher (``outbound``)."""

    __tablename__ = "emergency_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("emergency_sessions.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(8))  # inbound, outbound, system
    body: Mapped[str] = mapped_column(EncryptedText("emergency_messages.body"))
    inbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL"), unique=True
    )
    outbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_messages.id", ondelete="SET NULL")
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProfileLookup(db.Model):
    """A dispatcher's (or dispatch system's) look-up of a phone number for an incident: the
    profile may be shown until ``expires_at``; every view inside it is audited too."""

    __tablename__ = "profile_lookups"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispatcher_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    api_token_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="SET NULL")
    )
    profile_id: Mapped[int | None] = mapped_column(
        ForeignKey("profiles.id", ondelete="SET NULL"), index=True
    )
    phone: Mapped[str] = mapped_column(String(32))
    incident: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str | None] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(12))  # web, api, session
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("emergency_sessions.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
