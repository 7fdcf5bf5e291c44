"""The moderators' queue: filters, paging, decisions, the texts they send, and what a
moderator can never see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEvent, CameraEvent, CameraRegistration, RegistrationStatus, Role
from webapp.models.types import utcnow

from ..support.cameras import approve, register, registration_of
from ..support.profiles import add, fill_home
from ..support.web import submit, texts_to

DECIDE = "/staff/moderation/{}"


@pytest.fixture
def moderator(sign_in_as):
    return sign_in_as(Role.MODERATOR)


def make_registrations(app, sign_in_as, count, kind="home"):
    ids = []
    for _ in range(count):
        client, user = sign_in_as()
        register(client, kind)
        ids.append(registration_of(app, user.id).id)
    return ids


def backdate(app, registration_id, days):
    with app.app_context():
        registration = db.session.get(CameraRegistration, registration_id)
        registration.submitted_at = utcnow() - timedelta(days=days)
        db.session.commit()


def decide(client, registration_id, action, reason="", lat="", lon=""):
    return submit(
        client,
        DECIDE.format(registration_id),
        {"action": action, "reason": reason, "latitude": lat, "longitude": lon},
    )


def test_the_queue_lists_waiting_registrations_oldest_first(app, sign_in_as, moderator):
    client, _ = moderator
    first, second, third = make_registrations(app, sign_in_as, 3)
    backdate(app, second, 5)
    backdate(app, third, 2)

    page = client.get("/staff/moderation/").get_data(as_text=True)

    order = [page.index(f'/staff/moderation/{i}"') for i in (second, third, first)]
    assert order == sorted(order)
    assert "3 registrations" in page


def test_the_queue_filters_by_kind_status_and_waiting_time(app, sign_in_as, moderator):
    client, _ = moderator
    home, old_home = make_registrations(app, sign_in_as, 2)
    (business,) = make_registrations(app, sign_in_as, 1, kind="business")
    backdate(app, old_home, 8)

    def listed(query):
        page = client.get(f"/staff/moderation/?{query}").get_data(as_text=True)
        return {i for i in (home, old_home, business) if f'/staff/moderation/{i}"' in page}

    assert listed("kind=business") == {business}
    assert listed("kind=home") == {home, old_home}
    assert listed("waited=7") == {old_home}
    assert listed("status=approved") == set()
    approve(app, sign_in_as, home)
    assert listed("status=approved") == {home}
    assert listed("") == {old_home, business}


def test_the_queue_pages(app, sign_in_as, moderator):
    client, _ = moderator
    ids = make_registrations(app, sign_in_as, 27)

    first = client.get("/staff/moderation/").get_data(as_text=True)
    second = client.get("/staff/moderation/?page=2").get_data(as_text=True)

    assert "Page 1 of 2" in first and "Next page" in first
    assert sum(f'/staff/moderation/{i}"' in first for i in ids) == 25
    assert {i for i in ids if f'/staff/moderation/{i}"' in second} == set(ids[25:])
    assert "Previous page" in second
    assert client.get("/staff/moderation/?page=99").status_code == 200  # clamped, not an error


def test_approval_needs_coordinates(app, sign_in_as, moderator):
    client, _ = moderator
    (registration_id,) = make_registrations(app, sign_in_as, 1)

    response = decide(client, registration_id, "approve")

    assert response.status_code == 200
    assert "Enter the latitude and longitude before approving." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CameraRegistration, registration_id).status == "pending"


def test_approval_verifies_the_location_numbers_the_registration_and_texts_the_owner(
    app, sign_in_as, moderator
):
    client, moderator_user = moderator
    owner_client, owner = sign_in_as(locale="pl")
    register(owner_client)
    registration_id = registration_of(app, owner.id).id

    response = decide(client, registration_id, "approve", lat="41.8819", lon="-87.6278")

    assert response.status_code == 302
    approved = registration_of(app, owner.id)
    assert approved.status == RegistrationStatus.APPROVED
    assert (approved.latitude, approved.longitude) == (41.8819, -87.6278)
    assert approved.location_verified and approved.location_source == "moderator"
    assert approved.number and approved.number.startswith("CR-")
    assert approved.renewed_at is not None
    message = texts_to(app, owner.phone)[-1]
    assert (message.template, message.locale) == ("camera_approved", "pl")
    assert approved.number in message.body
    with app.app_context():
        audit = db.session.execute(
            select(AuditEvent.action, AuditEvent.actor_id).where(
                AuditEvent.subject_type == "camera_registration",
                AuditEvent.subject_id == registration_id,
            )
        ).all()
        history = db.session.scalars(
            select(CameraEvent.action).where(CameraEvent.registration_id == registration_id)
        ).all()
    assert ("camera.viewed", moderator_user.id) in audit  # opening it is audited
    assert ("camera.approve", moderator_user.id) in audit
    assert history == ["submitted", "approve"]


@pytest.mark.parametrize(
    ("action", "status", "template"),
    [
        ("reject", RegistrationStatus.REJECTED, "camera_rejected"),
        ("request_changes", RegistrationStatus.CHANGES_REQUESTED, "camera_changes_requested"),
    ],
)
def test_rejecting_or_asking_for_changes_needs_a_reason_the_owner_sees(
    app, sign_in_as, moderator, action, status, template
):
    client, _ = moderator
    owner_client, owner = sign_in_as(locale="es")
    register(owner_client)
    registration_id = registration_of(app, owner.id).id

    no_reason = decide(client, registration_id, action)
    assert "Give a reason: the registrant will read it." in no_reason.get_data(as_text=True)

    decide(client, registration_id, action, reason="The ZIP code does not match the street.")

    assert registration_of(app, owner.id).status == status
    message = texts_to(app, owner.phone)[-1]
    assert (message.template, message.locale) == (template, "es")
    page = owner_client.get(f"/cameras/{registration_id}").get_data(as_text=True)
    assert "The ZIP code does not match the street." in page
    with app.app_context():
        reasons = db.session.scalars(
            select(AuditEvent.reason).where(AuditEvent.action == f"camera.{action}")
        ).all()
    assert reasons == ["The ZIP code does not match the street."]


def test_changes_requested_then_edited_goes_back_to_the_queue(app, sign_in_as, moderator):
    client, _ = moderator
    owner_client, owner = sign_in_as()
    register(owner_client)
    registration_id = registration_of(app, owner.id).id
    decide(client, registration_id, "request_changes", reason="Say what the cameras see.")

    submit(owner_client, f"/cameras/{registration_id}/edit",
           {"street": "1200 W Madison St", "city": "Chicago", "state": "IL",
            "zip_code": "60607", "contact_methods": ["sms"]})  # fmt: skip

    assert registration_of(app, owner.id).status == RegistrationStatus.PENDING
    page = client.get("/staff/moderation/").get_data(as_text=True)
    assert f'/staff/moderation/{registration_id}"' in page


def test_a_decided_registration_cannot_be_decided_again(app, sign_in_as, moderator):
    client, _ = moderator
    (registration_id,) = make_registrations(app, sign_in_as, 1)
    decide(client, registration_id, "approve", lat="41.88", lon="-87.63")

    again = decide(client, registration_id, "reject", reason="Changed my mind")

    assert "not waiting for a decision any more" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CameraRegistration, registration_id).status == "approved"


def test_bad_coordinates_get_a_clear_error(app, sign_in_as, moderator):
    client, _ = moderator
    (registration_id,) = make_registrations(app, sign_in_as, 1)
    page = decide(client, registration_id, "approve", lat="141", lon="abc").get_data(as_text=True)
    assert "Enter a latitude from -90 to 90." in page
    assert 'value="141"' in page


def test_a_moderator_sees_the_registration_but_never_the_safety_profile(app, sign_in_as, moderator):
    client, _ = moderator
    owner_client, owner = sign_in_as()
    fill_home(owner_client, access_notes="Key under the blue flowerpot")
    add(owner_client, "members", {"name": "Ruth", "medical_conditions": "Type 1 diabetes"})
    register(owner_client)
    registration_id = registration_of(app, owner.id).id

    page = client.get(DECIDE.format(registration_id)).get_data(as_text=True)

    assert "1200 W Madison St" in page
    for secret in ("blue flowerpot", "Ruth", "diabetes"):
        assert secret not in page
    # The profile pages are the owner's alone: a moderator reaches only their own (empty) one,
    # and there is no route to anyone else's.
    own = client.get("/profile/").get_data(as_text=True)
    assert "diabetes" not in own and "blue flowerpot" not in own
    with app.app_context():
        assert not db.session.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "profile.viewed")
        )


def test_only_moderators_reach_the_console(app, sign_in_as, resident):
    (registration_id,) = make_registrations(app, sign_in_as, 1)
    for role in (Role.RESIDENT, Role.OFFICER, Role.DISPATCHER, Role.ADMIN):
        client, _ = sign_in_as(role)
        assert client.get("/staff/moderation/").status_code == 403
        assert client.get(DECIDE.format(registration_id)).status_code == 403
    anonymous = app.test_client()
    assert anonymous.get("/staff/moderation/").status_code == 302
