"""Spatial search: approved registrations whose owners are willing to be asked, nearest first.

Both databases answer from a real spatial index that holds only searchable registrations
(migration 0004), never from a scan of the table:

- SQLite: an R*Tree (``camera_index``) gives the candidates inside the bounding box of the
  circle; the exact great-circle distance then keeps those inside the circle. The nearest
  are picked from the R*Tree's own coordinates first (a planar distance, with a proven error
  bound; in a smaller box first where that one holds enough), so that about ``limit`` rows
  are read from the table; when the bound cannot prove the answer exact, the whole box is.
- PostgreSQL: a partial GiST index over ``ll_to_earth(latitude, longitude)`` answers
  ``earth_box(...) @> ll_to_earth(...)``, nearest first in the index's own order (``<->``),
  so that about ``limit`` rows are read even where the box holds thousands; the haversine
  distance, in plain arithmetic on latitude and longitude, keeps those inside the circle
  (``ll_to_earth`` is costly: computed for each candidate, it made a 2 km search ten times
  slower). When the rows read cannot be proven to hold the answer, the whole box is read.

Distances are great-circle distances, by the same haversine formula in Python and in SQL, on
the sphere ``earthdistance`` uses (radius 6,378,168 m), so both databases agree. A registration
not renewed for 13 months is left out (renewal.py).
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


# Read by position (a Row's attribute access costs ten times more, at hundreds of rows a search).
_COLUMNS = "r.id, r.kind, r.latitude, r.longitude, r.camera_count, r.views, r.retention_days"
_ID, _LATITUDE, _LONGITUDE, _EXTRA = 0, 2, 3, 7  # _EXTRA: the first column after _COLUMNS

_SQLITE = text(f"""
    SELECT {_COLUMNS}
    FROM camera_index AS i JOIN camera_registrations AS r ON r.id = i.id
    WHERE i.max_lat >= :min_lat AND i.min_lat <= :max_lat
      AND i.max_lon >= :min_lon AND i.min_lon <= :max_lon
      AND r.renewed_at > :lapsed_before
""").bindparams(bindparam("lapsed_before", type_=UTCDateTime))  # noqa: S608

# The planar distance, in metres, between the R*Tree's (32-bit) coordinates and the centre:
# ``dy`` along the meridian, ``dx`` along the parallel (scaled by the cosine of the centre's
# latitude); see _nearest_sqlite for how far it can be from the great-circle distance.
_SQLITE_NEAREST = text(f"""
    SELECT {_COLUMNS}, near.d2, r.renewed_at > :lapsed_before AS is_current
    FROM (
        SELECT id, dy * dy + dx * dx AS d2
        FROM (
            SELECT i.id AS id,
                   ((i.min_lat + i.max_lat) * 0.5 - :lat) * :m_lat AS dy,
                   ((i.min_lon + i.max_lon) * 0.5 - :lon) * :m_lon AS dx
            FROM camera_index AS i
            WHERE i.max_lat >= :min_lat AND i.min_lat <= :max_lat
              AND i.max_lon >= :min_lon AND i.min_lon <= :max_lon
        )
        WHERE dy * dy + dx * dx <= :max_d2
        ORDER BY d2
        LIMIT :k
    ) AS near
    LEFT JOIN camera_registrations AS r ON r.id = near.id
""").bindparams(bindparam("lapsed_before", type_=UTCDateTime))  # noqa: S608

# Whether a smaller box holds ``k`` candidates within a planar distance (R*Tree only).
_SQLITE_ENOUGH = text("""
    SELECT count(*) FROM (
        SELECT 1 FROM (
            SELECT ((i.min_lat + i.max_lat) * 0.5 - :lat) * :m_lat AS dy,
                   ((i.min_lon + i.max_lon) * 0.5 - :lon) * :m_lon AS dx
            FROM camera_index AS i
            WHERE i.max_lat >= :min_lat AND i.min_lat <= :max_lat
              AND i.max_lon >= :min_lon AND i.min_lon <= :max_lon
        )
        WHERE dy * dy + dx * dx <= :max_d2
        LIMIT :k
    )
""")

# The same haversine as distance_m, in float8 arithmetic (cheap, unlike ll_to_earth).
_HAVERSINE_PG = f"""({2 * EARTH_RADIUS_M!r}::float8 * asin(least(1.0::float8, sqrt(
        sin((radians(r.latitude) - radians(:lat)) / 2) ^ 2
        + cos(radians(:lat)) * cos(radians(r.latitude))
          * sin(radians(r.longitude - :lon) / 2) ^ 2))))"""

_POSTGRES = text(f"""
    SELECT {_COLUMNS}, {_HAVERSINE_PG} AS d
    FROM camera_registrations AS r
    WHERE r.status = 'approved' AND r.willing
      AND r.latitude IS NOT NULL AND r.longitude IS NOT NULL
      AND earth_box(ll_to_earth(:lat, :lon), :radius) @> ll_to_earth(r.latitude, r.longitude)
      AND {_HAVERSINE_PG} <= :radius
      AND r.renewed_at > :lapsed_before
    ORDER BY d, r.id
    LIMIT :limit
""").bindparams(bindparam("lapsed_before", type_=UTCDateTime))  # noqa: S608

# The k nearest in the box, in the GiST index's own order (``<->``, the straight-line distance
# through the Earth, orders exactly as the great-circle distance): it reads about k rows where
# the whole box may hold many times more (a city centre).
_POSTGRES_NEAREST = text(f"""
    SELECT {_COLUMNS}, {_HAVERSINE_PG} AS d, r.renewed_at > :lapsed_before AS is_current
    FROM camera_registrations AS r
    WHERE r.status = 'approved' AND r.willing
      AND r.latitude IS NOT NULL AND r.longitude IS NOT NULL
      AND earth_box(ll_to_earth(:lat, :lon), :radius) @> ll_to_earth(r.latitude, r.longitude)
    ORDER BY ll_to_earth(r.latitude, r.longitude) <-> ll_to_earth(:lat, :lon)
    LIMIT :k
""").bindparams(bindparam("lapsed_before", type_=UTCDateTime))  # noqa: S608

# The fast SQLite path serves city-scale searches; beyond, the whole box is read.
_NEAREST_MAX_RADIUS_M = 100_000.0
_NEAREST_MAX_LATITUDE = 80.0


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
        if limit >= 1:
            hits = _nearest_postgres(lat, lon, radius_m, limit, lapsed_before)
            if hits is not None:
                return hits
        rows = session.execute(
            _POSTGRES,
            {"lat": lat, "lon": lon, "radius": radius_m, "limit": limit,
             "lapsed_before": lapsed_before},
        )  # fmt: skip
        return [_hit(row, row[_EXTRA]) for row in rows]
    if limit >= 1 and radius_m <= _NEAREST_MAX_RADIUS_M and abs(lat) <= _NEAREST_MAX_LATITUDE:
        hits = _nearest_sqlite(lat, lon, radius_m, limit, lapsed_before)
        if hits is not None:
            return hits
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius_m)
    rows = session.execute(
        _SQLITE,
        {"min_lat": min_lat, "max_lat": max_lat, "min_lon": min_lon, "max_lon": max_lon,
         "lapsed_before": lapsed_before},
    )  # fmt: skip
    hits = []
    for row in rows:
        d = distance_m(lat, lon, row[_LATITUDE], row[_LONGITUDE])
        if d <= radius_m:
            hits.append(_hit(row, d))
    hits.sort(key=lambda hit: (hit.distance_m, hit.id))
    return hits[:limit]


def _candidates(limit: int) -> int:
    return limit + limit // 4 + 32  # room for lapsed registrations and the error band


def _nearest_postgres(
    lat: float, lon: float, radius_m: float, limit: int, lapsed_before: datetime
) -> list[CameraHit] | None:
    """The answer from the ``k`` registrations in the box nearest in the index's order, or None
    when those cannot be proven to hold it: every unread one is at least as far as the
    farthest read (up to rounding, a micrometre), or outside the box and so the circle."""
    k = _candidates(limit)
    rows = db.session.execute(
        _POSTGRES_NEAREST,
        {"lat": lat, "lon": lon, "radius": radius_m, "k": k, "lapsed_before": lapsed_before},
    ).all()
    found = [
        (row[_EXTRA], row[_ID], row)
        for row in rows  # _EXTRA: the distance, then whether it is current
        if row[_EXTRA + 1] and row[_EXTRA] <= radius_m
    ]
    found.sort(key=lambda item: (item[0], item[1]))
    if len(rows) >= k:  # there may be more: is the answer among those read?
        unread_from = max(row[_EXTRA] for row in rows) * (1 - 1e-9) - 1e-6
        cutoff = found[limit - 1][0] if len(found) >= limit else radius_m
        if not cutoff < unread_from:
            return None
    return [_hit(row, d) for d, _, row in found[:limit]]


def _nearest_sqlite(
    lat: float, lon: float, radius_m: float, limit: int, lapsed_before: datetime
) -> list[CameraHit] | None:
    """The answer from the ``k`` candidates nearest by planar distance on the R*Tree's
    coordinates, or None when those cannot be proven to hold it.

    For a registration u in the box, with P(u) its planar distance from the R*Tree's
    coordinates, P*(u) the same from its exact coordinates and D(u) its great-circle distance:

    - |P(u) - P*(u)| <= ``slack``: the R*Tree keeps 32-bit floats, rounded outwards by at most
      2.5 units in the last place (at most 2**-21 of the value is counted);
    - D(u) >= ``shrink`` * P*(u): haversine with asin(x) >= x, sin(x) >= x (1 - x**2 / 6) and
      cos(lat(u)) >= ``rho`` cos(lat) over the box.

    So D(u) >= (P(u) - slack) * shrink (less a micrometre for rounding), and candidates with
    P(u) > radius / shrink + slack are outside the circle. If the k nearest by P were read and
    the ``limit``-th hit (or the radius, with fewer hits) is nearer than (largest P read -
    slack) * shrink, no unread registration can come before it: the answer is exact, the same
    list in the same order as from reading the whole box.
    """
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius_m)
    metres_per_degree = EARTH_RADIUS_M * math.pi / 180
    cos_lat = math.cos(math.radians(lat))
    farthest = max(abs(min_lat), abs(max_lat))
    if farthest >= 90:
        return None
    rho = math.cos(math.radians(farthest)) / cos_lat
    half_angle = math.radians(max(max_lat - lat, lat - min_lat, max_lon - lon, lon - min_lon)) / 2
    shrink = (1 - half_angle**2 / 6) * math.sqrt(min(rho, 1.0))
    slack = metres_per_degree * 2.0**-21 * (abs(lat) + 1 + (abs(lon) + 1) * cos_lat)
    reach = radius_m / shrink + slack
    k = _candidates(limit)
    scale = {"lat": lat, "lon": lon, "m_lat": metres_per_degree,
             "m_lon": metres_per_degree * cos_lat, "k": k}  # fmt: skip
    box = {"min_lat": min_lat, "max_lat": max_lat, "min_lon": min_lon, "max_lon": max_lon}
    # Where the box holds many times k candidates (a city centre), look for the k nearest in
    # a smaller box first: when the disc it contains (in R*Tree coordinates) already holds k
    # of them, they are the k nearest of the whole box, for a fraction of the reading.
    narrowed = False
    for fraction in (0.25, 0.5):
        inner_min_lat, inner_max_lat, inner_min_lon, inner_max_lon = bounding_box(
            lat, lon, radius_m * fraction
        )
        inner = {"min_lat": inner_min_lat, "max_lat": inner_max_lat,
                 "min_lon": inner_min_lon, "max_lon": inner_max_lon}  # fmt: skip
        north_south = min(inner_max_lat - lat, lat - inner_min_lat) * metres_per_degree
        east_west = min(inner_max_lon - lon, lon - inner_min_lon) * metres_per_degree * cos_lat
        disc = min(north_south, east_west) - 0.01  # a centimetre for the arithmetic
        if disc >= reach:
            break
        enough = db.session.execute(_SQLITE_ENOUGH, {**scale, **inner, "max_d2": disc * disc})
        if enough.scalar_one() >= k:
            box, reach, narrowed = inner, disc, True
            break
    rows = db.session.execute(
        _SQLITE_NEAREST,
        {**scale, **box, "max_d2": reach * reach, "lapsed_before": lapsed_before},
    ).all()
    found = []
    for row in rows:  # _EXTRA: the planar distance squared, then whether it is current
        if row[_EXTRA + 1] and row[_LATITUDE] is not None:
            d = distance_m(lat, lon, row[_LATITUDE], row[_LONGITUDE])
            if d <= radius_m:
                found.append((d, row[_ID], row))
    found.sort(key=lambda item: (item[0], item[1]))
    if narrowed and len(rows) < k:  # changed since it was counted
        return None
    if len(rows) >= k:  # there may be more: is the answer among those read?
        unread_from = (math.sqrt(max(row[_EXTRA] for row in rows)) - slack) * shrink - 1e-6
        cutoff = found[limit - 1][0] if len(found) >= limit else radius_m
        if not cutoff < unread_from:
            return None
    return [_hit(row, d) for d, _, row in found[:limit]]


def _hit(row, d: float) -> CameraHit:
    id_, kind, latitude, longitude, camera_count, views, retention_days = row[:_EXTRA]
    return CameraHit(
        id=id_,
        kind=kind,
        latitude=latitude,
        longitude=longitude,
        distance_m=float(d),
        camera_count=camera_count,
        views=tuple(filter(None, views.split(","))),
        retention_days=retention_days,
    )
