"""A resident fills a profile in Arabic on a phone-sized screen with JavaScript off."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import HouseholdMember, Profile

from ..support.web import PASSWORD, translated

pytestmark = pytest.mark.browser


def test_arabic_resident_adds_a_member_with_a_medical_condition_and_confirms(
    browser, live_server, make_user
):
    user = make_user(locale="ar")

    def ar(msgid: str) -> str:
        return translated("ar", msgid)

    with browser.new_context(
        java_script_enabled=False, viewport={"width": 360, "height": 640}
    ) as context:
        page = context.new_page()
        page.goto(f"{live_server.url}/account/sign-in?lang=ar", wait_until="load")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        page.get_by_label(ar("Mobile phone number")).fill(user.phone)
        page.get_by_label(ar("Password"), exact=True).fill(PASSWORD)
        page.get_by_role("main").get_by_role("button", name=ar("Sign in")).click()
        expect(page).to_have_url(f"{live_server.url}/account/")

        page.get_by_role("main").get_by_role("link", name=ar("Your safety profile")).click()
        page.get_by_role("link", name=ar("Change")).first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(ar("Your home"))
        page.get_by_label(ar("Street address")).fill("3500 W Lawrence Ave")
        page.get_by_label(ar("ZIP code")).fill("60625")
        page.get_by_label(ar("How to get in (gate or door codes, lock box, hidden key)")).fill(
            "الرمز 1234"
        )
        page.get_by_role("button", name=ar("Save and continue")).click()

        expect(page.get_by_role("heading", level=1)).to_have_text(ar("Household members"))
        page.get_by_role("link", name=ar("Add a person")).click()
        page.get_by_label(ar("Name"), exact=True).fill("فاطمة")
        page.get_by_label(ar("Year of birth")).fill("1950")
        page.get_by_label(ar("Needs an interpreter")).check()
        page.get_by_label(ar("Medical conditions")).fill("مرض السكري")
        page.get_by_role("button", name=ar("Save and continue")).click()
        expect(page.locator(".items .item-name")).to_have_text("فاطمة")

        page.goto(f"{live_server.url}/profile/sharing", wait_until="load")
        page.get_by_label(
            ar("Show my safety profile to 911 when I call or text from my registered phones")
        ).check()
        page.get_by_role("button", name=ar("Save and continue")).click()

        expect(page.get_by_role("heading", level=1)).to_have_text(ar("Your safety profile"))
        expect(page.get_by_role("main")).to_contain_text("مرض السكري")  # check your answers
        page.get_by_role("button", name=ar("Confirm my profile")).click()
        expect(page.get_by_role("main")).to_contain_text(ar("Active."))
        expect(page.locator("html")).to_have_attribute("lang", "ar")
        # Nothing overflows sideways on a small screen.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360

    with live_server.app.app_context():
        profile = db.session.scalar(select(Profile).where(Profile.user_id == user.id))
        member = db.session.scalar(select(HouseholdMember))
        assert profile.confirmed_at is not None and profile.share_with_911
        assert (profile.street, profile.city, profile.access_notes) == (
            "3500 W Lawrence Ave",
            "Chicago",
            "الرمز 1234",
        )
        assert (member.name, member.medical_conditions, member.interpreter_needed) == (
            "فاطمة",
            "مرض السكري",
            True,
        )
