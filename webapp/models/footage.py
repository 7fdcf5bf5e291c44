"""Footage requests: an officer asks chosen camera owners for footage of an incident.

Police never get access to a camera. An owner's contact details are shown to the officer only
once that owner has agreed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class RecipientState:
    SENT = "sent"  # the text is queued or on its way
    DELIVERED = "delivered"  # the carrier delivered it
    AGREED = "agreed"
    DECLINED = "declined"
    NO_ANSWER = "no_answer"  # the request closed before an answer
    FAILED = "failed"  # the text could not be delivered

    ANSWERED = (AGREED, DECLINED)


class FootageRequest(db.Model):
    __tablename__ = "footage_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    case_number: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(300))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # After the longest retention period among the chosen owners, no footage is left to ask for.
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)

    recipients: Mapped[list[FootageRecipient]] = relationship(
        cascade="all, delete-orphan", order_by="FootageRecipient.id"
    )


class FootageRecipient(db.Model):
    """One owner asked in a request, with the short code they answer with."""

    __tablename__ = "footage_recipients"
    __table_args__ = (Index("ix_footage_recipients_owner_code", "owner_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("footage_requests.id", ondelete="CASCADE"), index=True
    )
    # The registration may be withdrawn later; the answer stays with the request.
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("camera_registrations.id", ondelete="SET NULL"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    code: Mapped[str] = mapped_column(String(8))
    distance_m: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(12), default=RecipientState.SENT)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_messages.id", ondelete="SET NULL")
    )
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_channel: Mapped[str | None] = mapped_column(String(8))  # sms, web
    note: Mapped[str | None] = mapped_column(Text)  # the owner's optional words with a YES
