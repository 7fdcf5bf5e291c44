"""Every SMS text, in every locale, fits in at most 2 segments with its longest values."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from webapp.i18n import LOCALE_CODES
from webapp.sms import texts
from webapp.sms.segments import segments


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
