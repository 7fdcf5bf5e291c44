"""Further phones on a profile count only once verified by an SMS code."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ProfilePhone

from ..support.web import last_code, submit, texts_to

LANDLINE = "+13125550160"


def verified(app) -> list[tuple[str, bool]]:
    with app.app_context():
        return [
            (p.phone, p.verified_at is not None) for p in db.session.scalars(select(ProfilePhone))
        ]


def test_add_and_verify_a_phone(app, resident):
    client, _ = resident
    response = submit(client, "/profile/phones", {"phone": "(312) 555-0160"})
    assert response.status_code == 302
    assert verified(app) == [(LANDLINE, False)]
    [text] = texts_to(app, LANDLINE)
    assert text.template == "add_profile_phone"

    submit(client, response.headers["Location"], {"code": last_code(app, LANDLINE)})

    assert verified(app) == [(LANDLINE, True)]
    assert "Verified" in client.get("/profile/phones").get_data(as_text=True)


def test_a_wrong_code_does_not_verify(app, resident):
    client, _ = resident
    location = submit(client, "/profile/phones", {"phone": LANDLINE}).headers["Location"]
    code = last_code(app, LANDLINE)
    page = submit(client, location, {"code": f"{(int(code) + 1) % 1_000_000:06d}"}).get_data(
        as_text=True
    )
    assert "The code is not right" in page
    assert verified(app) == [(LANDLINE, False)]


def test_the_same_number_twice_or_the_account_number_is_refused(app, resident):
    client, user = resident
    submit(client, "/profile/phones", {"phone": LANDLINE})
    page = submit(client, "/profile/phones", {"phone": LANDLINE}).get_data(as_text=True)
    assert "This phone number is already on your profile." in page
    page = submit(client, "/profile/phones", {"phone": user.phone}).get_data(as_text=True)
    assert "This phone number is already on your profile." in page


def test_remove_a_phone(app, resident):
    client, _ = resident
    submit(client, "/profile/phones", {"phone": LANDLINE})
    with app.app_context():
        phone_id = db.session.scalar(select(ProfilePhone.id))
    submit(client, f"/profile/phones/{phone_id}/remove", {}, page="/profile/phones")
    assert verified(app) == []


def test_another_residents_phone_answers_404(app, sign_in_as):
    owner, _ = sign_in_as()
    submit(owner, "/profile/phones", {"phone": LANDLINE})
    with app.app_context():
        phone_id = db.session.scalar(select(ProfilePhone.id))
    other, _ = sign_in_as()
    assert other.get(f"/profile/phones/{phone_id}/verify").status_code == 404
    response = submit(other, f"/profile/phones/{phone_id}/remove", {}, page="/profile/phones")
    assert response.status_code == 404
    assert verified(app) == [(LANDLINE, False)]


def test_a_number_that_said_stop_gets_no_code_and_a_clear_message(app, resident):
    from webapp.sms.services import record_sms_consent

    client, _ = resident
    with app.app_context():
        record_sms_consent(LANDLINE, False, channel="sms")
        db.session.commit()
    page = submit(client, "/profile/phones", {"phone": LANDLINE}).get_data(as_text=True)
    assert "This number has asked us to stop sending texts" in page
    assert [t.status for t in texts_to(app, LANDLINE)] == ["suppressed"]
    assert verified(app) == []
