"""A small local fake of a Nominatim server's search API, for the real ``geopy`` client.

Only ``GET {prefix}/search`` (and its legacy spelling ``/search.php``) is served, with
``format=json`` or ``format=jsonv2`` and a free-form ``q``. Known addresses come from
``places`` (address -> (lat, lon)); matching ignores case, commas and extra spaces, as a
forgiving geocoder would. The answer is a JSON list of places with the fields Nominatim
returns (``place_id``, ``lat``/``lon`` as strings, ``display_name``, ``boundingbox``...), or
``[]`` when nothing matches, including when ``countrycodes`` excludes ``country_code``.

Every request is recorded (path, query parameters, headers). ``fail_next`` makes the next
requests fail with a chosen HTTP status, ``answer_next`` gives them any answer (malformed
ones included); ``delay`` makes every answer late, to exercise the client's timeout. The
serving itself is ``fake_server.FakeServer``'s.
"""

from __future__ import annotations

import re
from http import HTTPStatus

from .fake_server import FakeServer, RecordedRequest, Request

__all__ = ["FakeNominatim", "RecordedRequest"]

LICENCE = "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright"
FORMATS = ("json", "jsonv2")


def normalise(address: str) -> str:
    """The form addresses are compared in: case-folded, no commas, single spaces."""
    return " ".join(address.replace(",", " ").casefold().split())


class FakeNominatim(FakeServer):
    """The fake Nominatim server; ``.url`` goes in ``GEOCODER_URL``."""

    name = "FakeNominatim"

    def __init__(self) -> None:
        super().__init__()
        self.places: dict[str, tuple[float, float]] = {}
        self.country_code = "us"  # the country every place is in
        self.prefix = ""  # the path the API is served under, e.g. "/nominatim"
        self.delay = 0.0  # seconds to wait before answering any request

    def add(self, address: str, lat: float, lon: float) -> None:
        self.places[address] = (lat, lon)

    def fail_next(self, status: int = 500, times: int = 1) -> None:
        """Answer the next ``times`` search requests with ``status`` and Nominatim's error
        shape, as an overloaded or broken server would."""
        body = {"error": {"code": status, "message": HTTPStatus(status).phrase}}
        self.answer_next(body, status=status, times=times)

    @property
    def searches(self) -> list[RecordedRequest]:
        """The requests made to the search endpoint."""
        return [r for r in self.requests if r.path in self._search_paths()]

    # --- serving --------------------------------------------------------------------------

    def _search_paths(self) -> tuple[str, ...]:
        prefix = self.prefix.rstrip("/")
        return (f"{prefix}/search", f"{prefix}/search.php")

    def answer(self, request: Request) -> tuple[int, object]:
        """Canned answers (``answer_next``: JSON, or ``bytes`` sent as HTML) go to search
        requests only, whatever they ask."""
        params = request.params
        if request.method != "GET" or request.path not in self._search_paths():
            return 404, {"error": {"code": 404, "message": "Not Found"}}
        if canned := self.canned():
            return canned
        fmt = params.get("format", "xml")
        if fmt not in FORMATS:
            message = "Parameter 'format' must be one of: xml, json, jsonv2, geojson, geocodejson"
            return 400, {"error": {"code": 400, "message": message}}
        query = params.get("q", "")
        if not query.strip():
            return 400, {"error": {"code": 400, "message": "Nothing to search for."}}
        countries = [c.strip().lower() for c in params.get("countrycodes", "").split(",")]
        if any(countries) and self.country_code not in countries:
            return 200, []
        wanted = normalise(query)
        matches = [(a, ll) for a, ll in self.places.items() if normalise(a) == wanted]
        limit = _int(params.get("limit"), default=10, low=1, high=40)
        return 200, [self._place(a, lat, lon, fmt) for a, (lat, lon) in matches[:limit]]

    def extra_headers(self, status: int) -> dict[str, str]:
        return {"Access-Control-Allow-Origin": "*"}

    def _place(self, address: str, lat: float, lon: float, fmt: str) -> dict:
        place_id = 100_000 + sorted(self.places).index(address)
        kind = "category" if fmt == "jsonv2" else "class"
        return {
            "place_id": place_id,
            "licence": LICENCE,
            "osm_type": "way",
            "osm_id": 200_000 + place_id,
            "lat": f"{lat:.7f}",
            "lon": f"{lon:.7f}",
            kind: "building",
            "type": "yes",
            "place_rank": 30,
            "importance": 0.00009999999999998899,
            "addresstype": "building",
            "name": "",
            "display_name": f"{address}, United States",
            "boundingbox": [
                f"{lat - 0.0001:.7f}",
                f"{lat + 0.0001:.7f}",
                f"{lon - 0.0001:.7f}",
                f"{lon + 0.0001:.7f}",
            ],
        }


def _int(raw: str | None, *, default: int, low: int, high: int) -> int:
    if raw is None or not re.fullmatch(r"\d+", raw):
        return default
    return max(low, min(high, int(raw)))
