"""Every SMS text, in every locale, fits in at most 2 segments with its longest values."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import force_locale

from webapp import create_app
from webapp.i18n import LOCALE_CODES
from webapp.sms import texts
from webapp.sms.segments import segments

from ..support.settings import base_config


@pytest.fixture(scope="module")
def app() -> Flask:
    """Texts are rendered here, never stored: one app with no database behind it serves the
    module's 200-odd tests (a clean database for each cost more than the tests)."""
    return create_app(base_config("sqlite://"))


@pytest.mark.parametrize("locale", LOCALE_CODES)
@pytest.mark.parametrize("template", sorted(texts.TEXTS))
def test_every_text_fits_in_two_segments(app, template, locale):
    with app.test_request_context():
        params = dict(texts.LONGEST_PARAMS)
        with force_locale(locale):  # the words that fill STATUS, in the same language
            params["state"] = str(texts.PROFILE_STATES["stale"]) % {"date": params["date"]}
            params["camera"] = max((str(w) for w in texts.CAMERA_STATES.values()), key=len)
        body = texts.render(template, locale, **params)
        with force_locale("en"):
            english = str(texts.TEXTS[template]) % texts.LONGEST_PARAMS
    assert segments(body) <= 2, (len(body), body)
    if locale != "en":
        assert body != english  # really translated


def test_segment_counting():
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("€" * 80) == 1  # two septets each
    assert segments("ó" + "a" * 69) == 1  # ó is not GSM-7: UCS-2, 70 a segment
    assert segments("ó" + "a" * 70) == 2
    assert segments("码" * 134) == 2
    assert segments("码" * 135) == 3


@pytest.mark.parametrize("locale", LOCALE_CODES)
def test_a_text_that_asks_for_a_reply_word_names_one_we_understand_in_its_language(app, locale):
    """English texts say "Reply CONFIRM", Spanish ones "Envíe CONFIRMAR", and so on: the word a
    text asks for is a keyword of that language, so that replying with it in that language
    works (the English words work too)."""
    from webapp.sms.commands import KEYWORDS, parse

    asked = 0
    with app.test_request_context():
        for template in sorted(texts.TEXTS):
            with force_locale("en"):
                english = str(texts.TEXTS[template])
            if "CONFIRM" not in english:
                continue
            body = texts.render(template, locale, **texts.LONGEST_PARAMS)
            words = KEYWORDS["confirm"][locale]
            assert any(word in body for word in words), (template, body)
            assert all(parse(word).name == "confirm" for word in words)
            asked += 1
    assert asked >= 4
