"""Reading texts as commands: case, accents, spaces and punctuation do not matter; an
emergency word counts anywhere; opt-out has its everyday variants; a YES or NO without its
code is a bare answer, never START; what we cannot read is placed in its language."""

from __future__ import annotations

import pytest

from webapp.sms.commands import parse
from webapp.sms.keywords import ANSWERS, EMERGENCY, KEYWORDS, OPT_OUT_WORDS


@pytest.mark.parametrize(
    ("text", "name", "locale", "argument"),
    [
        ("help", "help", "en", ""),
        ("  Ayuda!! ", "help", "es", ""),
        ("cámara no", "camera_off", "es", ""),
        ("CAMARA   NO.", "camera_off", "es", ""),
        ("Camera on", "camera_on", "en", ""),
        ("yes 4821", "answer_yes", "en", "4821"),
        ("Sí, 4821", "answer_yes", "es", "4821"),
        ("no 4821", "answer_no", "en", "4821"),
        ("是4821", "answer_yes", "zh_Hans", "4821"),
        ("LANG es", "lang", "en", "ES"),
        ("LANG klingon", "lang", "en", "?"),
        ("Español", "lang", None, "ESPANOL"),
        ("中文", "lang", None, "中文"),
        ("语言中文", "lang", "zh_Hans", "中文"),
        ("摄像头关", "camera_off", "zh_Hans", ""),
        ("Potwierdź", "confirm", "pl", ""),
        ("إيقاف", "stop", "ar", ""),
        ("", "unknown", None, ""),
        ("🙂", "unknown", None, ""),
    ],
)
def test_parse(text, name, locale, argument):
    command = parse(text)
    assert (command.name, command.argument) == (name, argument)
    if locale:
        assert command.locale == locale


# --- emergencies: a word or phrase anywhere ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("please help me!!! a man is trying to break in … I can't call because he will hear "
         "me", "en"),
        ("Help 911", "en"),
        ("need help now", "en"),
        ("I need an ambulance", "en"),
        ("there is a FIRE in the hallway", "en"),
        ("call the police", "en"),
        ("🆘", None),
        ("SOS", "en"),
        ("¡Ayúdame por favor, hay un hombre en la casa!", "es"),
        ("necesito una ambulancia", "es"),
        ("hay un incendio", "es"),
        ("llamen a la policía", "es"),
        ("NAGŁE! ktoś jest w domu", "pl"),
        ("nagły wypadek", "pl"),
        ("potrzebuję pomocy", "pl"),
        ("wezwijcie karetkę", "pl"),
        ("pożar w kuchni", "pl"),
        ("帮助我", "zh_Hans"),
        ("有人闯进来了救命", "zh_Hans"),
        ("请叫救护车", "zh_Hans"),
        ("أحتاج مساعدة", "ar"),
        ("نجدة", "ar"),
        ("النجدة", "ar"),
        ("اتصلوا بالشرطة", "ar"),
        ("حريق في المطبخ", "ar"),
    ],
)  # fmt: skip
def test_an_emergency_word_anywhere_is_an_emergency(text, locale):
    command = parse(text)
    assert command.name == "emergency", (text, command)
    assert command.locale == locale


@pytest.mark.parametrize(
    ("locale", "word"), [(loc, w) for loc, words in EMERGENCY.items() for w in words]
)
def test_every_emergency_word_is_found_inside_a_sentence(locale, word):
    command = parse(f"hello, {word}. please")
    assert (command.name, command.locale) == ("emergency", locale), word


@pytest.mark.parametrize("text", ["HELP", "Ayuda", "帮助", "مساعدة", "POMOC", "camera off"])
def test_the_help_word_alone_is_still_help_not_an_emergency(text):
    assert parse(text).name != "emergency"


# --- opting out ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("STOP ALL", "en"), ("OPT-OUT", "en"), ("opt out", "en"), ("please stop", "en"),
        ("Stop texting me", "en"), ("No stop", "en"), ("unsubscribe me please", "en"),
        ("取消", "zh_Hans"), ("请停止发短信", "zh_Hans"), ("por favor dejen de escribirme", "es"),
        ("BAJA por favor", "es"), ("proszę mnie wypisz", "pl"), ("توقف من فضلك", "ar"),
    ],
)  # fmt: skip
def test_everyday_opt_out_variants_are_stop(text, locale):
    command = parse(text)
    assert (command.name, command.locale) == ("stop", locale), (text, command)


@pytest.mark.parametrize(
    ("locale", "word"), [(loc, w) for loc, words in OPT_OUT_WORDS.items() for w in words]
)
def test_every_opt_out_word_stops_in_a_short_text(locale, word):
    assert parse(f"please {word} now").name == "stop", word


def test_a_long_text_that_says_stop_is_not_an_opt_out():
    assert parse("my neighbour's dog will not stop barking all night long again").name == (
        "unknown"
    )


# --- footage answers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "locale"),
    [
        ("YES", "answer_yes", "en"), ("yes please", "answer_yes", "en"),
        ("NO", "answer_no", "en"), ("No thanks", "answer_no", "en"),
        ("SÍ", "answer_yes", "es"), ("Si", "answer_yes", "es"), ("TAK", "answer_yes", "pl"),
        ("NIE", "answer_no", "pl"), ("是", "answer_yes", "zh_Hans"), ("否", "answer_no", "zh_Hans"),
        ("نعم", "answer_yes", "ar"), ("لا", "answer_no", "ar"),
    ],
)  # fmt: skip
def test_a_yes_or_no_without_a_code_is_a_bare_answer(text, name, locale):
    command = parse(text)
    assert (command.name, command.locale, command.argument) == (name, locale, "")


@pytest.mark.parametrize(
    ("command", "locale", "word"),
    [(c, loc, w) for c, by in ANSWERS.items() for loc, words in by.items() for w in words],
)
def test_every_answer_word_takes_a_code(command, locale, word):
    parsed = parse(f"{word} 4821")
    assert (parsed.name, parsed.argument) == (command, "4821")
    assert word in ANSWERS[command][parsed.locale]  # ("NO" is English and Spanish)


@pytest.mark.parametrize(
    ("command", "locale", "word"),
    [(c, loc, w) for c, by in KEYWORDS.items() for loc, words in by.items() for w in words],
)
def test_every_keyword_is_understood(command, locale, word):
    assert parse(word).name == command, word


# --- what we cannot read ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("مرحبا كيف حالك", "ar"), ("你好，这是什么", "zh_Hans"), ("Dzień dobry, co to jest?", "pl"),
        ("czesc, co to jest", "pl"), ("hola, qué es esto", "es"), ("quiero saber mas", "es"),
        ("¿Qué?", "es"), ("hello there", None), ("12345", None),
    ],
)  # fmt: skip
def test_a_text_we_cannot_read_is_placed_in_its_language(text, locale):
    command = parse(text)
    assert (command.name, command.locale) == ("unknown", locale)
