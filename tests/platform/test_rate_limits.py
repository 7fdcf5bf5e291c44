"""Rate limits (Flask-Limiter) on sign-in, sign-up, SMS-code sends and code checks."""

from __future__ import annotations

import pytest

from ..support.twilio import text, twilio_config
from ..support.web import PASSWORD, csrf_token, new_phone, sign_in


@pytest.fixture
def limited(make_app, make_user):
    # Flask-Limiter keeps its settings on one object per process (production runs one app
    # per process); the app built last configures it, so this one is built after `app`.
    return make_app(RATELIMIT_ENABLED=True)


def post_many(client, path: str, data: dict, times: int, page: str | None = None) -> list[int]:
    token = csrf_token(client, page or path)
    return [client.post(path, data={"csrf_token": token, **data}).status_code for _ in range(times)]


def test_sign_in_allows_ten_a_minute(limited, make_user):
    client = limited.test_client()
    statuses = post_many(
        client, "/account/sign-in", {"phone": "+13125550150", "password": "x" * 12}, 11
    )
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


def test_sign_up_allows_ten_an_hour(limited):
    client = limited.test_client()
    statuses = post_many(client, "/account/sign-up", {"phone": "1"}, 11)
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


def test_code_sends_are_limited(limited):
    client = limited.test_client()
    statuses = post_many(client, "/account/reset", {"phone": "1"}, 6)
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429


def test_code_checks_are_limited(limited, make_user):
    user = make_user(verified=False)
    client = limited.test_client()
    sign_in(client, user.phone, PASSWORD)
    statuses = post_many(client, "/account/verify", {"code": "12"}, 21)
    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429


def test_limits_count_posts_only_and_answer_with_a_translated_page(limited):
    client = limited.test_client()
    post_many(client, "/account/reset", {"phone": "1"}, 5)
    assert client.get("/account/reset").status_code == 200  # reading the form is never limited
    token = csrf_token(client, "/account/reset?lang=pl")
    response = client.post("/account/reset?lang=pl", data={"csrf_token": token, "phone": "1"})
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    page = response.get_data(as_text=True)
    assert '<html lang="pl"' in page
    assert "Too many attempts" not in page


def test_the_webhooks_are_never_rate_limited(make_app):
    """Many texts from Twilio's few addresses are many people: none is turned away, while
    the pages keep their limits."""
    app = make_app(RATELIMIT_ENABLED=True, **twilio_config())
    client = app.test_client()
    assert [text(client, new_phone(), "HELP")[0] for _ in range(40)] == [200] * 40
    token = csrf_token(client, "/account/reset")
    pages = [client.post("/account/reset", data={"csrf_token": token, "phone": "1"}).status_code
             for _ in range(40)]  # fmt: skip
    assert 429 in pages
