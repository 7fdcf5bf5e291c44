"""Accessibility and weight of the public pages, in every language, in a real browser.

axe-core (bundled with axe-playwright-python, so it runs offline) must find no violations;
pages must stay light enough for old phones on slow connections; keyboard focus must show.
"""

from __future__ import annotations

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe

from webapp.i18n import LOCALE_CODES

from .browser import sign_in_staff

pytestmark = pytest.mark.browser

PUBLIC_PAGES = [
    "/",
    "/terms",
    "/privacy",
    "/account/sign-up",
    "/account/sign-in",
    "/account/reset",
    "/cameras/check",
    "/cameras/check/CR-2222-2222",  # the placard check, as a QR code opens it
    "/no-such-page",  # the 404 page
]
MAX_REQUESTS = 3
MAX_HTML_CSS_BYTES = 30 * 1024

axe = Axe()


def axe_report(violations: list[dict]) -> str:
    lines = [f"{len(violations)} accessibility violation(s):"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {', '.join(map(str, node['target']))}")
    return "\n".join(lines)


def assert_no_axe_violations(page) -> None:
    violations = axe.run(page).response["violations"]
    if violations:
        pytest.fail(f"{page.url}\n{axe_report(violations)}", pytrace=False)


@pytest.mark.parametrize("locale", LOCALE_CODES)
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_has_no_axe_violations(browser, live_server, path, locale):
    with browser.new_context() as context:
        page = context.new_page()
        page.goto(f"{live_server.url}{path}?lang={locale}", wait_until="load")
        assert_no_axe_violations(page)


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_sign_up_errors_have_no_axe_violations(browser, live_server, locale):
    with browser.new_context() as context:
        page = context.new_page()
        page.goto(f"{live_server.url}/account/sign-up?lang={locale}", wait_until="load")
        with page.expect_navigation(wait_until="load"):
            page.locator("main form button[type=submit]").click()
        assert page.locator(".error-summary").count() == 1
        assert page.locator("[aria-invalid=true]").count() >= 2
        assert_no_axe_violations(page)


@pytest.mark.parametrize("locale", ["en", "ar"])
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_is_light(browser, live_server, path, locale):
    with browser.new_context(java_script_enabled=False) as context:
        page = context.new_page()
        requests = []
        responses = []
        page.on("request", lambda request: requests.append(request))
        page.on("response", lambda response: responses.append(response))
        page.goto(f"{live_server.url}{path}?lang={locale}", wait_until="load")

        urls = [request.url for request in requests]
        assert len(requests) <= MAX_REQUESTS, urls
        assert len(responses) == len(requests), urls
        sizes: dict[str, int] = {}
        kinds = set()
        for response in responses:
            kind = response.headers.get("content-type", "").split(";")[0].strip()
            if kind in ("text/html", "text/css"):
                kinds.add(kind)
                sizes[response.url] = len(response.body())
        assert kinds == {"text/html", "text/css"}, sizes
        assert sum(sizes.values()) <= MAX_HTML_CSS_BYTES, sizes


def test_keyboard_focus_starts_on_a_visible_skip_link(browser, live_server):
    with browser.new_context() as context:
        page = context.new_page()
        page.goto(f"{live_server.url}/", wait_until="load")
        page.keyboard.press("Tab")

        focused = page.locator(":focus")
        assert focused.evaluate("el => el.classList.contains('skip-link')")
        assert focused.get_attribute("href") == "#main"
        style = focused.evaluate(
            "el => { const s = getComputedStyle(el);"
            " return {outline: s.outlineStyle, shadow: s.boxShadow}; }"
        )
        assert style["outline"] != "none" or style["shadow"] != "none", style
        box = focused.bounding_box()
        assert box and box["x"] >= 0 and box["y"] >= 0, box  # moved on-screen


PROFILE_PAGES = [
    "/profile/",
    "/profile/home",
    "/profile/members",
    "/profile/members/new",
    "/profile/pets/new",
    "/profile/contacts/new",
    "/profile/phones",
    "/profile/sharing",
    "/account/data/",
    "/account/data/delete",
]


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_profile_pages_have_no_axe_violations(browser, live_server, make_user, locale):
    from .conftest import PASSWORD

    user = make_user(locale=locale)
    with browser.new_context() as context:
        page = context.new_page()
        page.goto(f"{live_server.url}/account/sign-in", wait_until="load")
        page.locator("#phone").fill(user.phone)
        page.locator("#password").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(f"{live_server.url}/account/")
        for path in PROFILE_PAGES:
            page.goto(f"{live_server.url}{path}", wait_until="load")
            assert_no_axe_violations(page)
        # ...and a form in its error state.
        page.goto(f"{live_server.url}/profile/home", wait_until="load")
        page.locator("#street").fill("")
        page.locator("#zip_code").fill("123")
        page.locator("main form button[type=submit]").click()
        page.wait_for_selector(".error-summary")
        assert_no_axe_violations(page)


CAMERA_PAGES = [
    "/cameras/",
    "/cameras/new/home",
    "/cameras/new/business",
    "/cameras/{id}",
    "/cameras/{id}/edit",
    "/cameras/{id}/systems/new",
    "/cameras/{id}/withdraw",
    "/cameras/{id}/placard",
]


def _sign_in(page, live_server, user) -> None:
    from .conftest import PASSWORD

    page.goto(f"{live_server.url}/account/sign-in", wait_until="load")
    page.locator("#phone").fill(user.phone)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/account/")


def _business_registration(app, user_id: int, approved: bool) -> int:
    from webapp.cameras import services
    from webapp.extensions import db
    from webapp.models import User

    with app.test_request_context():
        user = db.session.get(User, user_id)
        registration = services.register(
            user, "business",
            {"street": "55 E Randolph St", "city": "Chicago", "state": "IL",
             "zip_code": "60601", "business_name": "Corner Bakery", "contact_name": "Dana",
             "contact_phone": "+13125550177", "contact_methods": "sms"},
            {"placement": "both", "camera_count": 3, "views": "street,interior",
             "recording": "motion", "retention_days": 14},
            willing=True,
        )  # fmt: skip
        if approved:
            services.moderate(user, registration.id, "approve", latitude=41.88, longitude=-87.63)
        return registration.id


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_camera_pages_have_no_axe_violations(browser, live_server, make_user, locale):
    user = make_user(locale=locale)
    registration_id = _business_registration(live_server.app, user.id, approved=True)
    with browser.new_context() as context:
        page = context.new_page()
        _sign_in(page, live_server, user)
        for path in CAMERA_PAGES:
            page.goto(f"{live_server.url}{path.format(id=registration_id)}", wait_until="load")
            assert_no_axe_violations(page)
        # ...and the registration form in its error state.
        page.goto(f"{live_server.url}/cameras/new/business", wait_until="load")
        page.locator("main form button[type=submit]").click()
        page.wait_for_selector(".error-summary")
        assert_no_axe_violations(page)


def test_moderation_pages_have_no_axe_violations(browser, live_server, make_user):
    from webapp.models import Role

    owner = make_user()
    registration_id = _business_registration(live_server.app, owner.id, approved=False)
    moderator = make_user(Role.MODERATOR)
    with browser.new_context() as context:
        page = context.new_page()
        sign_in_staff(page, live_server.url, moderator)
        for path in ("/staff/moderation/", f"/staff/moderation/{registration_id}"):
            page.goto(f"{live_server.url}{path}", wait_until="load")
            assert_no_axe_violations(page)
        page.get_by_role("button", name="Reject").click()
        page.wait_for_selector(".error-summary")
        assert_no_axe_violations(page)


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_second_factor_pages_have_no_axe_violations(browser, live_server, make_user, locale):
    from webapp.models import Role

    from .conftest import PASSWORD

    officer = make_user(Role.OFFICER, locale=locale)
    with browser.new_context() as context:
        page = context.new_page()
        page.goto(f"{live_server.url}/account/sign-in", wait_until="load")
        page.locator("#phone").fill(officer.phone)
        page.locator("#password").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(f"{live_server.url}/account/second-factor/setup")
        assert_no_axe_violations(page)  # the QR code and the key
        page.locator("main form button[type=submit]").click()
        page.wait_for_selector(".error-summary")
        assert_no_axe_violations(page)
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        page.locator("#code").fill(pyotp.TOTP(secret).now())
        page.locator("main form button[type=submit]").click()
        page.wait_for_selector(".recovery-codes")
        assert_no_axe_violations(page)  # the recovery codes, shown once
    with browser.new_context() as context:  # another browser: the code page
        page = context.new_page()
        page.goto(f"{live_server.url}/account/sign-in", wait_until="load")
        page.locator("#phone").fill(officer.phone)
        page.locator("#password").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(f"{live_server.url}/account/second-factor")
        assert_no_axe_violations(page)
        page.locator("main form button[type=submit]").click()
        page.wait_for_selector(".error-summary")
        assert_no_axe_violations(page)
