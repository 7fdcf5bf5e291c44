"""What a resident in trouble meets by text, in their own language, through signed webhooks:
an emergency word anywhere reaches the dispatchers; what we cannot read starts with "call
911" in the language it is written in; every way of saying STOP opts out; HELP always
answers with the carriers' disclosures; the program's name never pushes a text past two
segments. (Footage answers without a code, and after STOP: test_footage.py.)"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from webapp.config import ConfigError
from webapp.extensions import db
from webapp.models import ConsentRecord, EmergencySession, User
from webapp.sms import texts

from ..support.database import rows
from ..support.twilio import text
from ..support.web import new_phone


@pytest.fixture
def client(sms_app):
    return sms_app.test_client()


def rendered(app, template: str, locale: str, **params) -> str:
    with app.test_request_context():
        return texts.render(template, locale, **params)


def sessions_of(app, phone: str) -> list[EmergencySession]:
    return rows(app, EmergencySession, EmergencySession.phone == phone)


PANIC = {  # what people in trouble text, with no keyword first
    "en": [
        "please help me!!! a man is trying to break in … I can't call because he will hear me",
        "Help 911", "need help now", "I need an ambulance", "🆘",
    ],
    "es": ["por favor ayúdame, hay alguien en la casa", "necesito una ambulancia ya"],
    "pl": ["NAGŁE! ktoś włamuje się do domu", "potrzebuję pomocy, pożar"],
    "zh_Hans": ["帮助我", "有人闯进我家，救命"],
    "ar": ["أحتاج مساعدة", "نجدة", "النجدة! شخص يحاول الدخول"],
}  # fmt: skip


@pytest.mark.parametrize(
    ("locale", "words"), [(loc, w) for loc, texts_ in PANIC.items() for w in texts_]
)
def test_a_panicked_text_from_a_resident_reaches_the_dispatchers(
    sms_app, client, make_user, locale, words
):
    user = make_user(locale=locale)
    status, reply = text(client, user.phone, words)
    assert status == 200
    assert reply == rendered(sms_app, "emergency_off_duty", locale)  # nobody on duty here
    [session] = sessions_of(sms_app, user.phone)
    assert session.locale == locale


@pytest.mark.parametrize(
    ("locale", "words"), [(loc, w) for loc, texts_ in PANIC.items() for w in texts_[:1]]
)
def test_a_panicked_text_from_an_unknown_number_is_answered_in_its_language(
    sms_app, client, locale, words
):
    phone = new_phone()
    _, reply = text(client, phone, words)
    expected = "en" if words == "🆘" else locale
    assert reply == rendered(sms_app, "emergency_off_duty", expected)
    assert len(sessions_of(sms_app, phone)) == 1


def test_a_second_panicked_text_joins_the_same_session(sms_app, client, make_user):
    user = make_user()
    text(client, user.phone, "please help me")
    text(client, user.phone, "he is at the back door, I need police")
    assert len(sessions_of(sms_app, user.phone)) == 1


UNREADABLE = [  # (text, the language it is written in)
    ("مرحبا، ما هذا؟", "ar"),
    ("你好，这是什么？", "zh_Hans"),
    ("Dzień dobry, co to za numer?", "pl"),
    ("hola, ¿qué es esto?", "es"),
    ("what is this number", "en"),
]


@pytest.mark.parametrize(("words", "locale"), UNREADABLE)
def test_a_text_we_cannot_read_starts_with_call_911_in_its_language(
    sms_app, client, make_user, words, locale
):
    expected = rendered(sms_app, "not_understood", locale)
    for phone in (new_phone(), make_user(locale="en").phone):  # from anyone
        status, reply = text(client, phone, words)
        assert status == 200 and reply == expected
    first_line = {"en": "If this is an emergency, call 911.", "es": "Si es una emergencia",
                  "pl": "Jeśli to nagły wypadek", "zh_Hans": "如遇紧急情况",
                  "ar": "في حالة الطوارئ"}  # fmt: skip
    assert reply.startswith(first_line[locale])


OPT_OUTS = {
    "en": ["STOP ALL", "OPT-OUT", "OPT OUT", "please stop", "stop texting me", "No stop"],
    "es": ["por favor, dejen de escribirme", "BAJA por favor", "alto"],
    "pl": ["proszę, wypisz mnie", "KONIEC"],
    "zh_Hans": ["取消", "请停止发送"],
    "ar": ["توقف من فضلك", "إلغاء"],
}


@pytest.mark.parametrize(
    ("locale", "words"), [(loc, w) for loc, words in OPT_OUTS.items() for w in words]
)
def test_everyday_ways_of_saying_stop_opt_out(sms_app, client, make_user, locale, words):
    user = make_user(locale=locale)
    _, reply = text(client, user.phone, words)
    assert reply == rendered(sms_app, "stop_confirmation", locale)
    with sms_app.app_context():
        ledger = db.session.scalars(
            select(ConsentRecord.granted).where(
                ConsentRecord.phone == user.phone, ConsentRecord.kind == "sms"
            )
        ).all()
    assert ledger == [False]


@pytest.mark.parametrize("locale", ["en", "es", "pl", "zh_Hans", "ar"])
def test_help_always_carries_the_disclosures_even_after_stop(sms_app, client, make_user, locale):
    help_word = {"en": "HELP", "es": "AYUDA", "pl": "POMOC", "zh_Hans": "帮助", "ar": "مساعدة"}
    stranger = new_phone()
    _, unknown = text(client, stranger, help_word[locale])
    assert unknown == rendered(sms_app, "help_unknown", locale)
    if locale == "en":
        for disclosure in ("Msg frequency varies", "Msg & data rates may apply", "HELP",
                           "STOP", "call 911"):  # fmt: skip
            assert disclosure in unknown
    user = make_user(locale=locale)
    text(client, user.phone, "STOP")
    _, registered = text(client, user.phone, help_word[locale])
    assert registered == rendered(sms_app, "help", locale)


def test_after_stop_commands_that_share_more_do_nothing_but_call_911_still_answers(
    sms_app, client, make_user
):
    user = make_user()
    text(client, user.phone, "STOP")
    for words in ("STATUS", "CONFIRM", "LANG es", "CAMERA ON"):
        assert text(client, user.phone, words) == (200, "")
    with sms_app.app_context():
        assert db.session.get(User, user.id).locale == "en"
    _, reply = text(client, user.phone, "what is this")
    assert reply == rendered(sms_app, "not_understood", "en")


def test_a_program_name_that_pushes_a_text_past_two_segments_stops_start_up(make_app):
    with pytest.raises(ConfigError, match=r"PROGRAM_NAME .* the text '\w+' in '\w+'"):
        make_app(PROGRAM_NAME="The City of Chicago Resident Safety Registry Program")
    assert make_app(PROGRAM_NAME="Chicago Safety").config["PROGRAM_NAME"] == "Chicago Safety"
