"""Reading texts as commands: case, accents, spaces and punctuation do not matter."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.sms.commands import KEYWORDS, parse


@pytest.mark.parametrize(
    ("text", "name", "locale", "argument"),
    [
        ("help", "help", "en", ""),
        ("  Ayuda!! ", "help", "es", ""),
        ("cámara no", "camera_off", "es", ""),
        ("CAMARA   NO.", "camera_off", "es", ""),
        ("Camera on", "camera_on", "en", ""),
        ("YES", "start", "en", ""),  # Twilio's opt-in word alone
        ("yes 4821", "answer_yes", "en", "4821"),
        ("Sí, 4821", "answer_yes", "es", "4821"),
        ("no 4821", "answer_no", "en", "4821"),
        ("LANG es", "lang", "en", "ES"),
        ("LANG klingon", "lang", "en", "?"),
        ("Español", "lang", None, "ESPANOL"),
        ("中文", "lang", None, "中文"),
        ("语言中文", "lang", "zh_Hans", "中文"),
        ("摄像头关", "camera_off", "zh_Hans", ""),
        ("Potwierdź", "confirm", "pl", ""),
        ("إيقاف", "stop", "ar", ""),
        ("911 there is a fire", "emergency", "en", "THERE IS A FIRE"),
        ("STOP please", "unknown", None, "STOP PLEASE"),  # only the bare word opts out
        ("", "unknown", None, ""),
        ("🙂", "unknown", None, ""),
    ],
)
def test_parse(text, name, locale, argument):
    command = parse(text)
    assert (command.name, command.argument) == (name, argument)
    if locale:
        assert command.locale == locale


@pytest.mark.parametrize(
    ("command", "locale", "word"),
    [(c, loc, w) for c, by in KEYWORDS.items() for loc, words in by.items() for w in words],
)
def test_every_keyword_is_understood(command, locale, word):
    text = f"{word} 4821" if command in ("answer_yes", "answer_no") else word
    parsed = parse(text)
    assert parsed.name == command, (word, parsed)


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_plain_ascii_is_normalised_as_any_text_is(text):
    """Texts in plain ASCII take a quicker path; it must read them exactly as the general
    one does (every ASCII character alone, and any mix)."""
    from webapp.sms.commands import _normalise_unicode, normalise

    for one in map(chr, range(128)):
        assert normalise(one) == _normalise_unicode(one)
    assert normalise(text) == _normalise_unicode(text)
