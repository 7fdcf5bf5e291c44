"""Accessibility and weight of the public pages, in every language, in a real browser.

axe-core (bundled with axe-playwright-python, so it runs offline) must find no violations;
pages must stay light enough for old phones on slow connections; keyboard focus must show.
"""

from __future__ import annotations

import pytest

from webapp.i18n import LOCALE_CODES

from ..support.browser import assert_no_axe_violations, sign_in_page, sign_in_staff
from ..support.cameras import registered
from ..support.web import totp_now

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


@pytest.fixture(scope="module")
def browser_tab(browser):
    """One tab for the tests of pages anyone sees: a new browser context and tab for each
    cost more than the check itself."""
    with browser.new_context() as context:
        yield context.new_page()


@pytest.fixture
def anonymous(browser_tab, live_server):
    """The shared tab as a new visitor's: no cookies (and each test's server is on a port of
    its own, so nothing cached or stored is the same site's). It leaves the test's server
    before the server stops, as closing a context would."""
    browser_tab.context.clear_cookies()
    yield browser_tab
    browser_tab.goto("about:blank")


@pytest.mark.parametrize("locale", LOCALE_CODES)
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_has_no_axe_violations(anonymous, live_server, path, locale):
    anonymous.goto(f"{live_server.url}{path}?lang={locale}", wait_until="load")
    assert_no_axe_violations(anonymous)


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_sign_up_errors_have_no_axe_violations(anonymous, live_server, locale):
    page = anonymous
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


def test_keyboard_focus_starts_on_a_visible_skip_link(anonymous, live_server):
    page = anonymous
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


def check_pages(page, base_url: str, paths: list[str]) -> None:
    """Open each page in turn; axe finds nothing on any."""
    for path in paths:
        page.goto(f"{base_url}{path}", wait_until="load")
        assert_no_axe_violations(page)


def check_errors(page, button=None) -> None:
    """Send the page's form (with ``button``, or its submit button) to get its error state;
    axe finds nothing there either."""
    (button or page.locator("main form button[type=submit]")).click()
    page.wait_for_selector(".error-summary")
    assert_no_axe_violations(page)


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
    user = make_user(locale=locale)
    with browser.new_context() as context:
        page = context.new_page()
        sign_in_page(page, live_server.url, user)
        page.wait_for_url(f"{live_server.url}/account/")
        check_pages(page, live_server.url, PROFILE_PAGES)
        # ...and a form in its error state.
        page.goto(f"{live_server.url}/profile/home", wait_until="load")
        page.locator("#street").fill("")
        page.locator("#zip_code").fill("123")
        check_errors(page)


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


def _business_registration(app, user_id: int, approved: bool) -> int:
    return registered(
        app, user_id, "business",
        address={"street": "55 E Randolph St", "zip_code": "60601",
                 "business_name": "Corner Bakery", "contact_name": "Dana",
                 "contact_phone": "+13125550177"},
        system={"placement": "both", "camera_count": 3, "views": "street,interior",
                "recording": "motion", "retention_days": 14},
        approved_by=user_id if approved else None, at=(41.88, -87.63),
    )  # fmt: skip


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_camera_pages_have_no_axe_violations(browser, live_server, make_user, locale):
    user = make_user(locale=locale)
    registration_id = _business_registration(live_server.app, user.id, approved=True)
    with browser.new_context() as context:
        page = context.new_page()
        sign_in_page(page, live_server.url, user)
        page.wait_for_url(f"{live_server.url}/account/")
        check_pages(page, live_server.url, [p.format(id=registration_id) for p in CAMERA_PAGES])
        # ...and the registration form in its error state.
        page.goto(f"{live_server.url}/cameras/new/business", wait_until="load")
        check_errors(page)


def test_moderation_pages_have_no_axe_violations(browser, live_server, make_user):
    from webapp.models import Role

    owner = make_user()
    registration_id = _business_registration(live_server.app, owner.id, approved=False)
    moderator = make_user(Role.MODERATOR)
    with browser.new_context() as context:
        page = context.new_page()
        sign_in_staff(page, live_server.url, moderator)
        check_pages(
            page, live_server.url, ["/staff/moderation/", f"/staff/moderation/{registration_id}"]
        )
        check_errors(page, page.get_by_role("button", name="Reject"))


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_second_factor_pages_have_no_axe_violations(browser, live_server, make_user, locale):
    from webapp.models import Role

    officer = make_user(Role.OFFICER, locale=locale)
    with browser.new_context() as context:
        page = context.new_page()
        sign_in_page(page, live_server.url, officer)
        page.wait_for_url(f"{live_server.url}/account/second-factor/setup")
        assert_no_axe_violations(page)  # the QR code and the key
        check_errors(page)
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        page.locator("#code").fill(totp_now(secret))
        page.locator("main form button[type=submit]").click()
        page.wait_for_selector(".recovery-codes")
        assert_no_axe_violations(page)  # the recovery codes, shown once
    with browser.new_context() as context:  # another browser: the code page
        page = context.new_page()
        sign_in_page(page, live_server.url, officer)
        page.wait_for_url(f"{live_server.url}/account/second-factor")
        assert_no_axe_violations(page)
        check_errors(page)
