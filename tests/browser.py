"""Browser-test fixtures: the app on a real HTTP server, and headless Chromium.

``tests/conftest.py`` imports these fixtures, so every test module can use them.
Chromium is Debian's (``make chromium`` installs it); Playwright never downloads one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@dataclass(frozen=True)
class LiveServer:
    url: str  # like http://127.0.0.1:54321, without a trailing slash
    app: Flask


@pytest.fixture
def live_server(make_app) -> Iterator[LiveServer]:
    """The app on a clean database, served over HTTP on a free local port."""
    app = make_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # Werkzeug makes request threads daemons, and socketserver waits only for the others on
    # close: a request still running (a page's polling) would outlive the test and give its
    # database connection back to a pool already disposed, to be found open much later. The
    # browser contexts are closed before this fixture ends, so no keep-alive connection holds
    # a thread back.
    server.daemon_threads = False
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server", daemon=True
    )
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (a ``playwright.sync_api.Browser``) for the whole run.

    Missing Chromium fails the run under CI and skips elsewhere with a hint.
    """
    if not os.access(CHROMIUM, os.X_OK):
        message = f"Chromium is not installed at {CHROMIUM}: run `make chromium`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def sign_in_staff(page, base_url: str, user) -> None:
    """Sign a staff member in through the pages, in English: password, then (as every staff
    member must before any staff page) setting up the authenticator app, reading the key off
    the page as a person types it into the app. Ends on the page the sign-in leads to."""
    import pyotp
    from playwright.sync_api import expect

    from .conftest import PASSWORD

    page.goto(f"{base_url}/account/sign-in?lang=en", wait_until="load")
    page.get_by_label("Mobile phone number").fill(user.phone)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your authenticator app")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("6-digit code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on the second step").click()
    page.get_by_role("link", name="I have saved my codes, continue").click()
