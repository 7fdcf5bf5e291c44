"""Dispatch API tokens: one per agency system, created and revoked by an admin.

Only the SHA-256 of a token is stored; the token itself is shown once, when it is created.
A database dump therefore holds nothing a caller could present. ``authenticate_token`` is
what the dispatch API checks each request with.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select

from ..audit.services import record
from ..extensions import db
from ..models import ApiToken, User
from ..models.types import utcnow
from .services import NotFound

TOKEN_BYTES = 32  # 256 bits from secrets: 43 url-safe characters
PREFIX_LENGTH = 8  # shown to admins to tell tokens apart; not enough to guess the rest
MAX_TOKEN_LENGTH = 128  # anything longer is not one of ours; do not even hash it


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(actor: User, *, agency: str, name: str) -> tuple[ApiToken, str]:
    """A new token for ``agency``'s system ``name``; returns the row and the token itself,
    which the caller shows once and never stores."""
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(
        agency=agency.strip(),
        name=name.strip(),
        token_hash=hash_token(raw),
        prefix=raw[:PREFIX_LENGTH],
        created_by_id=actor.id,
    )
    db.session.add(token)
    db.session.flush()
    record("api_token.created", actor=actor, subject_type="api_token", subject_id=token.id,
           reason=f"agency: {token.agency}")  # fmt: skip
    db.session.commit()
    return token, raw


def list_tokens() -> list[ApiToken]:
    """Every token, live and revoked, newest first."""
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))


def revoke_token(actor: User, token_id: int) -> ApiToken:
    """Stop a token working, at once and for good (a revoked token is never revived)."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record("api_token.revoked", actor=actor, subject_type="api_token", subject_id=token.id,
               reason=f"agency: {token.agency}")  # fmt: skip
        db.session.commit()
    return token


def authenticate_token(raw: str | None) -> ApiToken | None:
    """The live token whose value is ``raw``, or None when it is unknown or revoked.

    The row is found by the token's hash, so the database never compares the secret itself:
    how long a look-up takes says nothing about how close a guess came. A match is stamped
    with ``last_used_at`` (committed).
    """
    if not raw or len(raw) > MAX_TOKEN_LENGTH or not raw.isascii():
        return None
    digest = hash_token(raw)
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    if token.revoked_at is not None:
        return None
    token.last_used_at = utcnow()
    db.session.commit()
    return token
