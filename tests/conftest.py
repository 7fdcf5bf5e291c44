"""The suite's fixtures, layered: ``app`` -> ``client`` -> ``sign_in_as(role)``; builders
for users; the fakes of outside services; the browser tests' server and Chromium.

Only fixtures live here; what they build on (and the helpers tests import) is in
``tests/support/``. The suite runs on SQLite by default and on PostgreSQL when
``TEST_DATABASE_URL`` is set (``make test`` does both): see ``support/database.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from webapp import create_app
from webapp.accounts import services as account_services
from webapp.extensions import db
from webapp.models import Role

from .support import database
from .support.browser import LiveServer, chromium, serving
from .support.fake_nominatim import FakeNominatim
from .support.fake_twilio import FakeTwilio
from .support.settings import base_config
from .support.twilio import twilio_config
from .support.web import PASSWORD, SETUP, Account, new_phone, set_up_authenticator, sign_in

# --- the app on a clean database ------------------------------------------------------------


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> str:
    """Build the schema once with the real migrations; return the database URL."""
    return database.migrated_database(tmp_path_factory.mktemp("template"))


@pytest.fixture
def make_app(migrated_database, tmp_path) -> Iterator[Callable[..., Flask]]:
    """Build an app on a clean database, with settings overridden by keyword."""
    url = database.fresh_database(migrated_database, tmp_path)
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
    if database.PG_URL:
        left_open = database.reset_postgres()
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


@pytest.fixture
def sms_app(make_app) -> Flask:
    """An app (on the same database as ``app``) that takes Twilio's webhooks, signed over
    ``BASE`` with ``TOKEN`` (``support/twilio.py``)."""
    return make_app(**twilio_config())


# --- accounts -------------------------------------------------------------------------------


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


# --- fakes of outside services --------------------------------------------------------------


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A running fake Twilio API; ``.url`` goes in ``TWILIO_API_BASE_URL``."""
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def fake_nominatim() -> Iterator[FakeNominatim]:
    """A running fake Nominatim server; ``.url`` goes in ``GEOCODER_URL``."""
    with FakeNominatim() as fake:
        yield fake


# --- browsers -------------------------------------------------------------------------------


@pytest.fixture
def live_server(make_app) -> Iterator[LiveServer]:
    """The app on a clean database, served over HTTP on a free local port."""
    with serving(make_app()) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (a ``playwright.sync_api.Browser``) for the whole run."""
    with chromium() as browser:
        yield browser
