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
server speaks HTTP/1.0 (one request per connection), so the client's connection pool keeps
no socket open once a test ends, and ``stop`` cuts any delay short.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

LICENCE = "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright"
FORMATS = ("json", "jsonv2")


def normalise(address: str) -> str:
    """The form addresses are compared in: case-folded, no commas, single spaces."""
    return " ".join(address.replace(",", " ").casefold().split())


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received, whatever it answered."""

    method: str
    path: str
    params: dict[str, str]  # the query parameters, one value each
    headers: dict[str, str]  # header names lower-cased
    status: int  # the HTTP status the fake answered (or was about to) with

    @property
    def user_agent(self) -> str | None:
        return self.headers.get("user-agent")


@dataclass
class _Failure:
    status: int
    body: object
    remaining: int


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (timed out) before a late answer is not an error here.
        pass


@dataclass
class FakeNominatim:
    places: dict[str, tuple[float, float]] = field(default_factory=dict)
    country_code: str = "us"  # the country every place is in
    prefix: str = ""  # the path the API is served under, e.g. "/nominatim"
    delay: float = 0.0  # seconds to wait before answering any request
    url: str = ""
    _requests: list[RecordedRequest] = field(default_factory=list)
    _failures: list[_Failure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # --- control --------------------------------------------------------------------------

    def start(self) -> FakeNominatim:
        server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._server = server
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="fake-nominatim"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes any handler still sleeping out a delay
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def add(self, address: str, lat: float, lon: float) -> None:
        self.places[address] = (lat, lon)

    def fail_next(self, status: int = 500, times: int = 1) -> None:
        """Answer the next ``times`` search requests with ``status`` and Nominatim's error
        shape, as an overloaded or broken server would."""
        body = {"error": {"code": status, "message": HTTPStatus(status).phrase}}
        self.answer_next(body, status=status, times=times)

    def answer_next(self, body: object, status: int = 200, times: int = 1) -> None:
        """Answer the next ``times`` search requests with ``body`` whatever they ask: JSON,
        or sent as is (as HTML) when ``bytes``. For malformed or surprising answers."""
        with self._lock:
            self._failures.append(_Failure(status, body, times))

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def searches(self) -> list[RecordedRequest]:
        """The requests made to the search endpoint."""
        return [r for r in self.requests if r.path in self._search_paths()]

    # --- serving --------------------------------------------------------------------------

    def _search_paths(self) -> tuple[str, ...]:
        prefix = self.prefix.rstrip("/")
        return (f"{prefix}/search", f"{prefix}/search.php")

    def _handle(
        self, method: str, path: str, params: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, object]:
        with self._lock:
            status, body = self._answer(method, path, params)
            self._requests.append(RecordedRequest(method, path, params, headers, status))
        return status, body

    def _answer(self, method: str, path: str, params: dict[str, str]) -> tuple[int, object]:
        if method != "GET" or path not in self._search_paths():
            return 404, {"error": {"code": 404, "message": "Not Found"}}
        if self._failures:
            failure = self._failures[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.pop(0)
            return failure.status, failure.body
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


def _handler_for(fake: FakeNominatim) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeNominatim/1.0"

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body = fake._handle(self.command, parts.path, params, headers)
            if fake.delay and fake._stopping.wait(fake.delay):
                return  # the server is stopping: drop the late answer
            if isinstance(body, bytes):
                payload, content_type = body, "text/html; charset=utf-8"
            else:
                payload, content_type = json.dumps(body).encode(), "application/json; charset=utf-8"
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting

        def log_message(self, format, *args) -> None:  # quiet test output
            pass

    return Handler


@pytest.fixture
def fake_nominatim() -> Iterator[FakeNominatim]:
    """A running fake Nominatim server; ``.url`` goes in ``GEOCODER_URL``."""
    fake = FakeNominatim().start()
    try:
        yield fake
    finally:
        fake.stop()
