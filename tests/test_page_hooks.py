"""Request hooks for pages only (``for_pages_only``): the webhooks skip them, pages keep them."""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask

from webapp.extensions import MACHINE_BLUEPRINTS, for_pages_only

from .sms_helpers import text, twilio_config


def recording_extension(calls: list[str], *, answer_before: bool = False):
    """An extension's ``init_app`` adding two hooks of each kind, each noting when it runs."""

    def init_app(app: Flask) -> None:
        for n in (1, 2):

            def before(n=n):
                calls.append(f"before {n}")
                return "answered by a hook" if answer_before and n == 1 else None

            def after(response, n=n):
                calls.append(f"after {n}")
                response.headers[f"X-After-{n}"] = "yes"
                return response

            def teardown(error, n=n):
                calls.append(f"teardown {n}")

            app.before_request(before)
            app.after_request(after)
            app.teardown_request(teardown)

    return init_app


def hooked_app(init_app, *, pages_only: bool) -> Flask:
    app = Flask(__name__)
    app.before_request(lambda: None)  # the app's own hooks, before the extension's
    (for_pages_only(app, init_app) if pages_only else init_app(app))
    page, machine = Blueprint("page", __name__), Blueprint(sorted(MACHINE_BLUEPRINTS)[0], __name__)
    page.get("/page")(lambda: "a page")
    machine.post("/webhook")(lambda: "an answer")
    app.register_blueprint(page)
    app.register_blueprint(machine, url_prefix="/m")
    return app


@pytest.mark.parametrize("answer_before", [False, True])
def test_pages_run_the_hooks_as_flask_would(answer_before):
    """In the same order as Flask runs them, the first before-hook to answer ending it."""
    seen = {}
    for pages_only in (False, True):
        calls: list[str] = []
        app = hooked_app(recording_extension(calls, answer_before=answer_before),
                         pages_only=pages_only)  # fmt: skip
        response = app.test_client().get("/page")
        seen[pages_only] = (calls, response.get_data(as_text=True), dict(response.headers))
    assert seen[True] == seen[False]
    calls, body, headers = seen[True]
    if answer_before:
        assert body == "answered by a hook"
        assert calls == ["before 1", "after 2", "after 1", "teardown 2", "teardown 1"]
    else:
        assert body == "a page" and headers["X-After-1"] == headers["X-After-2"] == "yes"
        assert calls == ["before 1", "before 2", "after 2", "after 1", "teardown 2", "teardown 1"]


def test_a_machines_request_runs_none_of_them_and_keeps_its_answer():
    calls: list[str] = []
    app = hooked_app(recording_extension(calls, answer_before=True), pages_only=True)
    client = app.test_client()
    response = client.post("/m/webhook")
    assert response.get_data(as_text=True) == "an answer"
    assert "X-After-1" not in response.headers
    assert calls == []
    # No route, so no blueprint: a page's hooks run (here the first answers).
    assert client.get("/nowhere").get_data(as_text=True) == "answered by a hook"
    assert calls[0] == "before 1"


def test_a_webhook_answer_leaves_the_browsers_cookies_alone(make_app):
    """Flask-Login's hook deletes a remember-me cookie on a page when the session asks; a
    webhook, whatever cookie comes with it, runs none of the page hooks and sets none."""
    app = make_app(**twilio_config())
    client = app.test_client()
    with client.session_transaction() as session:
        session["_remember"] = "clear"
    status, _ = text(client, "+13125550166", "HELP")
    assert status == 200
    assert client.get_cookie("remember_token") is None
    response = client.get("/")
    assert "remember_token=;" in response.headers.get("Set-Cookie", "")
