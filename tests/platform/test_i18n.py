"""get_locale(): ?lang=, then the user's choice, then the session, Accept-Language, default."""

from __future__ import annotations

import re

import pytest

from webapp.i18n import LANGUAGES

from ..support.web import submit

HTML_TAG = re.compile(r'<html lang="([^"]+)" dir="(ltr|rtl)">')


def html_lang(response) -> tuple[str, str]:
    match = HTML_TAG.search(response.get_data(as_text=True))
    assert match
    return match.group(1), match.group(2)


@pytest.mark.parametrize(
    ("code", "tag", "direction", "heading"),
    [
        ("en", "en", "ltr", "Help 911 help you"),
        ("es", "es", "ltr", "Ayude al 911"),
        ("pl", "pl", "ltr", "911"),
        ("zh_Hans", "zh-Hans", "ltr", "911"),
        ("ar", "ar", "rtl", "911"),
    ],
)
def test_each_locale_sets_html_lang_and_direction(client, code, tag, direction, heading):
    response = client.get(f"/?lang={code}")
    assert html_lang(response) == (tag, direction)
    page = response.get_data(as_text=True)
    assert heading in page
    if code != "en":
        assert "Help 911 help you" not in page


def test_the_switcher_is_plain_links_with_each_language_in_its_own_name(client):
    page = client.get("/account/sign-in?lang=pl").get_data(as_text=True)
    for language in LANGUAGES:
        assert f'href="/account/sign-in?lang={language.code}"' in page
        assert f">{language.name}</a>" in page
    assert 'lang="ar" hreflang="ar" dir="rtl"' in page
    assert "<script" not in page


def test_lang_parameter_is_remembered_in_the_session(client):
    client.get("/?lang=ar")
    assert html_lang(client.get("/terms")) == ("ar", "rtl")


def test_accept_language_is_used_when_nothing_else_says(client):
    response = client.get("/", headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"})
    assert html_lang(response) == ("pl", "ltr")
    response = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert html_lang(response) == ("zh-Hans", "ltr")


def test_unsupported_languages_fall_back_to_the_default(client):
    response = client.get("/?lang=xx", headers={"Accept-Language": "de-DE"})
    assert html_lang(response) == ("en", "ltr")


def test_the_signed_in_users_choice_beats_session_and_browser(app, sign_in_as):
    client, _ = sign_in_as(locale="es")
    with client.session_transaction() as sess:
        sess["lang"] = "pl"
    response = client.get("/account/", headers={"Accept-Language": "ar"})
    assert html_lang(response) == ("es", "ltr")
    # ...but an explicit ?lang= wins for the page it is on.
    assert html_lang(client.get("/account/?lang=ar")) == ("ar", "rtl")


def test_changing_the_language_in_settings_changes_the_site(app, resident):
    client, _ = resident
    submit(client, "/account/settings", {"locale": "ar", "email": ""})
    assert html_lang(client.get("/account/")) == ("ar", "rtl")
