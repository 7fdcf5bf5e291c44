"""The search map, drawn on the server as inline SVG (templates/police/_map.svg): no tiles,
no network, no JavaScript.

An equirectangular projection centred on the incident (metres east and north of it, with the
east-west scale of the incident's latitude) is exact enough at city scale: across a 20 km
circle its error is far below a marker's size. North is up. The circle is the search radius,
numbered markers are the results in list order, and a scale bar shows a round length.

Precision: a marker is placed from coordinates rounded to ``MAP_PLACES`` decimals (about
10 m), and distances are shown to the nearest 10 m: an approximate place, never more exact
than the page needs. The CSV export rounds coordinates further (export.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import format_decimal, format_number
from flask_babel import gettext as _

from ..cameras.search import EARTH_RADIUS_M
from .services import SearchResult

METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180
MAP_PLACES = 4  # about 11 m north-south, 8 m east-west in Chicago
SIZE = 400  # the viewBox is SIZE x SIZE
CIRCLE_R = 180  # the search radius, in viewBox units
SCALE_LENGTHS_M = (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000)


@dataclass(frozen=True)
class Marker:
    number: int
    x: float
    y: float


@dataclass(frozen=True)
class MapLayout:
    """What templates/police/_map.svg draws, in viewBox units."""

    radius_m: int
    size: int
    centre: float
    circle_r: float
    markers: tuple[Marker, ...]
    scale_m: int
    scale_px: float


def rounded_distance_m(distance: float) -> int:
    """A distance to the nearest 10 m (at least 10 m: "about 10 m" rather than "0 m")."""
    return max(10, int(round(distance, -1)))


def format_distance(metres: float) -> str:
    """``250 m``, ``1 km``, ``1.5 km`` in the request's language."""
    if metres >= 1000:
        return _("%(distance)s km", distance=format_decimal(metres / 1000, format="#,##0.#"))
    return _("%(distance)s m", distance=format_number(round(metres)))


def scale_length_m(radius_m: float) -> int:
    """The longest round length that fits in half the radius (the smallest one at least)."""
    fitting = [length for length in SCALE_LENGTHS_M if length <= radius_m / 2]
    return fitting[-1] if fitting else SCALE_LENGTHS_M[0]


def project(
    centre: tuple[float, float], point: tuple[float, float], px_per_m: float
) -> tuple[float, float]:
    """Where ``point`` (lat, lon) is drawn, with ``centre`` in the middle of the map."""
    north_m = (point[0] - centre[0]) * METRES_PER_DEGREE
    east_m = (point[1] - centre[1]) * METRES_PER_DEGREE * math.cos(math.radians(centre[0]))
    middle = SIZE / 2
    x = min(max(middle + east_m * px_per_m, 0.0), SIZE)
    y = min(max(middle - north_m * px_per_m, 0.0), SIZE)  # SVG's y grows downwards
    return round(x, 1), round(y, 1)


def layout(result: SearchResult) -> MapLayout:
    px_per_m = CIRCLE_R / result.radius_m
    centre = (result.latitude, result.longitude)
    markers = []
    for number, hit in enumerate(result.hits, start=1):
        approximate = (round(hit.latitude, MAP_PLACES), round(hit.longitude, MAP_PLACES))
        markers.append(Marker(number, *project(centre, approximate, px_per_m)))
    scale_m = scale_length_m(result.radius_m)
    return MapLayout(
        radius_m=result.radius_m,
        size=SIZE,
        centre=SIZE / 2,
        circle_r=CIRCLE_R,
        markers=tuple(markers),
        scale_m=scale_m,
        scale_px=round(scale_m * px_per_m, 1),
    )
