"""Reading the audit log in the admin console: browse, export as CSV, verify the chain.

The log holds pseudonymous ids only, and that is all these pages show: nothing here joins
an event to an account's phone number, a safety profile or a camera registration.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, select

from ..audit.services import ChainReport, record, verify_chain
from ..extensions import db
from ..models import AuditEvent, User
from .services import Page, paginate

EXPORT_BATCH = 1000
CSV_COLUMNS = (
    "id", "created_at", "actor_id", "actor_role", "action", "subject_type", "subject_id",
    "reason", "agency", "outcome", "request_id", "prev_hash", "hash",
)  # fmt: skip
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection, OWASP).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None  # prefix: "sign_in" also finds "sign_in.totp"
    actor_id: int | None = None
    subject_type: str | None = None
    subject_id: int | None = None
    outcome: str | None = None
    since: date | None = None  # whole days, UTC, both ends included
    until: date | None = None

    def as_args(self) -> dict[str, str]:
        """The filters that are set, as query-string (or hidden-field) values."""
        return {
            name: value.isoformat() if isinstance(value, date) else str(value)
            for name, value in asdict(self).items()
            if value not in (None, "")
        }

    def describe(self) -> str:
        return " ".join(f"{name}={value}" for name, value in self.as_args().items()) or "all"


def _filtered(filters: AuditFilters) -> Select:
    query = select(AuditEvent)
    if filters.action:
        query = query.where(AuditEvent.action.startswith(filters.action, autoescape=True))
    if filters.actor_id is not None:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.subject_type:
        query = query.where(AuditEvent.subject_type == filters.subject_type)
    if filters.subject_id is not None:
        query = query.where(AuditEvent.subject_id == filters.subject_id)
    if filters.outcome:
        query = query.where(AuditEvent.outcome == filters.outcome)
    if filters.since:
        query = query.where(AuditEvent.created_at >= datetime.combine(filters.since, time.min, UTC))
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), time.min, UTC)
        query = query.where(AuditEvent.created_at < end)
    return query


def browse(filters: AuditFilters, page: int = 1) -> Page:
    """One page (50 events) of the filtered log, newest first."""
    return paginate(_filtered(filters).order_by(AuditEvent.id.desc()), page)


def csv_cell(value) -> str:
    """``value`` as text a spreadsheet shows rather than evaluates."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def export_csv(actor: User, filters: AuditFilters) -> Iterator[str]:
    """Record the export (committed at once, so an export that fails half-way is still on
    record), then return the filtered log as CSV lines, oldest first, read in batches."""
    record("audit.exported", actor=actor, reason=filters.describe())
    db.session.commit()
    columns = [getattr(AuditEvent, name) for name in CSV_COLUMNS]
    query = _filtered(filters).with_only_columns(*columns).order_by(AuditEvent.id)

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        last_id = 0
        while True:
            rows = db.session.execute(
                query.where(AuditEvent.id > last_id).limit(EXPORT_BATCH)
            ).all()
            writer.writerows([csv_cell(value) for value in row] for row in rows)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(rows) < EXPORT_BATCH:
                return
            last_id = rows[-1].id

    return lines()


def verify(actor: User) -> ChainReport:
    """Recompute the hash chain; who checked, and what they found, is recorded."""
    actor_id = actor.id
    report = verify_chain()  # empties the session as it goes (bounded memory)
    record(
        "audit.verified",
        actor=db.session.get(User, actor_id),
        outcome="success" if report.ok else "failure",
        reason=(f"{report.checked} events intact" if report.ok
                else f"first bad event {report.first_bad_id}"),
    )  # fmt: skip
    db.session.commit()
    return report
