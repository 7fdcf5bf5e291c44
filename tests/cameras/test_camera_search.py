"""Spatial search of camera registrations (cameras/search.py, migration 0004).

Checked on both databases: the answers equal a brute-force scan in Python, they come from the
real spatial index (R*Tree on SQLite, partial GiST on PostgreSQL), and the index follows every
change to the data.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam, delete, func, insert, select, text, update

from webapp.cameras import search
from webapp.cameras.search import EARTH_RADIUS_M, cameras_within, distance_m
from webapp.extensions import db
from webapp.models import CameraRegistration, RegistrationStatus, User
from webapp.models.types import UTCDateTime
from webapp.profiles.rights import delete_account

from ..support.web import PASSWORD

# A fixed clock; registrations renewed at or before LAPSED_BEFORE (13 months earlier, written
# out by hand rather than computed by the code under test) are lapsed.
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
LAPSED_BEFORE = datetime(2025, 5, 15, 12, 0, tzinfo=UTC)

# Chicago, roughly.
CITY_LAT = (41.6, 42.1)
CITY_LON = (-88.0, -87.5)
HOME = (41.8781, -87.6298)

# Points this close (relative) to the radius may fall either way: PostgreSQL's earth_distance
# and the Python haversine differ in the last bits.
BOUNDARY = 1e-6
# Distances closer than this (metres) may be ordered either way on PostgreSQL, unless the two
# points are the same point (then both databases must order them by id).
NEAR_TIE_M = 1e-6


def _row(user_id: int, **fields) -> dict:
    return {
        "user_id": user_id,
        "kind": "home",
        "status": RegistrationStatus.APPROVED,
        "street": "1 N State St",
        "city": "Chicago",
        "state": "IL",
        "zip_code": "60602",
        "terms_version": "2026-01",
        "willing": True,
        "latitude": HOME[0],
        "longitude": HOME[1],
        "renewed_at": NOW - timedelta(days=30),
        **fields,
    }


def _add(user_id: int, **fields) -> CameraRegistration:
    registration = CameraRegistration(**_row(user_id, **fields))
    db.session.add(registration)
    db.session.commit()
    return registration


def _found(registration_id: int, lat: float = HOME[0], lon: float = HOME[1], **kwargs) -> bool:
    kwargs.setdefault("now", NOW)
    return registration_id in [hit.id for hit in cameras_within(lat, lon, 100, **kwargs)]


def _is_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def _rtree() -> dict[int, tuple[float, float, float, float]]:
    """The R*Tree's rows (SQLite only): id -> (min_lat, max_lat, min_lon, max_lon)."""
    rows = db.session.execute(
        text("SELECT id, min_lat, max_lat, min_lon, max_lon FROM camera_index")
    ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def _assert_rtree_holds(expected: dict[int, tuple[float, float]]) -> None:
    """On SQLite, the R*Tree holds exactly ``expected`` (id -> lat, lon), as 32-bit boxes
    around each point (a float32 step or two wide)."""
    if not _is_sqlite():
        return
    index = _rtree()
    assert set(index) == set(expected)
    for registration_id, (lat, lon) in expected.items():
        min_lat, max_lat, min_lon, max_lon = index[registration_id]
        assert min_lat <= lat <= max_lat and max_lat - min_lat < 3e-5
        assert min_lon <= lon <= max_lon and max_lon - min_lon < 3e-5


@pytest.fixture
def user_ids(app, make_user) -> list[int]:
    return [make_user().id for _ in range(3)]


# --- 1. The same answers as a brute-force scan ---------------------------------------------


def _destination(lat: float, lon: float, bearing_deg: float, d: float) -> tuple[float, float]:
    """The point ``d`` metres from (lat, lon) along ``bearing_deg``, on the same sphere."""
    p1, l1, theta, delta = (
        math.radians(lat),
        math.radians(lon),
        math.radians(bearing_deg),
        d / EARTH_RADIUS_M,
    )
    sin_p2 = math.sin(p1) * math.cos(delta) + math.cos(p1) * math.sin(delta) * math.cos(theta)
    p2 = math.asin(sin_p2)
    l2 = l1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(p1),
        math.cos(delta) - math.sin(p1) * math.sin(p2),
    )
    return math.degrees(p2), math.degrees(l2)


STATUSES = st.sampled_from(
    [RegistrationStatus.APPROVED] * 6
    + [s for s in RegistrationStatus.ALL if s != RegistrationStatus.APPROVED]
)
RENEWED = st.one_of(
    st.integers(0, 500 * 86_400).map(lambda s: NOW - timedelta(seconds=s)),
    st.sampled_from([LAPSED_BEFORE + timedelta(seconds=s) for s in (-1, 0, 1)] + [None]),
)
PLACES = st.one_of(
    # In the disc's neighbourhood, as offsets in radii east and north...
    st.tuples(st.just("offset"), st.floats(-1, 1), st.floats(-1, 1)),
    # ... or as a bearing and a distance in radii.
    st.tuples(st.just("polar"), st.floats(0, 360), st.floats(0, 1.2)),
    # On or near the rim, where the bounding box's corners and the boundary are tested.
    st.tuples(
        st.just("rim"),
        st.one_of(st.sampled_from([0.0, 45.0, 90.0, 180.0, 270.0]), st.floats(0, 360)),
        st.one_of(
            st.sampled_from([1 - 1e-4, 1 - 1e-5, 1 + 1e-5, 1 + 1e-4]),
            st.floats(0.999, 1.001),
        ),
    ),
    # Anywhere in the city.
    st.tuples(st.just("city"), st.floats(*CITY_LAT), st.floats(*CITY_LON)),
    # The same point as an earlier row (ties, ordered by id).
    st.tuples(st.just("copy"), st.integers(0, 100), st.just(0.0)),
)
ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "place": PLACES,
            "status": STATUSES,
            "willing": st.sampled_from([True, True, True, False]),
            "coordinates": st.sampled_from(["both"] * 8 + ["none", "latitude only"]),
            "renewed_at": RENEWED,
            "kind": st.sampled_from(["home", "business"]),
            "camera_count": st.integers(0, 20),
        }
    ),
    min_size=5,
    max_size=40,
)


def _locate(place, lat: float, lon: float, radius: float, earlier: list) -> tuple[float, float]:
    how, a, b = place
    if how == "offset":
        north, east = b * radius, a * radius
        return (
            lat + math.degrees(north / EARTH_RADIUS_M),
            lon + math.degrees(east / (EARTH_RADIUS_M * math.cos(math.radians(lat)))),
        )
    if how in ("polar", "rim"):
        return _destination(lat, lon, a, b * radius)
    if how == "city":
        return a, b
    return earlier[a % len(earlier)] if earlier else (lat, lon)


def _crowd(
    user_ids: list[int], lat: float, lon: float, radius: float, n: int, lapsed_core: bool, seed: int
) -> list[dict]:
    """``n`` more rows in and around the disc, mostly searchable, some on the same spot: more
    candidates than a small ``limit`` needs. With ``lapsed_core``, nearly all of the inner
    ones are lapsed (still in the R*Tree), so the nearest candidates are not the answer."""
    rnd = random.Random(seed)  # one draw for the whole crowd: quick to generate
    values, points = [], []
    for i in range(n):
        fraction = rnd.uniform(0, 1.3)
        if points and rnd.random() < 0.1:
            plat, plon = rnd.choice(points)
        else:
            plat, plon = _destination(lat, lon, rnd.uniform(0, 360), fraction * radius)
        points.append((plat, plon))
        odds = 0.95 if lapsed_core and fraction < 0.7 else 0.3
        lapsed = rnd.random() < odds
        days = rnd.choice([400, 600] if lapsed else [1, 100, 300, 390])
        status = RegistrationStatus.APPROVED if rnd.random() < 0.9 else RegistrationStatus.PENDING
        values.append(
            _row(
                user_ids[i % len(user_ids)],
                latitude=plat,
                longitude=plon,
                status=status,
                renewed_at=NOW - timedelta(days=days),
            )
        )
    return values


def _brute_force(lat: float, lon: float) -> list[tuple[float, int, float, float]]:
    """Every searchable row as (distance, id, lat, lon), nearest first, ties by id: a plain
    scan of the table with the rules written out again."""
    rows = db.session.execute(
        select(
            CameraRegistration.id,
            CameraRegistration.status,
            CameraRegistration.willing,
            CameraRegistration.latitude,
            CameraRegistration.longitude,
            CameraRegistration.renewed_at,
        )
    ).all()
    searchable = [
        (distance_m(lat, lon, row.latitude, row.longitude), row.id, row.latitude, row.longitude)
        for row in rows
        if row.status == "approved"
        and row.willing
        and row.latitude is not None
        and row.longitude is not None
        and row.renewed_at is not None
        and row.renewed_at > LAPSED_BEFORE
    ]
    return sorted(searchable)


@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    lat=st.floats(*CITY_LAT),
    lon=st.floats(*CITY_LON),
    radius=st.floats(50, 5000),
    rows=ROWS,
    crowd=st.tuples(st.sampled_from([0, 0, 40, 150]), st.booleans(), st.integers(0, 2**32)),
    limit=st.one_of(st.none(), st.integers(1, 5), st.integers(1, 60)),
)
def test_search_equals_brute_force(app, user_ids, lat, lon, radius, rows, crowd, limit):
    with app.app_context():
        try:
            points: list[tuple[float, float]] = []
            values = []
            for i, row in enumerate(rows):
                point = _locate(row["place"], lat, lon, radius, points)
                points.append(point)
                plat, plon = point
                if row["coordinates"] == "none":
                    plat = plon = None
                elif row["coordinates"] == "latitude only":
                    plon = None
                values.append(
                    _row(
                        user_ids[i % len(user_ids)],
                        status=row["status"],
                        willing=row["willing"],
                        latitude=plat,
                        longitude=plon,
                        renewed_at=row["renewed_at"],
                        kind=row["kind"],
                        camera_count=row["camera_count"],
                        views="street,door" if i % 2 else "",
                        retention_days=i,
                    )
                )
            values += _crowd(user_ids, lat, lon, radius, *crowd)
            if values:
                db.session.execute(insert(CameraRegistration), values)
                db.session.commit()

            everything = _brute_force(lat, lon)
            by_id = {rid: (d, plat, plon) for d, rid, plat, plon in everything}
            unsure = {rid for d, rid, _, _ in everything if abs(d - radius) <= BOUNDARY * radius}
            expected = [rid for d, rid, _, _ in everything if d <= radius and rid not in unsure]

            hits = cameras_within(lat, lon, radius, now=NOW)
            got = [hit.id for hit in hits if hit.id not in unsure]

            assert sorted(got) == sorted(expected)
            for first, second in itertools.pairwise(got):
                (d1, lat1, lon1), (d2, lat2, lon2) = by_id[first], by_id[second]
                near_tie = abs(d1 - d2) <= NEAR_TIE_M and (lat1, lon1) != (lat2, lon2)
                assert (d1, first) < (d2, second) or near_tie, (first, second, d1, d2)
            if _is_sqlite():  # the same arithmetic as the brute force: exactly the same list
                assert got == expected

            registrations = {
                r.id: r
                for r in db.session.scalars(
                    select(CameraRegistration).where(
                        CameraRegistration.id.in_([hit.id for hit in hits])
                    )
                )
            }
            for hit in hits:
                d, plat, plon = by_id[hit.id]
                assert hit.distance_m == pytest.approx(d, rel=1e-9, abs=1e-6)
                assert hit.distance_m <= radius * (1 + BOUNDARY)
                assert (hit.latitude, hit.longitude) == (plat, plon)
                registration = registrations[hit.id]
                assert hit.kind == registration.kind
                assert hit.camera_count == registration.camera_count
                assert hit.retention_days == registration.retention_days
                assert hit.views == tuple(registration.view_list)

            if limit is not None:
                limited = cameras_within(lat, lon, radius, now=NOW, limit=limit)
                assert [hit.id for hit in limited] == [hit.id for hit in hits][:limit]

            # The R*Tree holds exactly the approved, willing rows with coordinates.
            _assert_rtree_holds(
                {
                    row.id: (row.latitude, row.longitude)
                    for row in db.session.execute(
                        select(
                            CameraRegistration.id,
                            CameraRegistration.latitude,
                            CameraRegistration.longitude,
                        ).where(
                            CameraRegistration.status == "approved",
                            CameraRegistration.willing,
                            CameraRegistration.latitude.is_not(None),
                            CameraRegistration.longitude.is_not(None),
                        )
                    )
                }
            )
        finally:
            db.session.rollback()
            db.session.execute(delete(CameraRegistration))
            db.session.commit()


def test_ties_are_ordered_by_id_and_the_nearest_come_first(app, user_ids):
    with app.app_context():
        north = _destination(*HOME, 0, 40)
        ids = [
            _add(user_ids[0], latitude=north[0], longitude=north[1]).id,
            _add(user_ids[1]).id,
            _add(user_ids[2], latitude=north[0], longitude=north[1]).id,
            _add(user_ids[0]).id,
        ]
        hits = cameras_within(*HOME, 100, now=NOW)
        assert [hit.id for hit in hits] == [ids[1], ids[3], ids[0], ids[2]]
        assert [hit.distance_m for hit in hits] == pytest.approx([0, 0, 40, 40], abs=1e-6)
        assert [hit.id for hit in cameras_within(*HOME, 100, now=NOW, limit=3)] == [
            ids[1],
            ids[3],
            ids[0],
        ]


def test_lapsed_registrations_crowding_the_centre_hide_nothing(app, user_ids):
    """Lapsed registrations stay in the spatial index; many of them near the centre must not
    crowd out current ones further away, whatever the limit."""
    with app.app_context():
        values = []
        for i in range(150):  # lapsed, within 40 m
            lat, lon = _destination(*HOME, i * 7.0, i / 4)
            values.append(
                _row(
                    user_ids[i % 3],
                    latitude=lat,
                    longitude=lon,
                    renewed_at=LAPSED_BEFORE - timedelta(days=1),
                )
            )
        for i in range(12):  # current, 500 to 940 m away
            lat, lon = _destination(*HOME, i * 31.0, 500 + 40 * i)
            values.append(_row(user_ids[i % 3], latitude=lat, longitude=lon))
        db.session.execute(insert(CameraRegistration), values)
        db.session.commit()
        expected = [rid for d, rid, _, _ in _brute_force(*HOME) if d <= 1000]
        assert len(expected) == 12
        for limit in (1, 5, 12, 500):
            hits = cameras_within(*HOME, 1000, now=NOW, limit=limit)
            assert [hit.id for hit in hits] == expected[:limit]


# --- 2. The spatial index is what answers ---------------------------------------------------


def _search_params(lat: float, lon: float, radius: float) -> dict:
    min_lat, max_lat, min_lon, max_lon = search.bounding_box(lat, lon, radius)
    return {
        "lat": lat,
        "lon": lon,
        "radius": radius,
        "limit": 500,
        "min_lat": min_lat,
        "max_lat": max_lat,
        "min_lon": min_lon,
        "max_lon": max_lon,
        "lapsed_before": LAPSED_BEFORE,
        # For the SQLite nearest-first statement.
        "m_lat": 111_000.0,
        "m_lon": 83_000.0,
        "max_d2": (2 * radius) ** 2,
        "k": 50,
    }


_LAPSED_PARAM = bindparam("lapsed_before", type_=UTCDateTime)


def _plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def _postgres_plan(params: dict) -> list[dict]:
    statement = search._POSTGRES
    explain = text("EXPLAIN (FORMAT JSON) " + statement.text).bindparams(_LAPSED_PARAM)
    (plan,) = db.session.execute(explain, params).scalar_one()
    if isinstance(plan, str):  # pragma: no cover - depends on the driver
        plan = json.loads(plan)
    return list(_plan_nodes(plan["Plan"]))


def _uses_earth_index(nodes: list[dict]) -> bool:
    return any(
        node.get("Index Name") == "ix_camera_registrations_earth"
        # The box test reaches the index (earth_box itself is inlined into a cube).
        and "ll_to_earth(latitude, longitude)" in node.get("Index Cond", "")
        and "<@" in node["Index Cond"]
        for node in nodes
    )


def _many(user_ids: list[int], n: int) -> None:
    """``n`` approved registrations on a grid over the city (plus some pending ones)."""
    side = math.isqrt(n) + 1
    values = []
    for i in range(n):
        lat = CITY_LAT[0] + (CITY_LAT[1] - CITY_LAT[0]) * (i // side) / side
        lon = CITY_LON[0] + (CITY_LON[1] - CITY_LON[0]) * (i % side) / side
        status = RegistrationStatus.PENDING if i % 10 == 0 else RegistrationStatus.APPROVED
        values.append(_row(user_ids[i % len(user_ids)], latitude=lat, longitude=lon, status=status))
    db.session.execute(insert(CameraRegistration), values)
    db.session.commit()


def test_the_spatial_index_answers_the_search(app, user_ids):
    with app.app_context():
        _many(user_ids, 200)
        home = _add(user_ids[0]).id
        params = _search_params(*HOME, 1000)
        if _is_sqlite():
            # Both statements: the whole box, and the nearest candidates in it.
            for statement in (search._SQLITE, search._SQLITE_NEAREST):
                explain = text("EXPLAIN QUERY PLAN " + statement.text).bindparams(_LAPSED_PARAM)
                details = [row[3] for row in db.session.execute(explain, params)]
                rtree = [d for d in details if "VIRTUAL TABLE INDEX" in d]
                assert len(rtree) == 1, details
                # idxNum 2 is a search by the R*Tree's constraints (1 would be a rowid
                # lookup), and all four bounds reach it: D is ">=", B "<=", digits columns.
                scan, constraints = rtree[0].split("VIRTUAL TABLE INDEX ")[1].split(":")
                assert scan == "2", details
                pairs = {constraints[i : i + 2] for i in range(0, len(constraints), 2)}
                assert pairs == {"D1", "B0", "D3", "B2"}, details
                # Registrations are then fetched by primary key, never scanned.
                assert not any(d.startswith("SCAN r") for d in details), details
        else:
            # Partial: only searchable registrations are in it.
            definition = db.session.scalar(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
                {"name": "ix_camera_registrations_earth"},
            )
            assert "WHERE" in definition and "'approved'" in definition and "willing" in definition
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            nodes = _postgres_plan(params)
            assert _uses_earth_index(nodes), json.dumps(nodes, indent=1)
            db.session.rollback()
        # And the search itself answers from that plan.
        assert home in [hit.id for hit in cameras_within(*HOME, 1000, now=NOW)]


def test_postgres_chooses_the_index_unforced(app, user_ids):
    """With statistics on a city's worth of rows, the planner picks the GiST index by itself."""
    with app.app_context():
        if _is_sqlite():
            pytest.skip("PostgreSQL only (on SQLite the query names the R*Tree)")
        _many(user_ids, 5000)
        db.session.execute(text("ANALYZE camera_registrations"))
        db.session.commit()
        nodes = _postgres_plan(_search_params(*HOME, 500))
        assert _uses_earth_index(nodes), json.dumps(nodes, indent=1)
        assert not any(node["Node Type"] == "Seq Scan" for node in nodes)


# --- 3. The index follows the data ----------------------------------------------------------


def test_the_index_follows_status_willingness_coordinates_and_deletion(app, user_ids):
    with app.app_context():
        other = _add(user_ids[1])  # a neighbour that stays found throughout
        registration = _add(user_ids[0], status=RegistrationStatus.PENDING)
        assert not _found(registration.id)
        assert _found(other.id)
        _assert_rtree_holds({other.id: HOME})

        registration.status = RegistrationStatus.APPROVED
        db.session.commit()
        assert _found(registration.id)
        _assert_rtree_holds({other.id: HOME, registration.id: HOME})

        registration.willing = False
        db.session.commit()
        assert not _found(registration.id)
        _assert_rtree_holds({other.id: HOME})

        registration.willing = True
        db.session.commit()
        assert _found(registration.id)

        registration.status = RegistrationStatus.CHANGES_REQUESTED
        db.session.commit()
        assert not _found(registration.id)
        registration.status = RegistrationStatus.APPROVED
        db.session.commit()
        assert _found(registration.id)

        # Moved 3 km north: found there, no longer at home.
        moved = _destination(*HOME, 0, 3000)
        registration.latitude, registration.longitude = moved
        db.session.commit()
        assert not _found(registration.id)
        assert _found(registration.id, *moved)
        assert not _found(other.id, *moved)
        _assert_rtree_holds({other.id: HOME, registration.id: moved})

        # The same by a bulk UPDATE (no ORM unit of work).
        db.session.execute(
            update(CameraRegistration)
            .where(CameraRegistration.id == registration.id)
            .values(latitude=HOME[0], longitude=HOME[1])
        )
        db.session.commit()
        assert _found(registration.id)
        assert not _found(registration.id, *moved)

        # Losing its coordinates takes it out; geocoding it again puts it back.
        registration.latitude = None
        db.session.commit()
        assert not _found(registration.id)
        _assert_rtree_holds({other.id: HOME})
        registration.latitude = HOME[0]
        db.session.commit()
        assert _found(registration.id)

        # An unrelated edit leaves it where it is.
        registration.street = "2 N State St"
        db.session.commit()
        assert _found(registration.id)
        _assert_rtree_holds({other.id: HOME, registration.id: HOME})

        registration_id = registration.id
        db.session.delete(registration)
        db.session.commit()
        assert not _found(registration_id)
        assert _found(other.id)
        _assert_rtree_holds({other.id: HOME})


def test_deleting_the_owner_removes_their_registrations(app, user_ids):
    with app.app_context():
        mine = [_add(user_ids[0]).id, _add(user_ids[0], kind="business").id]
        theirs = _add(user_ids[1]).id
        assert all(_found(rid) for rid in [*mine, theirs])

        delete_account(db.session.get(User, user_ids[0]), PASSWORD)

        assert db.session.scalar(select(func.count()).select_from(CameraRegistration)) == 1
        assert not any(_found(rid) for rid in mine)
        assert _found(theirs)
        _assert_rtree_holds({theirs: HOME})


def test_lapsed_registrations_are_not_found(app, user_ids):
    with app.app_context():
        renewed = datetime(2025, 1, 10, 9, 30, tzinfo=UTC)
        registration = _add(user_ids[0], renewed_at=renewed)
        assert not _found(registration.id, now=NOW)  # 17 months on
        # Still found a moment before its 13 months run out, not found once they have.
        assert _found(registration.id, now=datetime(2026, 2, 10, 9, 29, 59, tzinfo=UTC))
        assert not _found(registration.id, now=datetime(2026, 2, 10, 9, 30, tzinfo=UTC))
        assert _found(registration.id, now=renewed + timedelta(days=1))
        # On the real clock: lapsed 14 months after renewal; renewing it brings it back.
        registration.renewed_at = datetime.now(UTC) - timedelta(days=430)
        db.session.commit()
        assert not _found(registration.id, now=None)
        registration.renewed_at = datetime.now(UTC)
        db.session.commit()
        assert _found(registration.id, now=None)
        # Approved but never renewed (no date): not found.
        registration.renewed_at = None
        db.session.commit()
        assert not _found(registration.id, now=NOW)


# --- 4. Bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "radius"),
    [
        (90.5, -87.6, 100),
        (-91, -87.6, 100),
        (41.9, 180.5, 100),
        (41.9, -181, 100),
        (41.9, -87.6, 0),
        (41.9, -87.6, -5),
        (math.nan, -87.6, 100),
        (41.9, math.nan, 100),
        (41.9, -87.6, math.nan),
    ],
)
def test_bad_input_is_refused(app, lat, lon, radius):
    with app.app_context(), pytest.raises(ValueError):
        cameras_within(lat, lon, radius)
