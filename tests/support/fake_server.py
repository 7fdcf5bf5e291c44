"""The base of the local fakes of outside HTTP APIs (``fake_twilio.py``, ``fake_nominatim.py``).

A fake serves on 127.0.0.1, on a free port, one thread a request. It records every request
with the answer it gave, and can be told to give canned answers to the next requests (an
outage, a malformed answer). The server speaks HTTP/1.0 (one request per connection), so a
client's connection pool keeps no socket open once a test ends; ``stop`` cuts any ``delay``
short. A subclass says what it answers in ``answer``.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    """One request as a fake received it."""

    method: str
    path: str  # without the query string
    params: dict[str, str]  # the query parameters, one value each
    headers: dict[str, str]  # header names lower-cased
    form: dict[str, str]  # the form fields of the body, one value each
    auth: tuple[str, str] | None  # (username, password) from HTTP Basic auth


@dataclass(frozen=True)
class RecordedRequest(Request):
    """One request the fake received, whatever it answered."""

    status: int  # the HTTP status the fake answered (or was about to) with
    response: object  # the body it answered with

    @property
    def user_agent(self) -> str | None:
        return self.headers.get("user-agent")


@dataclass
class _Canned:
    status: int
    body: object
    remaining: int


def _parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[len("Basic ") :], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # several sending threads connect at once

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (timed out) before a late answer is not an error here.
        pass


class FakeServer:
    """A fake HTTP API: ``start`` it (or use it as a context manager), point the client at
    ``url``, read ``requests`` afterwards."""

    name = "fake"  # its thread's name and its Server header
    delay: float = 0.0  # seconds to wait before answering any request

    def __init__(self) -> None:
        self.url = ""
        self._requests: list[RecordedRequest] = []
        self._canned: list[_Canned] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- what a fake says -------------------------------------------------------------------

    def answer(self, request: Request) -> tuple[int, object]:
        """The status and body (JSON, or ``bytes`` sent as HTML) to answer ``request`` with."""
        raise NotImplementedError

    def extra_headers(self, status: int) -> dict[str, str]:
        return {}

    # --- control ----------------------------------------------------------------------------

    def start(self) -> Self:
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=self.name, daemon=True
        )
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def answer_next(self, body: object, status: int = 200, times: int = 1) -> None:
        """Answer the next ``times`` requests that reach ``canned`` with ``body``."""
        with self._lock:
            self._canned.append(_Canned(status, body, times))

    def canned(self) -> tuple[int, object] | None:
        """The next canned answer, if any is left (``answer`` calls it where it applies)."""
        if not self._canned:
            return None
        first = self._canned[0]
        first.remaining -= 1
        if first.remaining <= 0:
            self._canned.pop(0)
        return first.status, first.body

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def _handle(self, request: Request) -> tuple[int, object]:
        with self._lock:
            status, body = self.answer(request)
            self._requests.append(RecordedRequest(**vars(request), status=status, response=body))
        return status, body


def _handler_for(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = f"{fake.name}/1.0"

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            request = Request(
                method=self.command,
                path=parts.path,
                params={k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                headers={k.lower(): v for k, v in self.headers.items()},
                form={k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()},
                auth=_parse_basic_auth(self.headers.get("Authorization")),
            )
            status, body = fake._handle(request)
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
                for name, value in fake.extra_headers(status).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting

        def log_message(self, format, *args) -> None:  # quiet test output
            pass

    return Handler
