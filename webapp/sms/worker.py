"""The outbound worker: hands queued texts to the SMS backend, with retries.

``flask --app wsgi sms worker`` runs it (``webapp/jobs.py``). Rows are
claimed in batches (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers can run),
sent by a small thread pool, and written back in one transaction per batch. Rate limits (429),
server errors and network errors are retried with exponential back-off; Twilio's permanent
errors are final. A claim left by a crashed worker is taken back after ``CLAIM_TIMEOUT``:
delivery is at least once, never silently dropped.
"""

from __future__ import annotations

import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import or_, select, update

from ..extensions import db
from ..models import OutboundMessage
from ..models.types import utcnow
from .backends import SmsDeliveryError, TwilioBackend
from .services import SENT_AFTER_STOP, sms_opted_out

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_DELAY = 2.0  # seconds; doubles each attempt, with jitter, capped
MAX_DELAY = 15 * 60
CLAIM_TIMEOUT = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    delay = min(MAX_DELAY, BASE_DELAY * 2 ** (attempts - 1))
    return timedelta(seconds=delay * random.uniform(0.8, 1.2))  # noqa: S311 (not crypto)


def _claim(batch_size: int, now: datetime) -> list[int]:
    due = or_(
        (OutboundMessage.status == "pending")
        & or_(OutboundMessage.next_attempt_at.is_(None), OutboundMessage.next_attempt_at <= now),
        (OutboundMessage.status == "claimed") & (OutboundMessage.claimed_at < now - CLAIM_TIMEOUT),
    )
    query = select(OutboundMessage.id).where(due).order_by(OutboundMessage.id).limit(batch_size)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = db.session.scalars(query).all()
    if ids:
        db.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(ids))
            .values(status="claimed", claimed_at=now)
        )
    db.session.commit()
    return ids


class _Senders(threading.local):
    """One backend (one HTTP connection pool) per sending thread."""

    backend: TwilioBackend | None = None


def _send(app: Flask, senders: _Senders, message: dict) -> None:
    """Send one message and save the outcome at once, in this thread's own session, so the
    sid is stored before this thread sends anything else (a quick status callback finds it)."""
    with app.app_context():
        if senders.backend is None:
            senders.backend = TwilioBackend(app.config)
        carrier = OutboundMessage(to=message["to"], body=message["body"])
        try:
            senders.backend.send(carrier)
            outcome = carrier.status
        except SmsDeliveryError as error:
            outcome = error
        _record(db.session.get(OutboundMessage, message["id"]), carrier.provider_sid, outcome)
        db.session.commit()


def deliver_due(batch_size: int = 100, threads: int = 8) -> int:
    """Send one batch of due messages; return how many were handled."""
    now = utcnow()
    ids = _claim(batch_size, now)
    if not ids:
        return 0
    rows = db.session.scalars(select(OutboundMessage).where(OutboundMessage.id.in_(ids))).all()
    work = []
    for row in rows:
        if row.template not in SENT_AFTER_STOP and sms_opted_out(row.to):
            row.status = "suppressed"  # a STOP that arrived after it was queued
        else:
            work.append({"id": row.id, "to": row.to, "body": row.body})
    db.session.commit()  # the suppressions
    app = current_app._get_current_object()
    senders = _Senders()
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(work) or 1))) as pool:
        for future in [pool.submit(_send, app, senders, message) for message in work]:
            future.result()  # re-raise anything unexpected
    db.session.expire_all()
    return len(rows)


def _record(row: OutboundMessage, sid: str | None, outcome) -> None:
    row.attempts += 1
    if isinstance(outcome, SmsDeliveryError):
        row.error_code = outcome.code
        if outcome.permanent or row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
            log.warning("sms %s failed for good: %s", row.id, outcome.code)
        else:
            row.status = "pending"
            row.next_attempt_at = utcnow() + backoff(row.attempts)
            log.info("sms %s will be retried: %s", row.id, outcome.code)
    else:
        row.provider_sid = sid
        row.status = outcome or "queued"
        row.sent_at = utcnow()
        row.error_code = None
        log.info("sms %s sent", row.id)
