"""Officers' camera search: locate the incident, find the willing owners' cameras around it,
and audit it. The page and the CSV export call the same function.

What a search gives (``CameraHit``) holds no owner's name, address or contact details: those
are shared only when an owner agrees to a footage request.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit.services import record
from ..cameras.geocoding import geocoder
from ..cameras.search import CameraHit, cameras_within
from ..errors import ServiceError
from ..extensions import db
from ..models import User

MIN_RADIUS_M = 10
RESULT_LIMIT = 200  # the nearest this many; the page says when there were more
SEARCH = "camera.search"
EXPORT = "camera.search.export"


class SearchError(ServiceError):
    """A problem the officer can fix (same shape as account errors)."""


class AddressNotFound(SearchError):
    message = _l(
        "We could not find this address. Enter the latitude and longitude of the incident "
        "instead (you can read them off a map)."
    )
    field = "address"


class RadiusOutOfRange(SearchError):
    field = "radius"


def max_radius_m() -> int:
    return current_app.config["POLICE_MAX_RADIUS_M"]


def radius_message() -> str:
    return _("Enter a radius from %(min)s to %(max)s metres.",
             min=format_number(MIN_RADIUS_M), max=format_number(max_radius_m()))  # fmt: skip


@dataclass(frozen=True)
class SearchQuery:
    case_number: str
    reason: str
    radius_m: int
    coordinates: tuple[float, float] | None = None  # used when given, else the address
    address: str | None = None


@dataclass(frozen=True)
class SearchResult:
    latitude: float
    longitude: float
    radius_m: int
    hits: list[CameraHit]
    more: bool  # there were more than RESULT_LIMIT
    from_address: bool  # the incident was located from the address by the geocoder


def search(officer: User, query: SearchQuery, *, action: str = SEARCH) -> SearchResult:
    """Approved, willing, current registrations within the radius of the incident, nearest
    first. Every search is audited with the case number, the reason and where it looked,
    including a search whose address is not found; the address itself is not recorded."""
    if not MIN_RADIUS_M <= query.radius_m <= max_radius_m():
        raise RadiusOutOfRange(radius_message())
    if query.coordinates is not None:
        latitude, longitude = query.coordinates
    else:
        found = geocoder().locate(query.address or "")
        if found is None:
            record(action, outcome="not_found", actor=officer,
                   reason=_audit_reason(query, None))  # fmt: skip
            db.session.commit()
            raise AddressNotFound()
        latitude, longitude = found.latitude, found.longitude
    hits = cameras_within(latitude, longitude, query.radius_m, limit=RESULT_LIMIT + 1)
    record(action, actor=officer, reason=_audit_reason(query, (latitude, longitude)))
    db.session.commit()
    return SearchResult(
        latitude=latitude,
        longitude=longitude,
        radius_m=query.radius_m,
        hits=hits[:RESULT_LIMIT],
        more=len(hits) > RESULT_LIMIT,
        from_address=query.coordinates is None,
    )


def _audit_reason(query: SearchQuery, where: tuple[float, float] | None) -> str:
    """``case 2026-001234; 500 m at 41.878,-87.630; why``: the case and the reason, and where
    the search looked (to 3 decimals, about 100 m), so that an auditor can tell a search
    around an incident from one around someone's home. Fits the audit row's 255 characters
    (case number at most 40, reason at most 150)."""
    place = f"{where[0]:.3f},{where[1]:.3f}" if where else "address not found"
    return f"case {query.case_number}; {query.radius_m} m at {place}; {query.reason}"
