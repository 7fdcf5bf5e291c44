"""Twilio's side of the SMS channel: app settings, and webhook requests signed the way Twilio
signs them (``signature``), for the inbound texts and the status callbacks.

Every signed request in the suite is made here; a test about a bad or odd signature builds
it from ``signature`` and changes what it is about.
"""

from __future__ import annotations

import re
import secrets
import urllib.request
from html import unescape
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from webapp.sms_inbound.routes import effective_auth_token

from .fake_twilio import ACCOUNT_SID, AUTH_TOKEN

# One token for both kinds of app: those that only receive webhooks (``twilio_config``) and
# those that also send through the fake Twilio API (``twilio_settings``).
TOKEN = AUTH_TOKEN
BASE = "https://registry.example.gov"
OUR_NUMBER = "+13125550100"


def twilio_config(**extra) -> dict:
    """Settings for an app that receives Twilio's webhooks, signed over ``BASE``."""
    return {"PUBLIC_BASE_URL": BASE, "TWILIO_AUTH_TOKEN": TOKEN, **extra}


def twilio_settings(api_base_url: str, **overrides) -> dict:
    """Settings for an app whose texts go out through the real ``twilio`` client to the fake
    Twilio API at ``api_base_url`` (``fake_twilio.py``), and whose webhooks it signs."""
    return {
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": OUR_NUMBER,
        "TWILIO_MESSAGING_SERVICE_SID": "",
        "TWILIO_API_BASE_URL": api_base_url,
        "PUBLIC_BASE_URL": BASE,
        **overrides,
    }


# --- signing --------------------------------------------------------------------------------


def signature(url: str, params: dict, *, token: str = TOKEN) -> str:
    """The ``X-Twilio-Signature`` Twilio sends with ``params`` posted to ``url`` (a path is
    taken on ``BASE``)."""
    if url.startswith("/"):
        url = BASE + url
    return RequestValidator(token).compute_signature(url, params)


def signed_post(client, path: str, params: dict, *, url: str | None = None, token: str = TOKEN,
                **kwargs):  # fmt: skip
    """POST ``params`` to ``path`` with Twilio's signature over ``url`` (``BASE`` + ``path``
    unless given)."""
    headers = {"X-Twilio-Signature": signature(url or path, params, token=token),
               **kwargs.pop("headers", {})}  # fmt: skip
    return client.post(path, data=params, headers=headers, **kwargs)


# --- inbound texts --------------------------------------------------------------------------


def sms_params(sender: str, body: str, sid: str | None = None) -> dict:
    """The form Twilio posts to the inbound webhook for a text from ``sender``."""
    return {
        "MessageSid": sid or "SM" + secrets.token_hex(16),
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }


def reply_of(twiml: str) -> str:
    """The text of a TwiML answer's <Message>, or "" when it has none."""
    match = re.search(r"<Message>(.*?)</Message>", twiml, re.S)
    return unescape(match.group(1)) if match else ""


def text(client, sender: str, body: str, sid: str | None = None, **kwargs):
    """Send ``body`` from ``sender``; return (status code, the reply text or "")."""
    response = signed_post(client, "/sms/inbound", sms_params(sender, body, sid), **kwargs)
    return response.status_code, reply_of(response.get_data(as_text=True))


def text_live_server(live_server, sender: str, body: str) -> str:
    """Send ``body`` from ``sender`` to an app served over HTTP (the browser tests' live
    server), as Twilio does; return the reply text or "". Without PUBLIC_BASE_URL the
    signature covers the URL the request reached (outside production), and the token is the
    local one derived from SECRET_KEY (the app has no Twilio credentials)."""
    with live_server.app.app_context():
        token = effective_auth_token()
    url = f"{live_server.url}/sms/inbound"
    params = sms_params(sender, body)
    request = urllib.request.Request(  # noqa: S310 (the live server's http:// URL)
        url,
        data=urlencode(params).encode(),
        headers={
            "X-Twilio-Signature": signature(url, params, token=token),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200
        return reply_of(response.read().decode())


# --- status callbacks -----------------------------------------------------------------------


def status_params(sid: str, status: str, **extra: str) -> dict[str, str]:
    """The form Twilio posts to a StatusCallback URL about message ``sid``."""
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": OUR_NUMBER,
        "MessageSid": sid,
        "MessageStatus": status,
        "SmsSid": sid,
        "SmsStatus": status,
        **extra,
    }


def status_callback(client, sid: str, status: str, **extra: str):
    """Twilio's signed status callback: message ``sid`` is now ``status``."""
    return signed_post(client, "/sms/status", status_params(sid, status, **extra))
