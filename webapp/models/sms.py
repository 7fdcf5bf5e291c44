"""Text messages: every SMS we send is a row first; every SMS we receive is stored before
it is acted on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto import EncryptedText
from ..extensions import db
from .types import UTCDateTime, utcnow


class OutboundMessage(db.Model):
    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(16), index=True)  # E.164
    body: Mapped[str] = mapped_column(Text)
    template: Mapped[str] = mapped_column(String(64))  # which text, never its parameters
    locale: Mapped[str] = mapped_column(String(16))
    backend: Mapped[str] = mapped_column(String(16))
    # pending -> claimed -> Twilio's own states (queued, sent, delivered, ...), or failed,
    # suppressed (the number said STOP) or outbox (kept locally, development).
    status: Mapped[str] = mapped_column(String(16), default="pending")
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboundMessage(db.Model):
    """A text from a phone, stored before it is acted on; its reply is kept for replays."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str] = mapped_column(String(32), index=True)
    to_number: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str | None] = mapped_column(EncryptedText("inbound_messages.body"))
    command: Mapped[str | None] = mapped_column(String(32))
    reply: Mapped[str | None] = mapped_column(EncryptedText("inbound_messages.reply"))
    source: Mapped[str] = mapped_column(String(16), default="webhook")  # or "spool"
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
