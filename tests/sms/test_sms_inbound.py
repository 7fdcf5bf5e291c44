"""The inbound webhook: signatures, storage before action, replays, and every command."""

from __future__ import annotations

from contextlib import contextmanager
from xml.etree import ElementTree

import pytest
from sqlalchemy import event, func, select
from sqlalchemy import text as text_sql

from webapp.extensions import db
from webapp.models import ConsentRecord, EmergencySession, InboundMessage, Profile, User
from webapp.sms import texts

from ..support.messages import (
    CAMERA_NONE,
    CONFIRMED,
    EMERGENCY,
    FOOTAGE_UNKNOWN,
    HELP,
    INCOMPLETE,
    NOT_UNDERSTOOD,
    STARTED,
    STATUS,
    STOPPED,
    UNKNOWN,
)
from ..support.profiles import fill_home
from ..support.twilio import BASE, TOKEN, signature, signed_post, sms_params, text
from ..support.web import reply_in, sign_in, submit, texts_to, translated


@pytest.fixture
def client(sms_app):
    return sms_app.test_client()


def stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(InboundMessage))


def test_the_reply_is_well_formed_twiml_with_its_words_escaped(sms_app, client):
    response = signed_post(client, "/sms/inbound", sms_params("+13125550142", "HELP"))

    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.get_data())  # noqa: S314  (our own reply)
    assert root.tag == "Response"
    [message] = root.findall("Message")
    assert "Msg & data rates may apply" in message.text
    assert b"Msg &amp; data" in response.get_data()
    with sms_app.app_context():
        assert message.text == texts.render("help_unknown", "en")


def test_a_stopped_number_gets_an_empty_twiml_reply_but_still_help(sms_app, client):
    text(client, "+13125550142", "STOP")
    assert "Msg frequency varies" in text(client, "+13125550142", "HELP")[1]  # (CTIA)
    response = signed_post(client, "/sms/inbound", sms_params("+13125550142", "STATUS"))

    root = ElementTree.fromstring(response.get_data())  # noqa: S314  (our own reply)
    assert (root.tag, list(root)) == ("Response", [])


# --- signatures -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["HELP", "¿Dónde está mi perfil? ñandú", "It's Bob's phone", "帮助 🙂", "مساعدة", "a+b=c&d"],
)
def test_signed_requests_are_accepted_whatever_the_body(sms_app, client, body):
    status, _ = text(client, "+13125550142", body)
    assert status == 200
    assert stored(sms_app) == 1


def test_the_url_with_its_query_string_is_what_is_signed(sms_app, client):
    params = sms_params("+13125550142", "HELP")
    ok = signed_post(client, "/sms/inbound?source=carrier&x=1", params,
                     url=BASE + "/sms/inbound?source=carrier&x=1")  # fmt: skip
    assert ok.status_code == 200
    stripped = signed_post(client, "/sms/inbound?source=carrier", sms_params("+1312555", "HELP"),
                           url=BASE + "/sms/inbound")  # fmt: skip
    assert stripped.status_code == 403


def test_a_signature_over_the_url_with_its_default_port_is_accepted(sms_app, client):
    """Twilio may sign https://host:443/...; the quick check (the URL as rebuilt) fails and
    Twilio's own variants still accept it."""
    params = sms_params("+13125550142", "HELP")
    with_port = BASE.replace(".gov", ".gov:443") + "/sms/inbound"
    assert signed_post(client, "/sms/inbound", params, url=with_port).status_code == 200
    assert stored(sms_app) == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}],
    ids=["missing", "wrong"],
)
def test_a_missing_or_wrong_signature_gets_403_and_stores_nothing(sms_app, client, headers):
    response = client.post("/sms/inbound", data=sms_params("+13125550142", "STOP"),
                           headers=headers)  # fmt: skip
    assert response.status_code == 403
    assert stored(sms_app) == 0
    with sms_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 0


def test_a_body_that_is_not_a_form_has_no_valid_signature(sms_app, client):
    params = sms_params("+13125550142", "HELP")
    headers = {"X-Twilio-Signature": signature("/sms/inbound", params)}
    response = client.post("/sms/inbound", json=params, headers=headers)
    assert response.status_code == 403
    assert stored(sms_app) == 0


def test_the_webhooks_answer_carries_the_security_headers_and_no_cookie(sms_app, client):
    response = signed_post(client, "/sms/inbound", sms_params("+13125550142", "HELP"))
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert len(response.headers["X-Request-ID"]) == 16
    assert "Set-Cookie" not in response.headers
    refused = client.post("/sms/inbound", data={"Body": "HELP"})  # no signature: the 403 page
    assert refused.mimetype == "text/html"
    assert "Content-Security-Policy" in refused.headers and "X-Frame-Options" in refused.headers


def test_a_signature_made_with_another_token_is_refused(sms_app, client):
    response = signed_post(client, "/sms/inbound", sms_params("+13125550142", "HELP"),
                           token="someone-elses-token")  # fmt: skip
    assert response.status_code == 403


def test_a_changed_body_breaks_the_signature(sms_app, client):
    params = sms_params("+13125550142", "HELP")
    headers = {"X-Twilio-Signature": signature("/sms/inbound", params)}
    params["Body"] = "STOP"
    response = client.post("/sms/inbound", data=params, headers=headers)
    assert response.status_code == 403


def forwarded_for(app, host: str):
    """A text through a proxy that says the request came for ``host``, signed (as Twilio
    would) over that host's URL."""
    params = sms_params("+13125550142", "HELP")
    return signed_post(
        app.test_client(), "/sms/inbound", params, url=f"https://{host}/sms/inbound",
        headers={"X-Forwarded-Host": host, "X-Forwarded-Proto": "https"},
    )  # fmt: skip


def test_forwarded_headers_are_ignored_without_trusted_proxies(make_app):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, APP_ENV="production")  # no PUBLIC_BASE_URL
    assert forwarded_for(app, "evil.example").status_code == 403


def test_behind_a_trusted_proxy_the_forwarded_url_is_used(make_app):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, TRUSTED_PROXIES=1)
    assert forwarded_for(app, "sms.city.gov").status_code == 200


def test_production_without_a_twilio_token_accepts_nothing(make_app):
    app = make_app(APP_ENV="production", PUBLIC_BASE_URL=BASE)
    response = signed_post(app.test_client(), "/sms/inbound", sms_params("+1312", "HELP"))
    assert response.status_code == 403


# --- storage and replays ------------------------------------------------------------------


def test_a_repeated_message_sid_gets_the_same_answer_and_changes_nothing(sms_app, client):
    first = text(client, "+13125550142", "STOP", sid="SM" + "a" * 32)
    again = text(client, "+13125550142", "STOP", sid="SM" + "a" * 32)
    assert first == again and first[0] == 200 and first[1]
    assert stored(sms_app) == 1
    with sms_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 1


def test_a_stop_by_text_writes_the_ledger_entry_the_service_writes(sms_app, client, make_user):
    """A STOP's or START's ledger entry is the one ``record_sms_consent`` writes, as the
    database holds it (and only the user's own number's, once)."""
    from webapp.sms.services import SMS_CONSENT_VERSION, record_sms_consent

    user = make_user()
    text(client, user.phone, "STOP")
    text(client, user.phone, "START")
    text(client, "+13125550177", "STOP")  # no account
    with sms_app.app_context():
        record_sms_consent(user.phone, False, channel="sms", user_id=user.id)
        record_sms_consent("+13125550177", False, channel="sms")
        db.session.commit()
        rows = db.session.execute(text_sql(
            "SELECT user_id, phone, kind, granted, version, channel, created_at "
            "FROM consent_records ORDER BY id"
        )).all()  # fmt: skip
        granted = db.session.scalars(select(ConsentRecord.granted).order_by(ConsentRecord.id))
        assert list(granted) == [False, True, False, False, False]
    by_text, by_service = rows[:3], rows[3:]
    stop, start, stranger = by_text
    assert stop[:6] == by_service[0][:6] and stranger[:6] == by_service[1][:6]
    assert (start[0], start[1], start[4], start[5]) == (user.id, user.phone, SMS_CONSENT_VERSION,
                                                        "sms")  # fmt: skip
    assert stranger[0] is None
    assert len({type(row[6]) for row in rows}) == 1  # dates as the database holds them
    assert len({len(str(row[6])) for row in rows}) == 1


@pytest.mark.parametrize("words", ["STOP", "START", "HELP"])
def test_texts_after_a_replay_get_their_real_answers(sms_app, client, tmp_path, words):
    """A replay leaves its connection as it found it: the texts after it, on whichever
    pooled connection, are answered for real (not "we could not process your message")."""
    sid = "SM" + "b" * 32
    first = text(client, "+13125550142", words, sid=sid)
    for _ in range(3):
        assert text(client, "+13125550142", words, sid=sid) == first
        assert text(client, "+13125550143", "HELP")[1] == texts_help_unknown(sms_app)
        assert text(client, "+13125550144", "STOP")[1].startswith(first_words(sms_app))
    assert stored(sms_app) == 7


def texts_help_unknown(app) -> str:
    with app.test_request_context():
        return texts.render("help_unknown", "en")


def first_words(app) -> str:
    with app.test_request_context():
        return texts.render("stop_confirmation", "en")[:20]


def test_texts_are_stored_encrypted_with_their_reply(sms_app, client):
    text(client, "+13125550142", "My gate code is 4321")
    with sms_app.app_context():
        message = db.session.scalar(select(InboundMessage))
        assert message.body == "My gate code is 4321" and message.reply
        assert message.command == "unknown" and message.processed_at is not None
        raw = db.session.execute(db.text("SELECT body FROM inbound_messages")).scalar()
        assert "4321" not in raw


# --- commands -------------------------------------------------------------------------------


@pytest.fixture
def resident_phone(sms_app, make_user):
    def build(locale="en"):
        return make_user(locale=locale)

    return build


KEYWORDS = {
    "en": {"help": "help", "status": "Status", "confirm": "CONFIRM", "camera_off": "camera off",
           "camera_on": "Camera on!", "yes": "yes 4821", "lang": "LANG es", "stop": "stop",
           "start": "START", "emergency": "911 there is a fire"},
    "es": {"help": "Ayuda", "status": "ESTADO", "confirm": "confirmar", "camera_off": "CÁMARA NO",
           "camera_on": "camara sí", "yes": "SÍ 4821", "lang": "idioma polski", "stop": "alto",
           "start": "iniciar", "emergency": "Emergencia"},
    "pl": {"help": "POMOC", "status": "stan", "confirm": "Potwierdź", "camera_off": "kamera nie",
           "camera_on": "KAMERA TAK", "yes": "tak 4821", "lang": "język english", "stop": "koniec",
           "start": "wznów", "emergency": "pomocy"},
    "zh_Hans": {"help": "帮助", "status": "状态", "confirm": "确认", "camera_off": "摄像头 关",
                "camera_on": "摄像头 开", "yes": "是 4821", "lang": "语言 español", "stop": "退订",
                "start": "开始", "emergency": "紧急"},
    "ar": {"help": "مساعدة", "status": "الحالة", "confirm": "تأكيد", "camera_off": "كاميرا لا",
           "camera_on": "كاميرا نعم", "yes": "نعم 4821", "lang": "اللغة 中文", "stop": "توقف",
           "start": "ابدأ", "emergency": "طوارئ"},
}  # fmt: skip


@pytest.mark.parametrize("locale", list(KEYWORDS))
def test_every_command_in_every_language(sms_app, client, make_user, locale):
    words = KEYWORDS[locale]
    user = make_user(locale=locale)

    def says(keyword, msgid):
        status, reply = text(client, user.phone, words[keyword])
        assert status == 200
        assert reply_in(locale, msgid) in reply, (keyword, reply)
        return reply

    says("help", HELP)
    says("confirm", INCOMPLETE)
    says("camera_off", CAMERA_NONE)  # no cameras registered yet (test_camera_sms.py: with)
    says("camera_on", CAMERA_NONE)
    # No footage request has code 4821 (test_footage.py answers real ones in every language).
    status, reply = text(client, user.phone, words["yes"])
    assert status == 200 and "4821" in reply
    if locale == "en":  # translations of the footage texts land later
        assert reply_in("en", FOOTAGE_UNKNOWN) in reply
    status_reply = says("status", STATUS)
    assert ("not started" if locale == "en" else translated(locale, "not started")) in status_reply
    says("stop", STOPPED)
    assert text(client, user.phone, words["status"])[1] == ""  # nothing after STOP but HELP
    says("start", STARTED)
    says("help", HELP)
    # LANG switches the account's language (and the replies' language) to another one.
    _, reply = text(client, user.phone, words["lang"])
    with sms_app.app_context():
        new_locale = db.session.get(User, user.id).locale
    assert new_locale != locale
    assert reply_in(new_locale, "%(program)s: we will write to you in English.") in reply
    with sms_app.app_context():
        ledger = db.session.scalars(
            select(ConsentRecord.granted).where(ConsentRecord.kind == "sms")
        ).all()
    assert ledger == [False, True]
    # The emergency keyword opens a session with the dispatchers, answered in the account's
    # language; from then on even a command is words for the dispatcher, with no reply.
    status, reply = text(client, user.phone, words["emergency"])
    with sms_app.app_context():
        session = db.session.scalar(select(EmergencySession))
        assert (session.phone, session.locale) == (user.phone, new_locale)
        assert status == 200 and reply == texts.render("emergency_off_duty", new_locale)
    assert text(client, user.phone, words["status"])[1] == ""


def test_confirm_by_text_calls_the_same_service_as_the_web(sms_app, client, make_user):
    user = make_user(locale="es")
    web = sms_app.test_client()
    sign_in(web, user.phone)
    fill_home(web)
    submit(web, "/profile/sharing", {"share_with_911": "y"})

    _, reply = text(client, user.phone, "CONFIRMAR")

    assert reply_in("es", CONFIRMED) in reply
    with sms_app.app_context():
        profile = db.session.scalar(select(Profile).where(Profile.user_id == user.id))
        assert profile.confirmed_at is not None
    assert (
        "Activo" in text(client, user.phone, "estado")[1]
        or "activo" in text(client, user.phone, "estado")[1]
    )


@contextmanager
def sent_to_the_database(app, monkeypatch):
    """Every statement that reaches the database meanwhile, as the driver sends it, with the
    COMMIT and ROLLBACK of each transaction."""
    import psycopg

    sent: list[str] = []
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":  # SQLite reports what it runs, BEGIN and COMMIT too

        def trace(dbapi_connection, record, proxy):
            dbapi_connection.set_trace_callback(sent.append)

        event.listen(engine, "checkout", trace)
        try:
            yield sent
        finally:
            event.remove(engine, "checkout", trace)
        return
    execute = psycopg.Cursor.execute
    ends = {name: getattr(psycopg.Connection, name) for name in ("commit", "rollback")}

    def sent_execute(cursor, query, *args, **kwargs):
        sent.append(str(query))
        return execute(cursor, query, *args, **kwargs)

    def sent_end(name):
        def end(connection):
            if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                sent.append(name.upper())
            return ends[name](connection)

        return end

    monkeypatch.setattr(psycopg.Cursor, "execute", sent_execute)
    for name in ends:
        monkeypatch.setattr(psycopg.Connection, name, sent_end(name))
    try:
        yield sent
    finally:
        monkeypatch.undo()


def test_status_reads_no_private_field_of_the_profile(sms_app, client, make_user, monkeypatch):
    """A STATUS needs the profile's state only: its notes and health fields are not read
    (nor decrypted) to answer it."""
    user = make_user()
    web = sms_app.test_client()
    sign_in(web, user.phone)
    fill_home(web, access_notes="Key under the mat", hazards="Oxygen tanks")
    submit(web, "/profile/sharing", {"share_with_911": "y"})
    text(client, user.phone, "CONFIRM")
    private = [c.name for c in Profile.__table__.columns if "Encrypted" in type(c.type).__name__]
    assert {"access_notes", "hazards", "notes"} <= set(private)

    with sent_to_the_database(sms_app, monkeypatch) as statements:
        _, reply = text(client, user.phone, "STATUS")

    assert "active" in reply
    read_profile = [s for s in statements if "profiles" in s]
    assert read_profile, statements
    assert not [c for c in private for s in read_profile if f"profiles.{c}" in s]


@pytest.mark.parametrize(
    "words", ["HELP", "STOP", "START", "STATUS", "CONFIRM", "CAMERA OFF", "LANG es", "hello"]
)
def test_each_text_is_one_transaction(sms_app, client, make_user, monkeypatch, words):
    """Stored, acted on and answered together: one COMMIT and nothing rolled back."""
    user = make_user()
    text(client, "+13125550179", "HELP")  # the pool's connection is made now
    with sent_to_the_database(sms_app, monkeypatch) as statements:
        status, reply = text(client, user.phone, words)
    assert status == 200 and reply
    verbs = [s.split(None, 1)[0].upper() for s in statements]
    assert verbs.count("COMMIT") == 1, verbs
    assert "ROLLBACK" not in verbs
    assert verbs.index("INSERT") < verbs.index("COMMIT")  # the text is stored inside it


def test_unknown_numbers_get_help_and_a_pointer_to_sign_up(sms_app, client):
    for body, locale in (("STATUS", "en"), ("ayuda", "es"), ("状态", "zh_Hans")):
        _, reply = text(client, "+13125550199", body)
        assert reply_in(locale, UNKNOWN) in reply
        assert "registry.example.gov" in reply
    _, reply = text(client, "+13125550199", "hello")
    assert reply_in("en", NOT_UNDERSTOOD) in reply


def test_anything_else_gets_a_short_help_reply(sms_app, client, make_user):
    user = make_user(locale="pl")
    assert reply_in("pl", NOT_UNDERSTOOD) in text(client, user.phone, "what is this?")[1]


def test_lang_with_an_unknown_language_lists_the_choices(sms_app, client, make_user):
    user = make_user()
    assert "Español" in text(client, user.phone, "LANG klingon")[1]


def test_emergency_words_are_answered_even_after_stop(sms_app, client, make_user):
    user = make_user()
    text(client, user.phone, "STOP")
    assert text(client, user.phone, "911 help")[1] == EMERGENCY % {"program": "Safety Registry"}
    with sms_app.app_context():
        assert db.session.scalar(select(EmergencySession)).phone == user.phone


def test_stop_is_written_to_the_ledger_and_suppresses_later_texts(sms_app, client, make_user):

    user = make_user()
    text(client, user.phone, "STOP")
    web = sms_app.test_client()
    submit(web, "/account/reset", {"phone": user.phone})  # would text a code
    assert [t.status for t in texts_to(sms_app, user.phone)] == ["suppressed"]
    with sms_app.app_context():
        entry = db.session.scalar(select(ConsentRecord).where(ConsentRecord.kind == "sms"))
        assert (entry.granted, entry.channel, entry.user_id) == (False, "sms", user.id)
