"""One-time SMS codes: 6 digits, stored only as a keyed hash, 10 minutes, 5 tries, limited
resends. Used for phone verification, password reset, phone change and profile phones."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from ..audit.services import record
from ..extensions import db
from ..models import CodePurpose, OutboundMessage, User, VerificationCode
from ..models.types import utcnow
from ..sms.services import send_text
from .errors import (
    CodeAttemptsExhausted,
    CodeExpired,
    CodeProblem,
    ResendTooSoon,
    SmsNotSent,
    SmsStopped,
    TooManyCodes,
)

CODE_LIFETIME = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
CODE_RESEND_INTERVAL = timedelta(seconds=60)
CODES_PER_HOUR = 5


def _code_hash(purpose: str, phone: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def issue_code(user: User, purpose: CodePurpose, phone: str) -> VerificationCode:
    """Create a code for ``phone`` and queue its text. Does not commit.

    Earlier codes stay usable until they expire: a text that comes late, or a resend that
    never arrives, must not leave the person without a working code.
    """
    now = utcnow()
    recent = db.session.execute(
        select(func.count(), func.max(VerificationCode.created_at)).where(
            VerificationCode.phone == phone,
            VerificationCode.purpose == purpose.value,
            VerificationCode.created_at > now - timedelta(hours=1),
        )
    ).one()
    count, latest = recent
    if latest is not None and now - latest < CODE_RESEND_INTERVAL:
        raise ResendTooSoon()
    if count >= CODES_PER_HOUR:
        raise TooManyCodes()
    code = f"{secrets.randbelow(1_000_000):06d}"
    message = send_text(phone, purpose.value, user.locale, code=code)
    if message.status in ("failed", "suppressed"):
        # Nothing was received: store no code, keep the one the person may already hold,
        # and keep the message row for the record.
        db.session.commit()
        raise SmsStopped() if message.status == "suppressed" else SmsNotSent()
    row = VerificationCode(
        user_id=user.id,
        purpose=purpose.value,
        phone=phone,
        code_hash=_code_hash(purpose.value, phone, code),
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    db.session.add(row)
    return row


def check_code(user: User, purpose: CodePurpose, code: str) -> VerificationCode:
    """The pending code row that ``code`` matches; every wrong try is committed.

    Any unexpired code of this purpose is accepted; the tries are counted on the newest, and
    a match uses up every pending code of the purpose (each code works once).
    """
    now = utcnow()
    pending = db.session.scalars(
        select(VerificationCode)
        .where(
            VerificationCode.user_id == user.id,
            VerificationCode.purpose == purpose.value,
            VerificationCode.used_at.is_(None),
            VerificationCode.expires_at > now,
        )
        .order_by(VerificationCode.id.desc())
    ).all()
    if not pending:
        raise CodeExpired()
    newest = pending[0]
    if newest.attempts >= CODE_MAX_ATTEMPTS:
        raise CodeAttemptsExhausted()
    newest.attempts += 1
    given = code.strip()
    match = next(
        (
            row
            for row in pending
            if hmac.compare_digest(row.code_hash, _code_hash(purpose.value, row.phone, given))
        ),
        None,
    )
    if match is None:
        record("code.check", outcome="failure", actor=user, subject_type="user",
               subject_id=user.id, reason=purpose.value)  # fmt: skip
        db.session.commit()
        if newest.attempts >= CODE_MAX_ATTEMPTS:
            raise CodeAttemptsExhausted()
        raise CodeProblem()
    for row in pending:
        row.used_at = now
    return match


def code_text_failed(user: User, purpose: CodePurpose, phone: str) -> bool:
    """Whether the latest text carrying a code of ``purpose`` to ``phone`` could not be
    delivered (so the page can say so, rather than leave the person waiting)."""
    status = db.session.scalar(
        select(OutboundMessage.status)
        .where(OutboundMessage.to == phone, OutboundMessage.template == purpose.value)
        .order_by(OutboundMessage.id.desc())
        .limit(1)
    )
    return status in ("failed", "undelivered")
