"""The resident's rights: who has seen the profile, download everything, delete everything."""

from __future__ import annotations

import json

from sqlalchemy import select, text

from webapp.extensions import db
from webapp.models import AuditEvent, Profile, Role, User
from webapp.profiles.services import record_dispatcher_view
from webapp.sms.services import record_sms_consent

from ..support.database import all_rows
from ..support.profiles import MEMBER, add, fill_home
from ..support.twilio import text as send
from ..support.twilio import twilio_config
from ..support.web import PASSWORD, last_code, sign_in, submit

LANDLINE = "+13125550160"


def full_profile(app, client):
    fill_home(client)
    add(client, "members", MEMBER)
    add(client, "contacts", {"name": "Ana Díaz", "relationship_": "", "phone": "+17735550100"})
    submit(client, "/profile/phones", {"phone": LANDLINE})
    location = "/profile/phones/1/verify"
    submit(client, location, {"code": last_code(app, LANDLINE)})
    submit(client, "/profile/sharing", {"share_with_911": "y"})


def dispatcher_looks(app, user, incident="INC-2026-0042", agency="OEMC Chicago"):
    with app.app_context():
        dispatcher = db.session.scalar(select(User).where(User.role == Role.DISPATCHER.value))
        profile = db.session.scalar(select(Profile).where(Profile.user_id == user.id))
        record_dispatcher_view(profile, actor=dispatcher, agency=agency, incident=incident,
                               channel="lookup")  # fmt: skip
        db.session.commit()


def test_who_has_seen_my_profile(app, resident, make_user):
    client, user = resident
    make_user(Role.DISPATCHER)
    fill_home(client)
    assert "No one has looked at your profile." in client.get("/account/data/").get_data(
        as_text=True
    )
    dispatcher_looks(app, user)
    page = client.get("/account/data/").get_data(as_text=True)
    assert "OEMC Chicago" in page and "INC-2026-0042" in page


def test_views_of_another_profile_are_not_shown(app, sign_in_as, make_user):
    make_user(Role.DISPATCHER)
    looked_at, looked_at_user = sign_in_as()
    fill_home(looked_at)
    dispatcher_looks(app, looked_at_user)
    other, _ = sign_in_as()
    assert "INC-2026-0042" not in other.get("/account/data/").get_data(as_text=True)


def test_export_contains_everything(app, resident, make_user):
    client, user = resident
    make_user(Role.DISPATCHER)
    full_profile(app, client)
    dispatcher_looks(app, user)

    response = client.get("/account/data/export.json")

    assert response.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["phone"] == user.phone
    profile = data["profile"]
    assert profile["street"] == "121 N LaSalle St"
    assert profile["access_notes"] == "Gate code 4321#"  # decrypted for its owner
    assert profile["members"][0]["medications"] == "Insulin"
    assert profile["members"][0]["relationship"] == "parent"
    assert profile["contacts"][0]["phone"] == "+17735550100"
    assert [(p["phone"], bool(p["verified_at"])) for p in profile["phones"]] == [(LANDLINE, True)]
    kinds = {(c["kind"], c["granted"]) for c in data["consents"]}
    assert ("share_911", True) in kinds
    assert data["profile_views"] == [
        {"when": data["profile_views"][0]["when"], "agency": "OEMC Chicago",
         "incident": "INC-2026-0042"},
    ]  # fmt: skip
    assert data["camera_registrations"] == []
    assert any(m["to"] == LANDLINE for m in data["text_messages"])
    with app.app_context():
        assert "account.exported" in db.session.scalars(select(AuditEvent.action)).all()


def test_delete_needs_the_password(app, resident):
    client, user = resident
    page = submit(client, "/account/data/delete", {"password": "not it at all"}).get_data(
        as_text=True
    )
    assert "The password is not right." in page
    with app.app_context():
        assert db.session.get(User, user.id) is not None


def test_deletion_leaves_no_personal_data(app, resident, make_user):
    client, user = resident
    make_user(Role.DISPATCHER)
    full_profile(app, client)
    dispatcher_looks(app, user)
    before = all_rows(app)
    assert user.phone in before and LANDLINE in before

    response = submit(client, "/account/data/delete", {"password": PASSWORD})

    assert response.headers["Location"] == "/"
    after = all_rows(app)
    for personal in (user.phone, LANDLINE, "+17735550100", "121 N LaSalle St", "60602"):
        assert personal not in after
    with app.app_context():
        assert db.session.get(User, user.id) is None
        for table in ("profiles", "household_members", "emergency_contacts", "profile_phones",
                      "verification_codes", "user_sessions", "consent_records"):  # fmt: skip
            assert db.session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0
        # The audit log keeps its rows, with the numeric id only, and still verifies.
        deleted = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "account.deleted")
        ).one()
        assert deleted.subject_id == user.id
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
    assert sign_in(app.test_client(), user.phone).status_code == 200  # the account is gone
    assert client.get("/account/").status_code == 302  # and its session with it


def test_a_stopped_number_stays_stopped_after_deletion(app, resident):
    client, user = resident
    with app.app_context():
        record_sms_consent(user.phone, False, channel="sms", user_id=user.id)
        db.session.commit()
    response = submit(client, "/account/data/delete", {"password": PASSWORD})
    assert response.headers["Location"] == "/"
    with app.app_context():
        from webapp.models import ConsentRecord
        from webapp.sms.services import sms_opted_out

        assert db.session.get(User, user.id) is None  # deleted (PostgreSQL once refused a
        assert sms_opted_out(user.phone)  # channel name longer than its column), and stopped
        [kept] = db.session.scalars(select(ConsentRecord)).all()
        assert (kept.user_id, kept.channel) == (None, "account_deleted")


def test_deletion_removes_the_residents_texts_but_not_an_emergency_record(make_app, make_user):
    """The texts a resident sent go with the account; a text filed in an emergency session is
    the 911 center's record of a call for help and stays (README, "Your data")."""
    from webapp.models import EmergencyMessage, InboundMessage

    app = make_app(**twilio_config())
    user = make_user()
    webhook = app.test_client()
    send(webhook, user.phone, "HELP")
    send(webhook, user.phone, "911 smoke in the hallway")
    client = app.test_client()
    sign_in(client, user.phone)

    submit(client, "/account/data/delete", {"password": PASSWORD})

    with app.app_context():
        left = db.session.scalars(select(InboundMessage.command)).all()
        assert left == ["emergency"]
        filed = db.session.scalar(select(EmergencyMessage.inbound_message_id).where(
            EmergencyMessage.direction == "inbound"))  # fmt: skip
        assert filed is not None
