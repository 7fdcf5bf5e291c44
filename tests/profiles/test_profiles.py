"""Safety profile sections: create, edit, remove; the summary; isolation; validation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ConsentRecord, EmergencyContact, HouseholdMember, Pet, Profile, Vehicle

from ..support.profiles import HOME, MEMBER, add, fill_home
from ..support.web import submit


def profile_of(app, user_id) -> Profile:
    return db.session.scalar(select(Profile).where(Profile.user_id == user_id))


def test_home_is_saved_and_leads_to_the_next_section(app, resident):
    client, user = resident
    form = client.get("/profile/home").get_data(as_text=True)
    assert 'value="Chicago"' in form and '<option selected value="IL">' in form

    response = fill_home(client)

    assert response.headers["Location"] == "/profile/members"
    with app.app_context():
        profile = profile_of(app, user.id)
        assert (profile.street, profile.zip_code, profile.access_notes) == (
            "121 N LaSalle St",
            "60602",
            "Gate code 4321#",
        )
    assert fill_home(client, floor="5").status_code == 302
    with app.app_context():
        assert profile_of(app, user.id).floor == "5"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"street": ""}, "Enter your street address."),
        ({"zip_code": "6060"}, "Enter a ZIP code like 60602."),
        ({"zip_code": "60602-12"}, "Enter a ZIP code like 60602."),
        ({"city": "x" * 81}, "This answer must be 80 characters or fewer."),
        ({"access_notes": "x" * 301}, "This answer must be 300 characters or fewer."),
    ],
)
def test_home_errors_are_clear_and_keep_the_answers(app, resident, changes, message):
    client, user = resident
    page = fill_home(client, **changes).get_data(as_text=True)
    assert "There is a problem" in page and message in page
    for name in ("street", "access_notes", "utility_shutoffs"):  # nothing typed is lost
        assert changes.get(name, HOME[name]) in page
    with app.app_context():
        profile = profile_of(app, user.id)
        assert profile is None or profile.street is None


def test_household_members_add_edit_remove(app, resident):
    client, _ = resident
    response = add(client, "members", MEMBER)
    assert response.headers["Location"] == "/profile/members"
    with app.app_context():
        member = db.session.scalar(select(HouseholdMember))
        assert (member.name, member.birth_year, member.communication) == (
            "Rosa Díaz",
            1941,
            "deaf,cognitive",
        )
        assert member.interpreter_needed and member.medications == "Insulin"
        member_id = member.id

    page = client.get(f"/profile/members/{member_id}").get_data(as_text=True)
    assert 'value="Rosa Díaz"' in page and "Type 1 diabetes" in page
    assert 'value="deaf" checked' in page or 'checked id="communication-0"' in page

    submit(client, f"/profile/members/{member_id}", {**MEMBER, "medications": "Insulin, metformin"})
    with app.app_context():
        assert db.session.get(HouseholdMember, member_id).medications == "Insulin, metformin"

    assert "Remove Rosa Díaz?" in client.get(f"/profile/members/{member_id}/remove").get_data(
        as_text=True
    )
    submit(client, f"/profile/members/{member_id}/remove", {})
    with app.app_context():
        assert db.session.get(HouseholdMember, member_id) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**MEMBER, "name": ""}, "Enter a name."),
        ({**MEMBER, "birth_year": "1850"}, "Enter a year between 1900 and this year"),
        ({**MEMBER, "birth_year": "3000"}, "Enter a year between 1900 and this year"),
        ({**MEMBER, "medications": "x" * 501}, "This answer must be 500 characters or fewer."),
    ],
)
def test_member_errors_keep_the_answers(app, resident, data, message):
    client, _ = resident
    page = add(client, "members", data).get_data(as_text=True)
    assert message in page
    assert "Type 1 diabetes" in page
    with app.app_context():
        assert db.session.scalar(select(HouseholdMember)) is None


@pytest.mark.parametrize(
    ("section", "data", "change", "model", "check"),
    [
        ("pets", {"name": "Max", "kind": "Dog", "service_animal": "y", "notes": "Friendly"},
         {"name": "Rex"}, Pet, lambda p: (p.name, p.service_animal, p.notes)),
        ("vehicles", {"make": "Toyota", "model": "Corolla", "colour": "Blue", "plate": "AB 1234"},
         {"colour": "Red"}, Vehicle, lambda v: (v.colour, v.plate)),
        ("contacts", {"name": "Ana", "relationship_": "child", "phone": "(773) 555-0100",
                      "language": "English"},
         {"phone": "+48 601 234 567"}, EmergencyContact, lambda c: (c.name, c.phone)),
    ],
)  # fmt: skip
def test_list_sections_add_edit_remove(app, resident, section, data, change, model, check):
    client, _ = resident
    add(client, section, data)
    with app.app_context():
        item = db.session.scalar(select(model))
        before = check(item)
        item_id = item.id
    listing = client.get(f"/profile/{section}").get_data(as_text=True)
    assert f'href="/profile/{section}/{item_id}"' in listing

    submit(client, f"/profile/{section}/{item_id}", {**data, **change})
    with app.app_context():
        after = check(db.session.get(model, item_id))
    assert after != before
    assert (
        after
        == {
            "pets": ("Rex", True, "Friendly"),
            "vehicles": ("Red", "AB 1234"),
            "contacts": ("Ana", "+48601234567"),
        }[section]
    )

    submit(client, f"/profile/{section}/{item_id}/remove", {})
    with app.app_context():
        assert db.session.get(model, item_id) is None


def test_emergency_contacts_store_e164_and_validate(app, resident):
    client, _ = resident
    page = add(client, "contacts", {"name": "Ana", "phone": "555"}).get_data(as_text=True)
    assert "Enter a phone number, like 312 555 0142" in page
    add(client, "contacts", {"name": "Ana", "relationship_": "child", "phone": "(773) 555-0100",
                             "language": "English"})  # fmt: skip
    page = client.get("/profile/contacts").get_data(as_text=True)
    assert "Ana (+17735550100)" in page


def test_a_plate_must_look_like_a_plate(resident):
    client, _ = resident
    page = add(client, "vehicles", {"make": "Ford", "plate": "<script>"}).get_data(as_text=True)
    assert "A licence plate has up to 10 letters" in page


def test_another_residents_items_answer_404(app, sign_in_as):
    owner, _ = sign_in_as()
    add(owner, "members", MEMBER)
    with app.app_context():
        member_id = db.session.scalar(select(HouseholdMember.id))
    other, _ = sign_in_as()
    assert other.get(f"/profile/members/{member_id}").status_code == 404
    assert other.get(f"/profile/members/{member_id}/remove").status_code == 404
    response = submit(other, f"/profile/members/{member_id}", {**MEMBER, "name": "Hacked"},
                      page="/profile/members/new")  # fmt: skip
    assert response.status_code == 404
    response = submit(other, f"/profile/members/{member_id}/remove", {}, page="/profile/")
    assert response.status_code == 404
    assert "Rosa" not in other.get("/profile/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(HouseholdMember, member_id).name == "Rosa Díaz"


def test_check_your_answers_lists_everything_with_change_links(app, resident):
    client, _ = resident
    fill_home(client)
    add(client, "members", MEMBER)
    add(client, "pets", {"name": "Max", "kind": "Dog"})
    page = client.get("/profile/").get_data(as_text=True)
    for text in ("121 N LaSalle St", "Apartment or condo", "Gate code 4321#", "Rosa Díaz",
                 "Type 1 diabetes", "Deaf or hard of hearing", "O-", "Max, Dog"):  # fmt: skip
        assert text in page
    assert page.count(">Change<") >= 4
    assert 'href="/profile/home"' in page and 'href="/profile/sharing"' in page


def test_sharing_choices_go_to_the_consent_ledger(app, resident):
    client, _ = resident
    submit(client, "/profile/sharing", {"share_with_911": "y"})
    submit(client, "/profile/sharing", {"share_with_911": "y", "emergency_planning": "y"})
    submit(client, "/profile/sharing", {})
    with app.app_context():
        ledger = [
            (c.kind, c.granted)
            for c in db.session.scalars(
                select(ConsentRecord).where(ConsentRecord.kind != "terms_privacy")
            )
        ]
    assert ledger == [
        ("share_911", True),
        ("emergency_planning", True),
        ("share_911", False),
        ("emergency_planning", False),
    ]


def test_confirming_needs_the_address_and_consent(app, resident):
    client, user = resident
    response = submit(client, "/profile/confirm", {}, page="/profile/")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Add your home address and agree to show your profile to 911" in page
    fill_home(client)
    submit(client, "/profile/sharing", {"share_with_911": "y"})
    submit(client, "/profile/confirm", {}, page="/profile/")
    page = client.get("/profile/").get_data(as_text=True)
    assert "Active." in page
    with app.app_context():
        assert profile_of(app, user.id).confirmed_at is not None


def test_profile_pages_need_a_verified_phone(app, sign_in_as, client):
    assert client.get("/profile/").headers["Location"].startswith("/account/sign-in")
    unverified, _ = sign_in_as(verified=False)
    assert unverified.get("/profile/home").headers["Location"] == "/account/verify"
