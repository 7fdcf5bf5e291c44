"""Signed Twilio webhook requests, made the way Twilio makes them."""

from __future__ import annotations

import secrets

from twilio.request_validator import RequestValidator

TOKEN = "test-twilio-auth-token-0123456789"
BASE = "https://registry.example.gov"
OUR_NUMBER = "+13125550100"


def twilio_config(**extra) -> dict:
    return {"PUBLIC_BASE_URL": BASE, "TWILIO_AUTH_TOKEN": TOKEN, **extra}


def twilio_settings(api_base_url: str, **overrides) -> dict:
    """Settings for an app whose texts go out through the real ``twilio`` client to the fake
    Twilio API at ``api_base_url`` (``tests/fake_twilio.py``), and whose webhooks it signs."""
    from .fake_twilio import ACCOUNT_SID, AUTH_TOKEN

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


def signed_post(client, path: str, params: dict, *, url: str | None = None, token: str = TOKEN,
                **kwargs):  # fmt: skip
    signature = RequestValidator(token).compute_signature(url or BASE + path, params)
    headers = {"X-Twilio-Signature": signature, **kwargs.pop("headers", {})}
    return client.post(path, data=params, headers=headers, **kwargs)


def sms_params(sender: str, body: str, sid: str | None = None) -> dict:
    return {
        "MessageSid": sid or "SM" + secrets.token_hex(16),
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }


def text(client, sender: str, body: str, sid: str | None = None):
    """Send ``body`` from ``sender``; return (status code, the reply text or "")."""
    import re
    from html import unescape

    response = signed_post(client, "/sms/inbound", sms_params(sender, body, sid))
    match = re.search(r"<Message>(.*?)</Message>", response.get_data(as_text=True), re.S)
    return response.status_code, unescape(match.group(1)) if match else ""
