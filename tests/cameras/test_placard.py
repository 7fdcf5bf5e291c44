"""Placards and the public check page: a number, a QR code, and nothing about the owner."""

from __future__ import annotations

import re

from ..support.cameras import BUSINESS, register, register_approved, registration_of
from ..support.web import submit, translated


def approved_business(app, sign_in_as, locale="en"):
    client, user = sign_in_as(locale=locale)
    return client, user, register_approved(app, sign_in_as, client, user.id, "business")


def test_the_placard_shows_the_number_a_qr_code_and_both_languages(app, sign_in_as):
    client, _, registration = approved_business(app, sign_in_as, locale="es")

    response = client.get(f"/cameras/{registration.id}/placard")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert registration.number in page
    assert "<svg" in page and "<path" in page  # the QR code, drawn offline
    check_url = f"/cameras/check/{registration.number}"
    assert check_url in page
    assert translated("es", "Registered security camera") in page  # the owner's language
    assert "Registered security camera" in page  # and English
    assert 'lang="es"' in page and 'lang="en"' in page
    assert "css/placard.css" in page


def test_an_arabic_placard_is_right_to_left(app, sign_in_as):
    client, _, registration = approved_business(app, sign_in_as, locale="ar")
    page = client.get(f"/cameras/{registration.id}/placard").get_data(as_text=True)
    assert re.search(r'<section lang="ar" dir="rtl"', page)
    assert re.search(r'<section lang="en" dir="ltr"', page)


def test_the_placard_prints_on_letter_or_a4(app, sign_in_as, client):
    owner, _, registration = approved_business(app, sign_in_as)
    letter = owner.get(f"/cameras/{registration.id}/placard").get_data(as_text=True)
    a4 = owner.get(f"/cameras/{registration.id}/placard?paper=a4").get_data(as_text=True)
    assert "placard-letter" in letter and "placard-a4" in a4
    with client.get("/static/css/placard.css") as response:
        css = response.get_data(as_text=True)
    assert "@page letter{size:letter" in css and "@page a4{size:A4" in css
    assert ".placard-a4{page:a4}" in css
    assert "@media print" in css


def test_no_placard_before_approval(app, resident):
    client, user = resident
    register(client, "business")
    registration = registration_of(app, user.id)
    assert client.get(f"/cameras/{registration.id}/placard").status_code == 404


def test_the_check_page_says_only_whether_a_number_is_valid(app, sign_in_as, client):
    _, user, registration = approved_business(app, sign_in_as)

    page = client.get(f"/cameras/check/{registration.number}").get_data(as_text=True)

    assert f"{registration.number} is a valid camera registration." in page
    for private in (BUSINESS["business_name"], BUSINESS["street"], BUSINESS["contact_name"],
                    "555-0177", "5550177", user.phone, "Chicago"):  # fmt: skip
        assert private not in page


def test_the_check_accepts_the_number_as_people_type_it(app, sign_in_as, client):
    _, _, registration = approved_business(app, sign_in_as)
    typed = registration.number.lower().replace("-", " ")

    response = client.get("/cameras/check", query_string={"number": typed},
                          follow_redirects=True)  # fmt: skip

    assert "is a valid camera registration" in response.get_data(as_text=True)


def test_unknown_pending_and_withdrawn_numbers_are_not_valid(app, sign_in_as, client):
    owner, _, registration = approved_business(app, sign_in_as)
    assert "is not a valid" in client.get("/cameras/check/CR-2222-2222").get_data(as_text=True)
    assert "is not a valid" in client.get("/cameras/check/nonsense").get_data(as_text=True)

    submit(owner, f"/cameras/{registration.id}/withdraw", {})

    page = client.get(f"/cameras/check/{registration.number}").get_data(as_text=True)
    assert "is not a valid camera registration" in page


def test_a_moved_registration_is_not_valid_until_approved_again(app, sign_in_as, client):
    owner, _, registration = approved_business(app, sign_in_as)
    fields = ("street", "unit", "city", "state", "zip_code", "business_name", "business_type",
              "hours", "contact_name", "contact_phone", "contact_methods", "email")  # fmt: skip
    submit(owner, f"/cameras/{registration.id}/edit",
           {**{k: BUSINESS[k] for k in fields}, "street": "77 W Wacker Dr"})  # fmt: skip

    page = client.get(f"/cameras/check/{registration.number}").get_data(as_text=True)
    assert "is not a valid camera registration" in page


def test_the_check_page_is_public_and_translated(app, client):
    page = client.get("/cameras/check?lang=pl").get_data(as_text=True)
    assert translated("pl", "Check a camera registration") in page
