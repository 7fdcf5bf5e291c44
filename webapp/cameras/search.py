"""Spatial search: approved registrations whose owners are willing to be asked, nearest first.

Both databases answer from a real spatial index that holds only searchable registrations
(migration 0004), never from a scan of the table:

- SQLite: an R*Tree (``camera_index``) gives the candidates inside the bounding box of the
  circle; the exact great-circle distance then keeps those inside the circle.
- PostgreSQL: a partial GiST index over ``ll_to_earth(latitude, longitude)`` answers
  ``earth_box(...) @> ll_to_earth(...)``; ``earth_distance`` keeps those inside the circle.

Distances are great-circle distances on the sphere ``earthdistance`` uses (radius 6,378,168 m),
so both databases agree. A registration not renewed for 13 months is left out (renewal.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text

from ..extensions import db
from ..models.types import UTCDateTime, utcnow
from .renewal import CAMERA_SCHEDULE

EARTH_RADIUS_M = 6_378_168.0  # earthdistance's earth()
DEFAULT_LIMIT = 500


@dataclass(frozen=True)
class CameraHit:
    """What a search may show before any owner has agreed: no names, no contact details."""

    id: int
    kind: str
    latitude: float
    longitude: float
    distance_m: float
    camera_count: int
    views: tuple[str, ...]
    retention_days: int


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) of a box that holds the whole circle, with a
    little slack for the R*Tree's 32-bit floats. City scale: no poles, no antimeridian."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    widest = max(abs(lat) + dlat, 0.0)
    dlon = dlat / max(math.cos(math.radians(min(widest, 89.0))), 1e-6)
    slack = 1e-5
    return lat - dlat - slack, lat + dlat + slack, lon - dlon - slack, lon + dlon + slack


_COLUMNS = "r.id, r.kind, r.latitude, r.longitude, r.camera_count, r.views, r.retention_days"

_SQLITE = text(f"""
    SELECT {_COLUMNS}
    FROM camera_index AS i JOIN camera_registrations AS r ON r.id = i.id
    WHERE i.max_lat >= :min_lat AND i.min_lat <= :max_lat
      AND i.max_lon >= :min_lon AND i.min_lon <= :max_lon
      AND r.renewed_at >= :lapsed_before
""").bindparams(bindparam("lapsed_before", type_=UTCDateTime))  # noqa: S608

_POSTGRES = text(f"""
    SELECT {_COLUMNS},
           earth_distance(ll_to_earth(r.latitude, r.longitude), ll_to_earth(:lat, :lon)) AS d
    FROM camera_registrations AS r
    WHERE r.status = 'approved' AND r.willing
      AND r.latitude IS NOT NULL AND r.longitude IS NOT NULL
      AND earth_box(ll_to_earth(:lat, :lon), :radius) @> ll_to_earth(r.latitude, r.longitude)
      AND earth_distance(ll_to_earth(r.latitude, r.longitude), ll_to_earth(:lat, :lon))
          <= :radius
      AND r.renewed_at > :lapsed_before
    ORDER BY d, r.id
    LIMIT :limit
""").bindparams(bindparam("lapsed_before", type_=UTCDateTime))  # noqa: S608


def cameras_within(
    lat: float,
    lon: float,
    radius_m: float,
    *,
    limit: int = DEFAULT_LIMIT,
    now: datetime | None = None,
) -> list[CameraHit]:
    """Approved, willing, current registrations within ``radius_m`` of (lat, lon), nearest
    first (ties by id), at most ``limit`` of them."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and radius_m > 0):  # refuses NaN too
        raise ValueError("coordinates out of range or radius not positive")
    lapsed_before = CAMERA_SCHEDULE.lapsed_before(now or utcnow())
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            _POSTGRES,
            {"lat": lat, "lon": lon, "radius": radius_m, "limit": limit,
             "lapsed_before": lapsed_before},
        )  # fmt: skip
        return [_hit(row, row.d) for row in rows]
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius_m)
    rows = session.execute(
        _SQLITE,
        {"min_lat": min_lat, "max_lat": max_lat, "min_lon": min_lon, "max_lon": max_lon,
         "lapsed_before": lapsed_before},
    )  # fmt: skip
    hits = []
    for row in rows:
        d = distance_m(lat, lon, row.latitude, row.longitude)
        if d <= radius_m:
            hits.append(_hit(row, d))
    hits.sort(key=lambda hit: (hit.distance_m, hit.id))
    return hits[:limit]


def _hit(row, d: float) -> CameraHit:
    return CameraHit(
        id=row.id,
        kind=row.kind,
        latitude=row.latitude,
        longitude=row.longitude,
        distance_m=float(d),
        camera_count=row.camera_count,
        views=tuple(v for v in row.views.split(",") if v),
        retention_days=row.retention_days,
    )
