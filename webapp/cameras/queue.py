"""The moderators' queue: registrations waiting for a decision, oldest first, filtered and
paged (plain offset paging: the queue is short and its order is stable)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..models import CameraRegistration, RegistrationStatus
from ..models.types import utcnow

PER_PAGE = 25
WAITED_DAYS = (1, 3, 7, 14)


@dataclass(frozen=True)
class QueuePage:
    items: list[CameraRegistration]
    page: int
    pages: int
    total: int


def moderation_queue(
    *,
    status: str = RegistrationStatus.PENDING,
    kind: str | None = None,
    waited_days: int | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
    now: datetime | None = None,
) -> QueuePage:
    """Registrations in ``status`` (new and changed ones wait as "pending"), oldest
    submission first; ``waited_days`` keeps those waiting at least that long."""
    query = select(CameraRegistration).where(CameraRegistration.status == status)
    if kind in ("home", "business"):
        query = query.where(CameraRegistration.kind == kind)
    if waited_days:
        cutoff = (now or utcnow()) - timedelta(days=waited_days)
        query = query.where(CameraRegistration.submitted_at <= cutoff)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    items = db.session.scalars(
        query.order_by(CameraRegistration.submitted_at, CameraRegistration.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return QueuePage(list(items), page, pages, total)
