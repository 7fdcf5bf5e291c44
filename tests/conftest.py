"""Fixtures, layered: ``app`` -> ``client`` -> ``sign_in_as(role)``; builders for users.

The suite runs on SQLite by default and on PostgreSQL when ``TEST_DATABASE_URL`` is set
(``make test`` does both). The schema is built once per run by the real migrations; each
test then gets a clean database (a fresh copy of the migrated SQLite file, or truncated
PostgreSQL tables).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import select

from webapp import create_app
from webapp.accounts import services as account_services
from webapp.extensions import db
from webapp.models import OutboundMessage, Role

# Fixtures shared by the suite, defined in their own modules.
from .browser import browser, live_server  # noqa: F401
from .fake_nominatim import fake_nominatim  # noqa: F401
from .fake_twilio import fake_twilio  # noqa: F401


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker has a PostgreSQL database of its own (``test_gw0``, …,
    created on first use next to ``TEST_DATABASE_URL``'s); without it, that database."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(
        base.set(drivername="postgresql+psycopg").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


PG_URL = _worker_database(os.environ.get("TEST_DATABASE_URL", ""))
SECRET = "test-secret-key-" + "x" * 32
ENCRYPTION_KEY = "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyEhISE="  # 32 bytes, tests only
PASSWORD = "correct horse battery staple"

_phone_counter = iter(range(100, 10_000))


def base_config(database_url: str, **extra) -> dict:
    return {
        "APP_ENV": "testing",
        "SECRET_KEY": SECRET,
        "ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "DATABASE_URL": database_url,
        "SMS_BACKEND": "outbox",
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        **extra,
    }


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> str:
    """Build the schema once with the real migrations; return the database URL."""
    if PG_URL:
        engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        url = PG_URL
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("template") / "template.sqlite3")
    app = create_app(base_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def _fresh_database(template_url: str, tmp_path: Path) -> str:
    if PG_URL:
        return template_url
    copy = tmp_path / "db.sqlite3"
    shutil.copyfile(template_url.removeprefix("sqlite:///"), copy)
    return "sqlite:///" + str(copy)


def _truncate_postgres() -> list[str]:
    """Empty every table; return the connections to this database that the test left open
    (the server's view, so a leak is found at the test that made it, not whenever the garbage
    collector happens to find the connection). Connections still ending are waited for."""
    engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    tables = ", ".join(t.name for t in db.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    others = sa.text(
        "SELECT format('pid %s from port %s, %s since %s: %s', pid, client_port, state, "
        "backend_start, left(query, 80)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + 2
    # In autocommit each look is a transaction of its own (pg_stat_activity is read once per
    # transaction).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        while (left_open := conn.scalars(others).all()) and time.monotonic() < deadline:
            time.sleep(0.05)
    engine.dispose()
    return left_open


@pytest.fixture
def make_app(migrated_database, tmp_path) -> Iterator[Callable[..., Flask]]:
    """Build an app on a clean database, with settings overridden by keyword."""
    url = _fresh_database(migrated_database, tmp_path)
    apps: list[Flask] = []

    def build(**overrides) -> Flask:
        app = create_app(base_config(url, **overrides))
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if PG_URL:
        left_open = _truncate_postgres()
        assert not left_open, f"the test left connections to the database open: {left_open}"


@pytest.fixture
def app(make_app) -> Flask:
    """The app on a clean database. No context is pushed: each request gets its own, as in
    production (a shared one would keep ``g``, and Flask-Login's cached user, across
    requests). Tests that read the database use ``with app.app_context():``."""
    return make_app()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


# --- helpers ---------------------------------------------------------------------------------

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


def translated(locale: str, msgid: str) -> str:
    """The catalog's translation of ``msgid`` (so tests fail on a missing translation)."""
    from babel.messages.pofile import read_po

    path = Path(__file__).parent.parent / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        string = read_po(fh)[msgid].string
    assert string and string != msgid, f"{msgid!r} is not translated in {locale}"
    return string


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


@pytest.fixture
def make_user(app) -> Callable[..., Account]:
    """Builder for accounts: ``make_user(Role.OFFICER, locale="es", verified=False)``."""

    def build(
        role: Role = Role.RESIDENT,
        *,
        phone: str | None = None,
        password: str = PASSWORD,
        locale: str = "en",
        verified: bool = True,
    ) -> Account:
        phone = phone or new_phone()
        with app.app_context():
            user = account_services.create_account(
                phone=phone, role=role, password=password, locale=locale
            )
            if not verified:
                user.phone_verified_at = None
                db.session.commit()
            return Account(user.id, user.phone, user.role, password)

    return build


def sign_in(client: FlaskClient, phone: str, password: str = PASSWORD, **kwargs):
    return submit(client, "/account/sign-in", {"phone": phone, "password": password}, **kwargs)


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


@pytest.fixture
def sign_in_as(app, make_user) -> Callable[..., tuple[FlaskClient, Account]]:
    """A new client signed in as a new user of ``role``; staff also set up their
    authenticator app and pass the second factor, as they must before any staff page."""

    def build(role: Role = Role.RESIDENT, **user_kwargs) -> tuple[FlaskClient, Account]:
        user = make_user(role, **user_kwargs)
        client = app.test_client()
        response = sign_in(client, user.phone)
        assert response.status_code == 302, response.get_data(as_text=True)
        if Role(role).is_staff:
            assert response.headers["Location"].startswith(SETUP)
            secret, codes = set_up_authenticator(client)
            user = replace(user, totp_secret=secret, recovery_codes=codes)
        return client, user

    return build


@pytest.fixture
def resident(sign_in_as) -> tuple[FlaskClient, Account]:
    return sign_in_as(Role.RESIDENT)
