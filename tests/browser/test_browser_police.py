"""An officer, with a second factor and a case number, finds the willing owners around an
incident, asks them for footage, and sees an owner's YES (sent by text) arrive with that
owner's contact details. JavaScript is off, as on a locked-down police workstation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from webapp.audit.services import verify_chain
from webapp.extensions import db
from webapp.models import AuditEvent, FootageRecipient, OutboundMessage, Role

from ..support.browser import sign_in_staff
from ..support.cameras import registered
from ..support.twilio import text_live_server

pytestmark = pytest.mark.browser

INCIDENT = (41.8796, -87.6237)  # Michigan Ave & Adams St


def approved_registration(app, owner_id, moderator_id, lat, lon, *, willing=True) -> int:
    return registered(
        app, owner_id, willing=willing, approved_by=moderator_id, at=(lat, lon),
        address={"street": "100 S Michigan Ave", "zip_code": "60603"},
        system={"camera_count": 2, "views": "street,front_door", "recording": "continuous",
                "retention_days": 30},
    )  # fmt: skip


def test_officer_searches_sends_a_request_and_sees_the_owners_yes(browser, live_server, make_user):
    app = live_server.app
    moderator = make_user(Role.MODERATOR)
    owner = make_user(locale="es")
    unwilling = make_user()
    officer = make_user(Role.OFFICER)
    willing_id = approved_registration(app, owner.id, moderator.id, 41.8801, -87.6240)
    approved_registration(app, unwilling.id, moderator.id, 41.8799, -87.6239, willing=False)

    with browser.new_context(java_script_enabled=False) as context:
        page = context.new_page()
        sign_in_staff(page, live_server.url, officer)  # no staff page before the second factor
        expect(page).to_have_url(f"{live_server.url}/staff/police/")

        # The search needs a case number and a reason.
        page.get_by_label("Latitude").fill(str(INCIDENT[0]))
        page.get_by_label("Longitude").fill(str(INCIDENT[1]))
        page.get_by_label("Search radius in metres").fill("500")
        page.get_by_role("button", name="Search").click()
        expect(page.locator(".error-summary")).to_contain_text("Enter the case number.")
        page.get_by_label("Case number").fill("2026-000456")
        page.get_by_label("Reason for this search").fill("Robbery at the corner store")
        page.get_by_role("button", name="Search").click()

        results = page.get_by_role("main")
        expect(results).to_contain_text("1 registration within")
        expect(page.locator("svg[role=img] circle").first).to_be_visible()  # the map
        expect(results).not_to_contain_text("Michigan")  # no owner address before a YES
        expect(results).not_to_contain_text(owner.phone)
        page.locator(f"#registration-{willing_id}").check()
        page.get_by_role("button", name="Ask the chosen owners for footage").click()

        now = datetime.now(UTC)
        start, end = now - timedelta(hours=2), now - timedelta(hours=1)
        page.locator("#start_date").fill(start.strftime("%Y-%m-%d"))
        page.locator("#start_time").fill(start.strftime("%H:%M"))
        page.locator("#end_date").fill(end.strftime("%Y-%m-%d"))
        page.locator("#end_time").fill(end.strftime("%H:%M"))
        page.get_by_label("What happened").fill("Store window smashed, two people ran north")
        page.get_by_role("button", name="Send the request").click()

        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Footage request, case 2026-000456"
        )
        expect(page.get_by_role("main")).to_contain_text("Shown once the owner agrees")
        expect(page.get_by_role("main")).not_to_contain_text(owner.phone)
        request_url = page.url

        # The owner got a text in Spanish with a code, and answers YES by text.
        with app.app_context():
            recipient = db.session.scalar(select(FootageRecipient))
            message = db.session.get(OutboundMessage, recipient.message_id)
            assert (message.to, message.locale) == (owner.phone, "es")
            assert recipient.code in message.body
            code = recipient.code
        reply = text_live_server(live_server, owner.phone, f"SI {code}")
        assert reply  # thanked, in Spanish

        page.goto(request_url, wait_until="load")  # the page refreshes itself every 30 s
        main = page.get_by_role("main")
        expect(main).to_contain_text("1 agreed, 0 declined, of 1")
        expect(main.locator("bdi", has_text=owner.phone)).to_be_visible()
        expect(main).to_contain_text("100 S Michigan Ave")

    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.actor_id == officer.id)
        ).all()
        assert {"camera.search", "footage.requested", "footage.contacts_viewed"} <= set(actions)
        reasons = db.session.scalars(
            select(AuditEvent.reason).where(AuditEvent.action == "camera.search")
        ).all()
        assert all("2026-000456" in (r or "") for r in reasons)
        assert verify_chain().ok
