"""Camera registrations: home and business flows, terms, self-service, and privacy."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    CameraRegistration,
    ConsentRecord,
    RegistrationStatus,
)

from ..support.cameras import HOME, register, register_approved, registration_of
from ..support.profiles import fill_home
from ..support.web import submit, texts_to, translated


def test_a_resident_registers_home_cameras_and_the_terms_are_recorded(app, resident):
    client, user = resident

    response = register(client)

    assert response.status_code == 302
    registration = registration_of(app, user.id)
    assert registration.kind == "home"
    assert registration.status == RegistrationStatus.PENDING
    assert registration.willing is True
    assert registration.terms_version == "2026-11-01"
    assert registration.camera_count == 2
    assert registration.views == "front_door,street"
    assert registration.retention_days == 14
    assert registration.systems[0].can_export is True
    assert registration.latitude is None  # the manual geocoder: a moderator supplies them
    with app.app_context():
        ledger = db.session.execute(
            select(ConsentRecord.kind, ConsentRecord.granted, ConsentRecord.version).where(
                ConsentRecord.user_id == user.id, ConsentRecord.kind.like("camera%")
            )
        ).all()
    assert sorted(ledger) == [
        ("camera_requests", True, "2026-11-01"),
        ("camera_terms", True, "2026-11-01"),
    ]
    page = client.get(response.location).get_data(as_text=True)
    assert "Waiting for a moderator" in page
    assert "1200 W Madison St" in page


def test_the_terms_are_shown_and_must_be_accepted(app, resident):
    client, _ = resident
    form = client.get("/cameras/new/home").get_data(as_text=True)
    assert "The police get no access to your cameras" in form
    assert "You may refuse any request" in form
    assert "2026-11-01" in form

    response = register(client, agree_terms=None)

    assert response.status_code == 200
    assert "Agree to the terms to register." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(CameraRegistration.id)) is None


def test_bad_answers_get_clear_errors_and_keep_what_was_typed(app, resident):
    client, _ = resident
    response = register(client, views=[], camera_count="0", contact_methods=["email"], email="")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Choose at least one thing the cameras see." in page
    assert "Enter a number from 1 to 500." in page
    assert "Enter an email address, or do not choose email." in page
    assert 'value="1200 W Madison St"' in page  # nothing typed is lost


def test_errors_are_translated(app, sign_in_as):
    client, _ = sign_in_as(locale="pl")
    page = register(client, views=[]).get_data(as_text=True)
    assert translated("pl", "Choose at least one thing the cameras see.") in page


def test_the_home_form_starts_from_the_profile_address(app, resident):
    client, _ = resident
    fill_home(client)
    page = client.get("/cameras/new/home").get_data(as_text=True)
    assert re.search(r'name="street"[^>]*value="[^"]+"', page)


def test_a_business_registers_with_its_details(app, resident):
    client, user = resident

    response = register(client, "business")

    assert response.status_code == 302
    registration = registration_of(app, user.id)
    assert registration.kind == "business"
    assert registration.business_name == "Corner Bakery"
    assert registration.contact_phone == "+13125550177"
    assert registration.placard_wanted is True
    assert registration.systems[0].placement == "both"
    assert registration.views == "front_door,interior,alley"
    page = client.get(response.location).get_data(as_text=True)
    assert "Corner Bakery" in page
    assert "Restaurant, bar or café" in page


def test_a_business_needs_its_name_and_a_contact(app, resident):
    client, _ = resident
    page = register(client, "business", business_name="", contact_phone="12").get_data(as_text=True)
    assert "Enter the business name." in page
    assert "Enter a phone number, like" in page


def test_more_camera_systems_can_be_added_and_the_summary_follows(app, resident):
    client, user = resident
    register(client, "business")
    registration = registration_of(app, user.id)

    response = submit(
        client,
        f"/cameras/{registration.id}/systems/new",
        {"placement": "exterior", "camera_count": "3", "views": ["parking"],
         "recording": "motion", "retention_days": "60"},
    )  # fmt: skip

    assert response.status_code == 302
    updated = registration_of(app, user.id)
    assert len(updated.systems) == 2
    assert updated.camera_count == 9
    assert updated.retention_days == 60
    assert "parking" in updated.views.split(",")


def test_the_last_system_cannot_be_removed(app, resident):
    client, user = resident
    register(client)
    registration = registration_of(app, user.id)
    system_id = registration.systems[0].id

    response = submit(
        client, f"/cameras/{registration.id}/systems/{system_id}/remove", {},
        page=f"/cameras/{registration.id}", follow_redirects=True,
    )  # fmt: skip

    assert "A registration needs at least one camera system" in response.get_data(as_text=True)
    assert len(registration_of(app, user.id).systems) == 1


def test_another_residents_registration_answers_404(app, resident, sign_in_as):
    client, user = resident
    register(client)
    registration = registration_of(app, user.id)
    other, _ = sign_in_as()
    for path in ("", "/edit", "/placard", "/withdraw", "/systems/new"):
        assert other.get(f"/cameras/{registration.id}{path}").status_code == 404
    token_page = "/cameras/"
    response = submit(other, f"/cameras/{registration.id}/pause", {}, page=token_page)
    assert response.status_code == 404
    assert registration_of(app, user.id).willing is True


def test_pause_and_resume_are_recorded_in_the_consent_ledger(app, resident):
    client, user = resident
    register(client)
    registration = registration_of(app, user.id)
    page = f"/cameras/{registration.id}"

    submit(client, f"/cameras/{registration.id}/pause", {}, page=page)
    assert registration_of(app, user.id).willing is False
    submit(client, f"/cameras/{registration.id}/resume", {}, page=page)
    assert registration_of(app, user.id).willing is True

    with app.app_context():
        ledger = db.session.scalars(
            select(ConsentRecord.granted)
            .where(ConsentRecord.kind == "camera_requests")
            .order_by(ConsentRecord.id)
        ).all()
    assert ledger == [True, False, True]


def test_withdrawing_deletes_the_registration(app, resident):
    client, user = resident
    register(client)
    registration = registration_of(app, user.id)

    response = submit(client, f"/cameras/{registration.id}/withdraw", {})

    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(CameraRegistration, registration.id) is None
        assert db.session.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "camera.withdrawn")
        )


def test_editing_the_address_of_an_approved_registration_returns_it_to_the_queue(
    app, resident, sign_in_as
):
    client, user = resident
    registration = register_approved(app, sign_in_as, client, user.id)
    assert registration.status == RegistrationStatus.APPROVED
    number = registration.number

    edit = {k: HOME[k] for k in ("street", "unit", "city", "state", "zip_code",
                                 "contact_methods", "email")}  # fmt: skip
    submit(client, f"/cameras/{registration.id}/edit", {**edit, "street": "1300 W Madison St"})

    moved = registration_of(app, user.id)
    assert moved.status == RegistrationStatus.PENDING
    assert moved.latitude is None and not moved.location_verified
    assert moved.number == number  # the placard keeps its number
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_id == registration.id)
        ).all()
    assert "camera.resubmitted" in actions


def test_editing_other_details_of_an_approved_registration_keeps_it_approved(
    app, resident, sign_in_as
):
    client, user = resident
    registration = register_approved(app, sign_in_as, client, user.id)
    edit = {k: HOME[k] for k in ("street", "unit", "city", "state", "zip_code")}

    submit(client, f"/cameras/{registration.id}/edit",
           {**edit, "contact_methods": ["sms", "email"], "email": "me@example.com"})  # fmt: skip

    updated = registration_of(app, user.id)
    assert updated.status == RegistrationStatus.APPROVED
    assert updated.contact_methods == "sms,email"


def test_renewing_by_click_extends_the_year(app, resident, sign_in_as):
    client, user = resident
    registration = register_approved(app, sign_in_as, client, user.id)
    first = registration_of(app, user.id).renewed_at

    submit(client, f"/cameras/{registration.id}/renew", {}, page=f"/cameras/{registration.id}")

    assert registration_of(app, user.id).renewed_at > first


@pytest.mark.parametrize("kind", ["home", "business"])
def test_the_dashboard_leads_to_both_registrations(app, resident, kind):
    client, _ = resident
    page = client.get("/cameras/").get_data(as_text=True)
    assert f"/cameras/new/{kind}" in page
    assert "/cameras/" in client.get("/account/").get_data(as_text=True)


def test_sms_to_the_registrant_uses_their_language(app, sign_in_as):
    client, user = sign_in_as(locale="es")
    register_approved(app, sign_in_as, client, user.id)
    message = texts_to(app, user.phone)[-1]
    assert message.template == "camera_approved"
    assert message.locale == "es"
