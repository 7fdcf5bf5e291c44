"""A small local fake of Twilio's Programmable Messaging API, for the real ``twilio`` client.

Only ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` is served. It checks HTTP Basic
auth, validates the form the way Twilio does for the few errors we care about, records every
request and answers with a realistic message resource. ``fail_next`` makes the next requests
fail with a chosen HTTP status and Twilio error, as a real outage or a bad number would.

The server speaks HTTP/1.0 (one request per connection), so the client's connection pool
keeps no socket open once a test ends.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2


class _Server(ThreadingHTTPServer):
    request_queue_size = 64  # several sending threads connect at once


AUTH_TOKEN = "fake-twilio-auth-token-" + "7" * 9
API_VERSION = "2010-04-01"

MESSAGES_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(AC[0-9a-fA-F]{{32}})/Messages\.json$")
E164 = re.compile(r"^\+[1-9]\d{1,14}$")

# Twilio's wording for the errors the fake can produce (https://www.twilio.com/docs/errors).
ERROR_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    21211: "The 'To' number is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
}
DEFAULT_CODES = {400: 21211, 401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20500}

# GSM 03.38: one septet each for the basic set, two for the extension table.
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")


def num_segments(body: str) -> int:
    """How many SMS segments Twilio would bill ``body`` as (GSM-7, else UCS-2)."""
    if all(c in GSM_BASIC or c in GSM_EXTENDED for c in body):
        units = sum(2 if c in GSM_EXTENDED else 1 for c in body)
        single, multi = 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, multi = 70, 67
    if units <= single:
        return 1
    return -(-units // multi)


def error_body(status: int, code: int | None = None, message: str | None = None) -> dict:
    """Twilio's JSON error shape."""
    code = code if code is not None else DEFAULT_CODES.get(status, status)
    return {
        "code": code,
        "message": message or ERROR_MESSAGES.get(code, HTTPStatus(status).phrase),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received, whatever it answered."""

    method: str
    path: str
    auth: tuple[str, str] | None  # (username, password) from HTTP Basic auth
    form: dict[str, str]  # the form fields, one value each
    status: int  # the HTTP status the fake answered with
    response: dict


@dataclass
class _Failure:
    status: int
    body: dict
    remaining: int


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    url: str = ""
    _requests: list[RecordedRequest] = field(default_factory=list)
    _failures: list[_Failure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # --- control --------------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        server = _Server(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="fake-twilio"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def fail_next(
        self, status: int, code: int | None = None, times: int = 1, message: str | None = None
    ) -> None:
        """Answer the next ``times`` well-authenticated requests with ``status`` and Twilio
        error ``code`` (a default code for the status when ``None``)."""
        with self._lock:
            self._failures.append(_Failure(status, error_body(status, code, message), times))

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def messages(self) -> list[RecordedRequest]:
        """The requests that created a message (answered 201)."""
        return [r for r in self.requests if r.status == 201]

    # --- serving --------------------------------------------------------------------------

    def _handle(
        self, method: str, path: str, auth: tuple[str, str] | None, form: dict[str, str]
    ) -> tuple[int, dict]:
        with self._lock:
            status, body = self._answer(method, path, auth, form)
            self._requests.append(RecordedRequest(method, path, auth, form, status, body))
        return status, body

    def _answer(
        self, method: str, path: str, auth: tuple[str, str] | None, form: dict[str, str]
    ) -> tuple[int, dict]:
        if auth != (self.account_sid, self.auth_token):
            return 401, error_body(401)
        match = MESSAGES_PATH.match(path)
        if method != "POST" or not match:
            return 404, error_body(404)
        if match.group(1) != self.account_sid:
            return 401, error_body(401)
        if self._failures:
            failure = self._failures[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.pop(0)
            return failure.body["status"], failure.body
        if not form.get("To"):
            return 400, error_body(400, 21604)
        if not E164.match(form["To"]):
            return 400, error_body(400, 21211)
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return 400, error_body(400, 21603)
        if not form.get("Body"):
            return 400, error_body(400, 21602)
        return 201, self._message_resource(form)

    def _message_resource(self, form: dict[str, str]) -> dict:
        sid = "SM" + secrets.token_hex(16)
        now = formatdate(usegmt=True)
        service = form.get("MessagingServiceSid")
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": form["Body"],
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From") or None,
            "messaging_service_sid": service or None,
            "num_media": "0",
            "num_segments": str(num_segments(form["Body"])),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            # Without a From, a Messaging Service picks the sender later: Twilio says "accepted".
            "status": "accepted" if service and not form.get("From") else "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": form["To"],
            "uri": f"{uri}.json",
        }


def _parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[len("Basic ") :], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def _handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeTwilio/1.0"

        def do_POST(self) -> None:
            self._serve()

        def do_GET(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            auth = _parse_basic_auth(self.headers.get("Authorization"))
            path = self.path.split("?", 1)[0]
            status, body = fake._handle(self.command, path, auth, form)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="Twilio API"')
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format, *args) -> None:  # quiet test output
            pass

    return Handler


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A running fake Twilio API; ``.url`` goes in ``TWILIO_API_BASE_URL``."""
    fake = FakeTwilio().start()
    try:
        yield fake
    finally:
        fake.stop()
