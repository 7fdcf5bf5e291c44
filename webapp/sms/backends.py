"""Outbound SMS backends behind one small interface.

``outbox`` (the default) keeps messages in the database only, to be read on the development
outbox page; ``twilio`` hands them to Twilio's REST API through the official client.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from flask import Flask

from ..models import OutboundMessage

# Twilio errors that no retry can fix (opted out, invalid or unreachable number, ...).
PERMANENT_TWILIO_ERRORS = frozenset(
    {"21211", "21408", "21610", "21612", "21614", "21606", "21659", "30003", "30004", "30005"}
)


class SmsDeliveryError(Exception):
    def __init__(self, code: str | None, permanent: bool):
        super().__init__(code)
        self.code = code
        self.permanent = permanent


class SmsBackend(Protocol):
    name: str
    inline: bool  # True: handled at once when queued (no network); False: by the worker

    def send(self, message: OutboundMessage) -> None:
        """Hand ``message`` over; set its ``status`` and ``provider_sid`` or raise."""


class OutboxBackend:
    name = "outbox"
    inline = True

    def send(self, message: OutboundMessage) -> None:
        message.status = "outbox"


class TwilioBackend:
    name = "twilio"
    inline = False

    def __init__(self, config):
        from twilio.rest import Client

        self.from_number = config["TWILIO_FROM_NUMBER"]
        self.messaging_service_sid = config["TWILIO_MESSAGING_SERVICE_SID"]
        base = config["PUBLIC_BASE_URL"].rstrip("/")
        self.status_callback = f"{base}/sms/status" if base else None
        self.client = Client(
            config["TWILIO_ACCOUNT_SID"],
            config["TWILIO_AUTH_TOKEN"],
            http_client=_http_client(config["TWILIO_API_BASE_URL"]),
        )

    def send(self, message: OutboundMessage) -> None:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        kwargs = {"to": message.to, "body": message.body}
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.from_number
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        try:
            sent = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            code = str(exc.code) if exc.code else None
            # 401/403 mean our credentials or account are wrong, not the message: retryable.
            client_error = 400 <= exc.status < 500 and exc.status not in (401, 403, 429)
            permanent = code in PERMANENT_TWILIO_ERRORS or client_error
            raise SmsDeliveryError(code or str(exc.status), permanent) from None
        except (TwilioException, OSError, ValueError) as exc:  # network, or a garbled answer
            raise SmsDeliveryError(type(exc).__name__, permanent=False) from None
        message.provider_sid = sent.sid
        message.status = sent.status or "queued"


def _http_client(api_base_url: str):
    """The client's HTTP layer, pointed at ``api_base_url`` (a local fake) when given."""
    from twilio.http.http_client import TwilioHttpClient

    if not api_base_url:
        return TwilioHttpClient(timeout=10)
    target = urlsplit(api_base_url)

    class RebasedHttpClient(TwilioHttpClient):
        def request(self, method, url, *args, **kwargs):
            parts = urlsplit(url)
            url = urlunsplit((target.scheme, target.netloc, parts.path, parts.query, ""))
            return super().request(method, url, *args, **kwargs)

    return RebasedHttpClient(timeout=10)


def init_sms(app: Flask) -> None:
    backend = app.config["SMS_BACKEND"]
    app.extensions["sms_backend"] = (
        TwilioBackend(app.config) if backend == "twilio" else OutboxBackend()
    )
