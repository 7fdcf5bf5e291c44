"""Driving the app as a person does: forms with their CSRF token, accounts, sign-in, the
second factor, the texts sent, and the translations the pages and texts should show."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import OutboundMessage

from . import ROOT

PASSWORD = "correct horse battery staple"

# --- forms ----------------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def submit(client: FlaskClient, path: str, data: dict, *, page: str | None = None, **kwargs):
    """POST ``data`` to ``path`` the way a browser would: with the form's CSRF token."""
    token = csrf_token(client, page or path)
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


# --- translations ---------------------------------------------------------------------------


@cache
def _catalog(locale: str):
    from babel.messages.pofile import read_po

    path = ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        return read_po(fh)


def translated(locale: str, msgid: str) -> str:
    """The catalog's translation of ``msgid`` (so tests fail on a missing translation)."""
    string = _catalog(locale)[msgid].string
    assert string and string != msgid, f"{msgid!r} is not translated in {locale}"
    return string


def reply_in(locale: str, msgid: str) -> str:
    """The longest fixed part of a text's translation (the part between placeholders)."""
    string = msgid if locale == "en" else translated(locale, msgid)
    return max(re.split(r"%\(\w+\)[sd]", string), key=len).strip()[:30]


# --- accounts -------------------------------------------------------------------------------

_phone_counter = iter(range(100, 10_000))


def new_phone() -> str:
    """A fresh, valid Chicago number in E.164 (555-01xx are reserved for fiction)."""
    n = next(_phone_counter)
    return f"+1312555{n:04d}"


@dataclass(frozen=True)
class Account:
    """What a test needs to know of an account, usable outside any app context. Staff signed
    in by ``sign_in_as`` also carry their authenticator secret and recovery codes."""

    id: int
    phone: str
    role: str
    password: str = PASSWORD
    totp_secret: str | None = None
    recovery_codes: tuple[str, ...] = ()


def sign_up(client: FlaskClient, **fields):
    """Submit the sign-up form; ``consent=None`` leaves the box unticked."""
    data = {
        "phone": "(312) 555-0142",
        "password": PASSWORD,
        "locale": "en",
        "email": "",
        "consent": "y",
        **fields,
    }
    if data["consent"] is None:
        del data["consent"]
    return submit(client, "/account/sign-up", data)


def sign_in(client: FlaskClient, phone: str, password: str = PASSWORD, **kwargs):
    return submit(client, "/account/sign-in", {"phone": phone, "password": password}, **kwargs)


# --- the second factor ----------------------------------------------------------------------

SETUP = "/account/second-factor/setup"
SECOND_FACTOR = "/account/second-factor"
TOTP_SECRET_RE = re.compile(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<')
RECOVERY_CODE_RE = re.compile(r"<code>([2-9A-Z]{5}-[2-9A-Z]{5})</code>")


def totp_now(secret: str) -> str:
    """The code an authenticator app holding ``secret`` shows now (time-machine's "now")."""
    return pyotp.TOTP(secret).now()


def set_up_authenticator(client: FlaskClient) -> tuple[str, tuple[str, ...]]:
    """Set up the authenticator app of the staff member signed in on ``client``, through the
    setup page as a person would: read the key off the page, enter the app's code. Returns the
    key and the recovery codes shown; the session has then passed the second factor."""
    page = client.get(SETUP).get_data(as_text=True)
    match = TOTP_SECRET_RE.search(page)
    assert match, page
    secret = match.group(1).replace(" ", "")
    response = submit(client, SETUP, {"code": totp_now(secret)})
    assert response.status_code == 200, response.get_data(as_text=True)
    codes = tuple(RECOVERY_CODE_RE.findall(response.get_data(as_text=True)))
    assert len(codes) == 10
    return secret, codes


# --- texts sent -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    to: str
    body: str
    template: str
    locale: str
    status: str


def texts_to(app: Flask, phone: str) -> list[Text]:
    """Every text sent to ``phone``, oldest first, read from the outbox table."""
    with app.app_context():
        rows = db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.to == phone).order_by(OutboundMessage.id)
        ).all()
        return [Text(m.to, m.body, m.template, m.locale, m.status) for m in rows]


def last_code(app: Flask, phone: str) -> str:
    """The 6-digit code in the latest text to ``phone``."""
    messages = texts_to(app, phone)
    assert messages, f"no text was sent to {phone}"
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", messages[-1].body)
    assert match, messages[-1].body
    return match.group(1)
