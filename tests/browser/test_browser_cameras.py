"""A business registers its cameras in Polish with JavaScript off, a moderator approves it,
and the owner prints the placard on one page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import CameraRegistration, Role

from ..support.web import PASSWORD, totp_now, translated

pytestmark = pytest.mark.browser


def sign_in(page, base, user, t):
    page.get_by_label(t("Mobile phone number")).fill(user.phone)
    page.get_by_label(t("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name=t("Sign in")).click()


def test_polish_business_registers_is_approved_and_prints_its_placard(
    browser, live_server, make_user
):
    owner = make_user(locale="pl")
    moderator = make_user(Role.MODERATOR)

    def pl(msgid: str) -> str:
        return translated("pl", msgid)

    with browser.new_context(java_script_enabled=False) as context:
        page = context.new_page()
        page.goto(f"{live_server.url}/account/sign-in?lang=pl", wait_until="load")
        sign_in(page, live_server.url, owner, pl)
        expect(page).to_have_url(f"{live_server.url}/account/")

        page.get_by_role("main").get_by_role("link", name=pl("Your security cameras")).click()
        page.get_by_role("link", name=pl("Register a business")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(pl("Register a business"))
        page.get_by_label(pl("Business name")).fill("Piekarnia Bałtycka")
        page.get_by_label(pl("Type of business")).select_option("restaurant")
        page.get_by_label(pl("Opening hours (for example Mon-Fri 9-17)")).fill("pon.-sob. 6-18")
        page.get_by_label(pl("Contact person")).fill("Zofia Wiśniewska")
        page.get_by_label(pl("Contact phone")).fill("312 555 0188")
        page.get_by_label(pl("We would like a window placard")).check()
        page.get_by_label(pl("Street address")).fill("3039 N Milwaukee Ave")
        page.get_by_label(pl("City")).fill("Chicago")
        page.get_by_label(pl("ZIP code")).fill("60618")
        page.get_by_label(pl("Where are these cameras?")).select_option("both")
        page.get_by_label(pl("How many cameras?")).fill("4")
        page.get_by_label(pl("Front door or entrance")).check()
        page.get_by_label(pl("Street or sidewalk")).check()
        page.get_by_label(pl("How many days is footage kept?")).fill("30")

        # Forgetting the terms loses nothing that was typed.
        page.get_by_role("button", name=pl("Register"), exact=True).click()
        expect(page.locator(".error-summary")).to_contain_text(
            pl("Agree to the terms to register.")
        )
        expect(page.get_by_label(pl("Business name"))).to_have_value("Piekarnia Bałtycka")

        page.get_by_label(pl("I have read and agree to these terms")).check()
        page.get_by_role("button", name=pl("Register"), exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Piekarnia Bałtycka")
        expect(page.get_by_role("main")).to_contain_text(pl("Waiting for a moderator"))
        registration_url = page.url

    with live_server.app.app_context():
        registration = db.session.scalar(select(CameraRegistration))
        assert (registration.kind, registration.business_name, registration.contact_phone) == (
            "business", "Piekarnia Bałtycka", "+13125550188",
        )  # fmt: skip
        registration_id = registration.id

    with browser.new_context(java_script_enabled=False) as context:
        page = context.new_page()
        page.goto(f"{live_server.url}/account/sign-in?lang=en", wait_until="load")
        sign_in(page, live_server.url, moderator, lambda s: s)
        # Staff set up their authenticator app before any staff page: the key is on the page
        # for typing into the app by hand, and the app's code turns the second step on.
        expect(page.get_by_role("heading", level=1)).to_have_text("Set up your authenticator app")
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        page.get_by_label("6-digit code from your authenticator app").fill(totp_now(secret))
        page.get_by_role("button", name="Turn on the second step").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Save your recovery codes")
        expect(page.locator(".recovery-codes li")).to_have_count(10)
        page.get_by_role("link", name="I have saved my codes, continue").click()
        expect(page).to_have_url(f"{live_server.url}/staff/moderation/")
        page.locator(f'a[href="/staff/moderation/{registration_id}"]').click()
        page.get_by_label("Latitude").fill("41.9363")
        page.get_by_label("Longitude").fill("-87.7073")
        page.get_by_role("button", name="Approve").click()
        expect(page.get_by_role("main")).to_contain_text("Nothing is waiting.")

    with browser.new_context(java_script_enabled=False) as context:
        page = context.new_page()
        page.goto(f"{live_server.url}/account/sign-in?lang=pl", wait_until="load")
        sign_in(page, live_server.url, owner, pl)
        page.goto(registration_url, wait_until="load")
        expect(page.get_by_role("main")).to_contain_text(pl("Approved"))
        page.get_by_role("link", name=pl("Print your placard")).click()
        expect(page.locator(".placard")).to_contain_text(pl("Registered security camera"))
        expect(page.locator(".placard")).to_contain_text("Registered security camera")
        number = page.locator(".placard-number bdi").inner_text()
        assert re.fullmatch(r"CR-[2-9A-Z]{4}-[2-9A-Z]{4}", number)
        expect(page.locator(".placard-qr svg")).to_be_visible()
        for paper in ("letter", "a4"):
            page.goto(f"{registration_url}/placard?paper={paper}", wait_until="load")
            pdf = page.pdf(prefer_css_page_size=True, print_background=True)
            pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
            assert pages == 1, (paper, pages)
            # The paper size comes from the print stylesheet (Letter 612 pt wide, A4 595 pt).
            box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", pdf)
            size = round(float(box.group(1))), round(float(box.group(2)))
            assert size == ((612, 792) if paper == "letter" else (595, 842)), paper

        # The QR code's page, as anyone scanning it would see it.
        page.goto(f"{live_server.url}/cameras/check/{number}?lang=pl", wait_until="load")
        expect(page.get_by_role("main")).to_contain_text(number)
        expect(page.get_by_role("main")).not_to_contain_text("Piekarnia")
