"""A small local fake of Twilio's Programmable Messaging API, for the real ``twilio`` client.

Only ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` is served. It checks HTTP Basic
auth, validates the form the way Twilio does for the few errors we care about, records every
request and answers with a realistic message resource. ``fail_next`` makes the next requests
fail with a chosen HTTP status and Twilio error, as a real outage or a bad number would. The
serving itself is ``fake_server.FakeServer``'s.
"""

from __future__ import annotations

import re
import secrets
from email.utils import formatdate
from http import HTTPStatus

from .fake_server import FakeServer, RecordedRequest, Request

__all__ = ["ACCOUNT_SID", "AUTH_TOKEN", "FakeTwilio", "RecordedRequest"]

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
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


class FakeTwilio(FakeServer):
    """The fake Twilio API; ``.url`` goes in ``TWILIO_API_BASE_URL``."""

    name = "FakeTwilio"

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token

    def fail_next(
        self, status: int, code: int | None = None, times: int = 1, message: str | None = None
    ) -> None:
        """Answer the next ``times`` well-authenticated requests with ``status`` and Twilio
        error ``code`` (a default code for the status when ``None``)."""
        self.answer_next(error_body(status, code, message), status=status, times=times)

    @property
    def messages(self) -> list[RecordedRequest]:
        """The requests that created a message (answered 201)."""
        return [r for r in self.requests if r.status == 201]

    # --- serving --------------------------------------------------------------------------

    def answer(self, request: Request) -> tuple[int, dict]:
        form = request.form
        if request.auth != (self.account_sid, self.auth_token):
            return 401, error_body(401)
        match = MESSAGES_PATH.match(request.path)
        if request.method != "POST" or not match:
            return 404, error_body(404)
        if match.group(1) != self.account_sid:
            return 401, error_body(401)
        if canned := self.canned():
            return canned
        if not form.get("To"):
            return 400, error_body(400, 21604)
        if not E164.match(form["To"]):
            return 400, error_body(400, 21211)
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return 400, error_body(400, 21603)
        if not form.get("Body"):
            return 400, error_body(400, 21602)
        return 201, self._message_resource(form)

    def extra_headers(self, status: int) -> dict[str, str]:
        return {"WWW-Authenticate": 'Basic realm="Twilio API"'} if status == 401 else {}

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
