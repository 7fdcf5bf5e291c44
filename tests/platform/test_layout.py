"""Base layout, error pages, security headers, health check."""

from __future__ import annotations

import re

import pytest
from flask import abort
from markupsafe import escape

from ..support.web import submit, translated

PUBLIC_PAGES = ["/", "/terms", "/privacy", "/account/sign-up", "/account/sign-in", "/account/reset"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_page_has_skip_link_landmarks_and_no_external_assets(client, path):
    page = client.get(path).get_data(as_text=True)
    assert re.search(r'<a class="skip-link" href="#main">', page)
    assert '<main id="main"' in page
    assert "<header" in page and "<footer" in page and "<nav" in page
    assert "<title>" in page
    assert "In an emergency, call 911." in page
    for url in re.findall(r'(?:src|href)="([^"#]+)"', page):
        assert url.startswith(("/", "data:")), url  # nothing from another site
    assert "<script" not in page  # everything works without JavaScript


def test_form_errors_follow_the_govuk_error_summary_pattern(client):
    page = submit(client, "/account/sign-in", {"phone": "", "password": ""}).get_data(as_text=True)
    assert page.count('class="error-summary" role="alert"') == 1
    assert '<a href="#phone">Enter your mobile phone number.</a>' in page
    assert '<a href="#password">Enter your password.</a>' in page
    assert 'id="phone-error" class="field-error"' in page
    assert re.search(
        r'<input[^>]*aria-describedby="phone-error"[^>]*aria-invalid="true"', page
    ) or (re.search(r'<input[^>]*aria-invalid="true"[^>]*aria-describedby="phone-error"', page))
    assert '<label class="label" for="phone">' in page
    assert "<title>Error: Sign in" in page


@pytest.mark.parametrize(
    ("code", "english"),
    [
        (400, "Bad request"),
        (403, "Not allowed"),
        (404, "Page not found"),
        (429, "Too many attempts"),
        (500, "Sorry, there is a problem with the service"),
    ],
)
@pytest.mark.parametrize("locale", ["es", "ar"])
def test_error_pages_are_translated(make_app, code, english, locale):
    app = make_app()

    @app.route("/boom/<int:status>")
    def boom(status):
        if status == 500:
            raise RuntimeError("simulated failure")
        abort(status)

    client = app.test_client()
    response = client.get(f"/boom/{code}")
    assert response.status_code == code
    assert english in response.get_data(as_text=True)
    response = client.get(f"/boom/{code}?lang={locale}")
    page = response.get_data(as_text=True)
    assert response.status_code == code
    assert escape(translated(locale, english)) in page
    assert english not in page
    assert f'<html lang="{locale}"' in page


def test_unknown_pages_get_the_404_page(client):
    response = client.get("/no/such/page?lang=ar")
    assert response.status_code == 404
    assert 'dir="rtl"' in response.get_data(as_text=True)


def test_security_headers_on_every_response(client):
    for path in ["/", "/healthz", "/no-such-page", "/static/css/site.css"]:
        with client.get(path) as response:
            headers = response.headers
        csp = headers["Content-Security-Policy"]
        for directive in (
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ):
            assert directive in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers  # plain HTTP here


def test_pages_vary_by_cookie(client):
    """A page reads the session (who is signed in): a shared cache keeps one copy per cookie."""
    assert "Cookie" in client.get("/").headers["Vary"]


def test_request_ids_are_distinct(client):
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(50)}
    assert len(ids) == 50 and all(len(i) == 16 and int(i, 16) >= 0 for i in ids)


def test_hsts_under_https(client):
    response = client.get("/", base_url="https://registry.example.gov")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_production_cookies_are_secure_httponly_and_samesite(make_app, make_user):
    app = make_app(APP_ENV="production")
    user = make_user()
    client = app.test_client()
    response = submit(
        client,
        "/account/sign-in",
        {"phone": user.phone, "password": user.password},
    )
    # The CSRF GET already set the cookie; the sign-in response sets the new session.
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_signed_in_pages_are_not_cached(resident):
    client, _ = resident
    assert client.get("/account/").headers["Cache-Control"] == "no-store"


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_reports_a_database_that_is_down(make_app, tmp_path):
    # A SQLite path inside a missing directory cannot be opened: a database that is down.
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "degraded", "database": "unavailable"}


def test_no_state_change_on_get(app, client):
    """Every GET route either renders or redirects; the ones that change state are POST-only."""
    post_only = {"accounts.sign_out", "accounts.resend"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in post_only:
            assert "GET" not in rule.methods, rule
    for endpoint in post_only:
        rule = next(app.url_map.iter_rules(endpoint))
        assert client.get(rule.rule).status_code == 405


def test_the_dev_outbox_exists_only_outside_production(make_app):
    assert make_app().test_client().get("/dev/outbox").status_code == 200
    production = make_app(APP_ENV="production")
    assert production.test_client().get("/dev/outbox").status_code == 404


def test_a_database_outage_gets_the_translated_error_page_with_the_911_advice(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    client = app.test_client()
    with client.session_transaction() as sess:  # someone who was signed in
        sess.update({"_user_id": "1", "sid": "a-session-token", "lang": "es"})
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="es"' in page  # public pages still render

    response = submit(client, "/account/sign-in", {"phone": "+13125550142", "password": "x" * 12})

    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert '<html lang="es"' in page
    assert escape(translated("es", "Please try again later. In an emergency, call 911.")) in page
