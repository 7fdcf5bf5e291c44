"""The browser tests' machinery: the app on a real HTTP server, headless Chromium, signing in
through the pages, and axe-core's accessibility check.

The fixtures (``live_server``, ``browser``) are in ``tests/conftest.py``. Chromium is
Debian's (``make chromium`` installs it); Playwright never downloads one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from flask import Flask
from werkzeug.serving import make_server

from .web import PASSWORD, totp_now

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


@contextmanager
def serving(app: Flask) -> Iterator[LiveServer]:
    """``app`` served over HTTP on a free local port until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # Werkzeug makes request threads daemons, and socketserver waits only for the others on
    # close: a request still running (a page's polling) would outlive the test and give its
    # database connection back to a pool already disposed, to be found open much later. The
    # browser contexts are closed before this ends, so no keep-alive connection holds a
    # thread back.
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


@contextmanager
def chromium() -> Iterator:
    """Headless Chromium (a ``playwright.sync_api.Browser``). Missing Chromium fails the
    run under CI and skips elsewhere with a hint."""
    if not os.access(CHROMIUM, os.X_OK):
        message = f"Chromium is not installed at {CHROMIUM}: run `make chromium`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


# --- signing in through the pages -----------------------------------------------------------


def sign_in_page(page, base_url: str, user, *, lang: str | None = None) -> None:
    """Fill in and send the sign-in form (in ``lang`` when given), as a person does."""
    query = f"?lang={lang}" if lang else ""
    page.goto(f"{base_url}/account/sign-in{query}", wait_until="load")
    page.locator("#phone").fill(user.phone)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()


def sign_in_staff(page, base_url: str, user) -> None:
    """Sign a staff member in through the pages, in English: password, then (as every staff
    member must before any staff page) setting up the authenticator app, reading the key off
    the page as a person types it into the app. Ends on the page the sign-in leads to."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/account/sign-in?lang=en", wait_until="load")
    page.get_by_label("Mobile phone number").fill(user.phone)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your authenticator app")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("6-digit code from your authenticator app").fill(totp_now(secret))
    page.get_by_role("button", name="Turn on the second step").click()
    page.get_by_role("link", name="I have saved my codes, continue").click()


# --- accessibility --------------------------------------------------------------------------

_axe = None


def axe_report(violations: list[dict]) -> str:
    lines = [f"{len(violations)} accessibility violation(s):"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {', '.join(map(str, node['target']))}")
    return "\n".join(lines)


def assert_no_axe_violations(page) -> None:
    """axe-core (bundled with axe-playwright-python, so it runs offline) finds nothing."""
    global _axe
    if _axe is None:
        from axe_playwright_python.sync_playwright import Axe

        _axe = Axe()
    violations = _axe.run(page).response["violations"]
    if violations:
        pytest.fail(f"{page.url}\n{axe_report(violations)}", pytrace=False)
