"""Writing and verifying the audit log.

Each row stores the hash of the row before it; ``verify_chain`` recomputes every hash, so
any edit, deletion or insertion in the middle shows. The database also refuses UPDATE and
DELETE on the table (triggers created by the migration).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from flask import g, has_request_context
from flask_login import current_user
from sqlalchemy import select, text

from ..extensions import db
from ..models import AuditEvent
from ..models.types import utcnow

GENESIS = "0" * 64
_CHAIN_LOCK = 7_311_911  # PostgreSQL advisory lock key: one writer extends the chain at a time


def _digest(event: AuditEvent) -> str:
    payload = [
        event.prev_hash,
        event.created_at.isoformat(timespec="microseconds"),
        event.actor_id,
        event.actor_role,
        event.action,
        event.subject_type,
        event.subject_id,
        event.reason,
        event.agency,
        event.outcome,
        event.request_id,
    ]
    canonical = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(
    action: str,
    *,
    outcome: str = "success",
    actor=None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    reason: str | None = None,
    agency: str | None = None,
) -> AuditEvent:
    """Append an event to the caller's transaction; the caller commits.

    ``actor`` defaults to the signed-in user. Never pass phone numbers, codes or passwords.
    """
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    prev = db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        created_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_role=actor.role if actor is not None else None,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        reason=reason[:255] if reason else None,
        agency=agency[:80] if agency else None,
        outcome=outcome,
        request_id=g.get("request_id") if has_request_context() else None,
        prev_hash=prev or GENESIS,
    )
    event.hash = _digest(event)
    db.session.add(event)
    db.session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_id: int | None

    @property
    def ok(self) -> bool:
        return self.first_bad_id is None


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Recompute every hash in id order; report the first row that does not match."""
    expected_prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.id > last_id)
            .order_by(AuditEvent.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return ChainReport(checked, None)
        for event in rows:
            if event.prev_hash != expected_prev or _digest(event) != event.hash:
                return ChainReport(checked, event.id)
            expected_prev = event.hash
            checked += 1
            last_id = event.id
        db.session.expunge_all()
