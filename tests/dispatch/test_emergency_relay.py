"""The emergency text relay: sessions opened by signed texts in every language, the instant
reply, texts that join, STOP, escalation with a controllable clock, dispatchers' actions,
recovery after a real database failure, and the audit trail."""

from __future__ import annotations

import subprocess
import sys
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask_babel import force_locale
from sqlalchemy import func, select

from webapp.config import ConfigError, Settings
from webapp.dispatch import relay
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    ConsentRecord,
    EmergencyMessage,
    EmergencySession,
    InboundMessage,
    OutboundMessage,
    Role,
    User,
)
from webapp.sms import texts

from ..support.db_faults import inserts_refused
from ..support.twilio import text as send
from ..support.twilio import twilio_config
from ..support.web import texts_to

SUPERVISORS = ("+13125550901", "+13125550902")

RECEIVED = "%(program)s: 911 dispatchers have your message. CALL 911 IF YOU CAN. If you cannot call, reply with your address and what is happening."  # noqa: E501
OFF_DUTY = "%(program)s: this line is not monitored right now. Do not wait for an answer: CALL 911 NOW. If you cannot speak, text 911 directly."  # noqa: E501
FAILED = "%(program)s: we could not pass your message to a dispatcher. CALL 911 NOW. If you cannot speak, text 911 directly."  # noqa: E501
UNANSWERED = "%(program)s: no dispatcher is answering your texts right now. Do not wait: CALL 911 NOW. If you cannot speak, text 911 directly."  # noqa: E501
ADDRESS = (
    "%(program)s, 911 dispatcher: what is your address? Street number, street, apartment and city."
)


def english(msgid: str, **params) -> str:
    return msgid % {"program": "Safety Registry", **params}


@pytest.fixture
def sms_app(make_app):
    return make_app(**twilio_config(SUPERVISOR_PHONES=",".join(SUPERVISORS)))


@pytest.fixture
def client(sms_app):
    return sms_app.test_client()


@pytest.fixture
def on_duty(sms_app, sign_in_as):
    """A dispatcher signed in (second factor passed) and on duty; returns the user's id."""

    def build() -> int:
        _, account = sign_in_as(Role.DISPATCHER)
        with sms_app.app_context():
            relay.set_duty(db.session.get(User, account.id), True)
        return account.id

    return build


def act(app, action, user_id: int, *args, **kwargs):
    """Run a relay service as the dispatcher ``user_id``, as the console's routes will."""
    with app.app_context():
        return action(db.session.get(User, user_id), *args, **kwargs)


def the_session(app, phone: str) -> EmergencySession:
    with app.app_context():
        session = db.session.scalar(
            select(EmergencySession).where(EmergencySession.phone == phone)
            .order_by(EmergencySession.id.desc())
        )  # fmt: skip
        assert session is not None, "no session"
        db.session.expunge(session)
        return session


def inbound_words(app, session_id: int) -> list[str]:
    with app.app_context():
        return [
            entry.message.body
            for entry in relay.thread(session_id)
            if entry.message.direction == "inbound"
        ]


def audit_actions(app) -> list[tuple[str, str | None, int | None, str | None]]:
    with app.app_context():
        return [
            (e.action, e.subject_type, e.subject_id, e.reason)
            for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if e.action.startswith("emergency.")
        ]


# --- opening a session ----------------------------------------------------------------------

KEYWORDS = {
    "en": "911 there is a fire",
    "es": "Emergencia, hay un incendio",
    "pl": "POMOCY pożar",
    "zh_Hans": "紧急 着火了",
    "ar": "طوارئ حريق",
}


@pytest.mark.parametrize("locale", list(KEYWORDS))
def test_an_emergency_keyword_opens_a_session_answered_in_its_language(
    sms_app, client, on_duty, locale
):
    on_duty()
    phone = "+13125550142"

    status, reply = send(client, phone, KEYWORDS[locale])

    assert status == 200
    session = the_session(sms_app, phone)
    assert (session.locale, session.status) == (locale, "open")
    assert inbound_words(sms_app, session.id) == [KEYWORDS[locale]]  # as written, not parsed
    with sms_app.app_context():
        assert reply == texts.render("emergency_received", locale)
        stored = db.session.scalar(select(InboundMessage))
        assert stored.command == "emergency" and stored.reply == reply
    if locale == "en":
        assert reply == english(RECEIVED)
    else:
        assert reply != english(RECEIVED)  # really translated (fails until the catalogs are)


def test_texts_arriving_together_open_one_session(sms_app):
    """Six texts from one number at the same moment, each in its own request and database
    connection: one session holds all six (each answered: nobody has claimed it yet)."""
    start = threading.Barrier(6)
    replies = []

    def text_now(i: int) -> None:
        client = sms_app.test_client()
        start.wait()
        replies.append(send(client, "+13125550142", f"911 text {i}"))

    threads = [threading.Thread(target=text_now, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(status for status, _ in replies) == [200] * 6
    assert [reply for _, reply in replies] == [english(OFF_DUTY)] * 6
    session = the_session(sms_app, "+13125550142")
    assert sorted(inbound_words(sms_app, session.id)) == [f"911 text {i}" for i in range(6)]
    with sms_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EmergencySession)) == 1


@contextmanager
def both_cores_busy():
    """Two processes that spin for as long as the block lasts: a busy machine."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def test_a_burst_on_a_busy_machine_gets_only_normal_replies(make_app, tmp_path):
    """A mass incident: 10 numbers text an emergency word at once, and one number sends 6
    texts at once, while both cores are busy. The database is up, so every texter gets the
    normal reply (never "we could not pass your message"): 16 texts stored, 11 sessions,
    nothing spooled. (``make bench-sms`` runs the same burst at 56 texts under gunicorn.)"""
    spool = tmp_path / "spool"
    app = make_app(**twilio_config(SMS_SPOOL_DIR=str(spool)))
    senders = [f"+1312555{n:04d}" for n in range(300, 310)] + ["+13125550142"] * 6
    start = threading.Barrier(len(senders))
    replies: list[tuple[int, str]] = []

    def text_now(i: int, phone: str) -> None:
        client = app.test_client()
        start.wait()
        replies.append(send(client, phone, f"SOS help me {i}"))

    threads = [threading.Thread(target=text_now, args=(i, p)) for i, p in enumerate(senders)]
    with both_cores_busy():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert [status for status, _ in replies] == [200] * len(senders)
    assert [reply for _, reply in replies] == [english(OFF_DUTY)] * len(senders)
    assert list(spool.glob("*.json")) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 16
        assert db.session.scalar(select(func.count()).select_from(EmergencySession)) == 11


def test_with_nobody_on_duty_the_texter_is_told_to_call_911(sms_app, client):
    _, reply = send(client, "+13125550142", "EMERGENCY my husband collapsed")
    assert reply == english(OFF_DUTY)
    session = the_session(sms_app, "+13125550142")
    assert session.status == "open"  # kept all the same: a dispatcher coming on duty sees it
    with sms_app.app_context():
        shown = [e.message for e in relay.thread(session.id)]
    assert [m.direction for m in shown] == ["inbound", "system"]
    assert shown[1].body == english(OFF_DUTY)  # the dispatcher sees what the texter was told


def test_the_texter_s_account_language_wins(sms_app, client, make_user):
    resident = make_user(locale="pl")
    send(client, resident.phone, "911")
    session = the_session(sms_app, resident.phone)
    assert (session.locale, session.user_id) == ("pl", resident.id)


def test_on_duty_means_signed_in_past_the_second_factor_and_seen_within_5_minutes(
    sms_app, make_user, sign_in_as, on_duty
):
    now = datetime.now(UTC)
    with sms_app.app_context():
        assert relay.dispatchers_on_duty(now) == 0
    _, signed_in_only = sign_in_as(Role.DISPATCHER)  # not on duty
    never_signed_in = make_user(Role.DISPATCHER)
    with sms_app.app_context():
        relay.set_duty(db.session.get(User, never_signed_in.id), True)
        assert relay.dispatchers_on_duty(now) == 0
    dispatcher = on_duty()
    with sms_app.app_context():
        assert relay.dispatchers_on_duty(now) == 1
        assert relay.dispatchers_on_duty(now + timedelta(minutes=4)) == 1
        assert relay.dispatchers_on_duty(now + timedelta(minutes=6)) == 0  # the console is gone
        user = db.session.get(User, dispatcher)
        user.disabled_at = now
        db.session.commit()
        assert relay.dispatchers_on_duty(now) == 0
        with pytest.raises(relay.NotADispatcher):
            relay.set_duty(db.session.get(User, make_user(Role.OFFICER).id), True)
    assert signed_in_only.id != dispatcher


# --- texts that follow ----------------------------------------------------------------------


def test_every_later_text_joins_the_session_without_a_reply(sms_app, client, make_user):
    resident = make_user()
    send(client, resident.phone, "911")
    later = ["I am at 12 Main St, apt 3", "HELP", "STATUS", "YES", "lang es"]

    replies = [send(client, resident.phone, words)[1] for words in later]

    assert replies == [""] * len(later)  # a phone in a dangerous place does not buzz for nothing
    session = the_session(sms_app, resident.phone)
    assert inbound_words(sms_app, session.id) == ["911", *later]
    with sms_app.app_context():
        commands = db.session.scalars(select(InboundMessage.command).order_by(InboundMessage.id))
        assert list(commands) == ["emergency", "relay", "relay", "relay", "relay", "relay"]
        assert db.session.get(User, resident.id).locale == "en"  # LANG was words, not a command
        sms_consent = select(func.count()).where(ConsentRecord.kind == "sms")
        assert db.session.scalar(sms_consent) == 0  # YES was an answer, not START
        assert db.session.scalar(select(func.count()).select_from(EmergencySession)) == 1


def test_a_new_plea_is_answered_while_nobody_has_claimed_the_session(
    sms_app, client, make_user, on_duty
):
    resident = make_user()
    send(client, resident.phone, "911")
    # Nobody is talking with them: an emergency keyword again gets the instant reply again.
    assert send(client, resident.phone, "911 please hurry")[1] == english(OFF_DUTY)
    dispatcher = on_duty()
    session = the_session(sms_app, resident.phone)
    act(sms_app, relay.claim, dispatcher, session.id)
    # Once a dispatcher answers, it is one more text for them.
    assert send(client, resident.phone, "SOS")[1] == ""
    assert inbound_words(sms_app, session.id) == ["911", "911 please hurry", "SOS"]


def test_a_session_left_unclaimed_lapses_an_hour_after_its_escalation(sms_app, client):
    send(client, "+13125550142", "911")
    session = the_session(sms_app, "+13125550142")
    escalated = session.opened_at + timedelta(seconds=61)
    run_cli(sms_app, "emergency", "escalate", at=escalated)
    send(client, "+13125550142", "still here")  # the texter's last text, 30 minutes later
    with sms_app.app_context():
        s = db.session.get(EmergencySession, session.id)
        s.last_message_at = escalated + timedelta(minutes=30)
        db.session.commit()

    output = run_cli(sms_app, "emergency", "escalate", at=escalated + timedelta(minutes=80))
    assert "0 lapsed" in output  # not an hour since the last text
    output = run_cli(sms_app, "emergency", "escalate", at=escalated + timedelta(minutes=91))

    assert "1 lapsed" in output
    lapsed = the_session(sms_app, "+13125550142")
    assert (lapsed.status, lapsed.outcome) == ("closed", "lapsed")
    assert ("emergency.lapsed", "emergency_session", session.id, None) in audit_actions(sms_app)
    # The number's texts are commands again; a new emergency text opens a new session.
    assert "sign up" in send(client, "+13125550142", "HELP")[1]
    assert send(client, "+13125550142", "911")[1] == english(OFF_DUTY)
    assert the_session(sms_app, "+13125550142").id != session.id


def test_after_the_session_closes_texts_are_commands_again(sms_app, client, make_user, on_duty):
    dispatcher = on_duty()
    resident = make_user()
    send(client, resident.phone, "911")
    session = the_session(sms_app, resident.phone)
    act(sms_app, relay.claim, dispatcher, session.id)
    act(sms_app, relay.close, dispatcher, session.id, "help_sent")

    assert "Commands:" in send(client, resident.phone, "HELP")[1]
    assert send(client, resident.phone, "911 again")[1] == english(RECEIVED)
    assert the_session(sms_app, resident.phone).id != session.id  # a new session


def test_stop_inside_a_session_keeps_its_meaning_and_the_dispatcher_sees_it(
    sms_app, client, make_user, on_duty
):
    dispatcher = on_duty()
    resident = make_user()
    send(client, resident.phone, "911 he is here")
    session = the_session(sms_app, resident.phone)

    _, reply = send(client, resident.phone, "STOP")

    assert "no more texts" in reply  # carriers require STOP to work
    with sms_app.app_context():
        ledger = db.session.scalars(select(ConsentRecord.granted).where(
            ConsentRecord.kind == "sms")).all()  # fmt: skip
        assert ledger == [False]
        (row,) = relay.live_sessions()
        assert row.texter_stopped
    assert inbound_words(sms_app, session.id) == ["911 he is here", "STOP"]
    # Still relayed after it, and the dispatcher can still answer (README: STOP and 911).
    assert send(client, resident.phone, "help")[1] == ""
    act(sms_app, relay.claim, dispatcher, session.id)
    act(sms_app, relay.reply, dispatcher, session.id, "Are you able to talk?")
    assert [t.status for t in texts_to(sms_app, resident.phone)] == ["outbox"]


def test_a_number_that_said_stop_still_reaches_the_relay(sms_app, client, make_user, on_duty):
    dispatcher = on_duty()
    resident = make_user()
    send(client, resident.phone, "STOP")

    assert send(client, resident.phone, "911 I fell")[1] == english(RECEIVED)
    assert send(client, resident.phone, "cannot get up")[1] == ""

    session = the_session(sms_app, resident.phone)
    assert inbound_words(sms_app, session.id) == ["911 I fell", "cannot get up"]
    act(sms_app, relay.claim, dispatcher, session.id)
    act(sms_app, relay.quick_reply, dispatcher, session.id, "help_coming")
    (sent,) = texts_to(sms_app, resident.phone)
    assert (sent.template, sent.status) == ("emergency_help_coming", "outbox")


# --- escalation -----------------------------------------------------------------------------


def run_cli(app, *args: str, at: datetime | None = None) -> str:
    with time_machine.travel(at or datetime.now(UTC), tick=False):
        result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def worker_round(app, at: datetime | None = None) -> None:
    """One round of ``flask sms worker`` (at ``at``)."""
    from webapp.jobs import run

    with time_machine.travel(at or datetime.now(UTC), tick=False), app.app_context():
        run(once=True)


def test_an_unclaimed_session_is_escalated_once(sms_app, client, make_user):
    resident = make_user(locale="es")
    send(client, resident.phone, "EMERGENCIA mi padre no respira")
    session = the_session(sms_app, resident.phone)

    run_cli(sms_app, "emergency", "escalate", at=session.opened_at + timedelta(seconds=59))
    assert texts_to(sms_app, resident.phone) == []

    output = run_cli(sms_app, "emergency", "escalate", at=session.opened_at + timedelta(seconds=61))

    assert "Escalated 1" in output
    (advice,) = texts_to(sms_app, resident.phone)
    with sms_app.app_context():
        assert (advice.template, advice.locale) == ("emergency_unanswered", "es")
        assert advice.body == texts.render("emergency_unanswered", "es")  # the texter's language
    for phone in SUPERVISORS:
        (alert,) = texts_to(sms_app, phone)
        assert alert.template == "emergency_supervisor_alert"
        assert f"#{session.id}" in alert.body and "61 seconds" in alert.body
        assert "padre" not in alert.body and resident.phone not in alert.body
    assert the_session(sms_app, resident.phone).escalated_at is not None
    # Idempotent: later runs, by the command or the worker, send nothing more.
    run_cli(sms_app, "emergency", "escalate", at=session.opened_at + timedelta(minutes=5))
    worker_round(sms_app, at=session.opened_at + timedelta(minutes=6))
    assert len(texts_to(sms_app, resident.phone)) == 1
    assert [len(texts_to(sms_app, p)) for p in SUPERVISORS] == [1, 1]
    assert [a[:3] for a in audit_actions(sms_app)] == [
        ("emergency.escalated", "emergency_session", session.id)
    ]


def test_the_worker_loop_escalates(sms_app, client):
    send(client, "+13125550142", "SOS")
    session = the_session(sms_app, "+13125550142")
    worker_round(sms_app, at=session.opened_at + timedelta(seconds=90))
    (advice,) = texts_to(sms_app, "+13125550142")
    assert (advice.template, advice.body) == ("emergency_unanswered", english(UNANSWERED))


def test_a_claimed_session_is_not_escalated(sms_app, client, on_duty):
    dispatcher = on_duty()
    send(client, "+13125550142", "911")
    session = the_session(sms_app, "+13125550142")
    act(sms_app, relay.claim, dispatcher, session.id)
    assert "Escalated 0" in run_cli(sms_app, "emergency", "escalate",
                                    at=datetime.now(UTC) + timedelta(seconds=90))  # fmt: skip
    assert texts_to(sms_app, "+13125550142") == []


def test_the_claim_timeout_is_a_setting(make_app, make_user):
    app = make_app(**twilio_config(EMERGENCY_CLAIM_TIMEOUT=30))
    send(app.test_client(), "+13125550142", "911")
    session = the_session(app, "+13125550142")
    assert "Escalated 1" in run_cli(app, "emergency", "escalate",
                                    at=session.opened_at + timedelta(seconds=31))  # fmt: skip
    assert [t.template for t in texts_to(app, "+13125550142")] == ["emergency_unanswered"]


def test_a_session_whose_dispatcher_left_goes_back_to_the_queue(sms_app, client, on_duty):
    dispatcher = on_duty()
    send(client, "+13125550142", "911")
    session = the_session(sms_app, "+13125550142")
    act(sms_app, relay.claim, dispatcher, session.id)

    # Four minutes without a request: still at the console. Six: gone.
    run_cli(sms_app, "emergency", "escalate", at=datetime.now(UTC) + timedelta(minutes=4))
    assert the_session(sms_app, "+13125550142").status == "claimed"
    output = run_cli(sms_app, "emergency", "escalate", at=datetime.now(UTC) + timedelta(minutes=6))

    assert "released 1" in output
    released = the_session(sms_app, "+13125550142")
    assert (released.status, released.claimed_by_id) == ("open", None)
    assert [t.template for t in texts_to(sms_app, "+13125550142")] == ["emergency_unanswered"]
    for phone in SUPERVISORS:
        assert [t.template for t in texts_to(sms_app, phone)] == ["emergency_supervisor_released"]
    assert ("emergency.released", "emergency_session", session.id, f"from user {dispatcher}") in (
        audit_actions(sms_app)
    )


@pytest.mark.parametrize(
    ("value", "ok"),
    [("", True), ("+13125550100", True), ("+13125550100, +48601234567", True),
     ("3125550100", False), ("+1 312 555 0100", False), ("+1312", False)],
)  # fmt: skip
def test_supervisor_phones_are_validated(value, ok):
    values = {"APP_ENV": "testing", "SUPERVISOR_PHONES": value}
    if ok:
        Settings.build(values)
    else:
        with pytest.raises(ConfigError, match="SUPERVISOR_PHONES"):
            Settings.build(values)


@pytest.mark.parametrize("seconds", ["5", "901", "soon"])
def test_the_claim_timeout_is_validated(seconds):
    with pytest.raises(ConfigError, match="EMERGENCY_CLAIM_TIMEOUT"):
        Settings.build({"APP_ENV": "testing", "EMERGENCY_CLAIM_TIMEOUT": seconds})


# --- the dispatcher's side ------------------------------------------------------------------


def test_the_queue_lists_live_sessions_longest_waiting_first(sms_app, client, make_user, on_duty):
    dispatcher = on_duty()
    first, second, closed = make_user(locale="ar"), make_user(), make_user()
    for resident in (first, second, closed):
        send(client, resident.phone, "911")
    send(client, first.phone, "I am hiding")
    done = the_session(sms_app, closed.phone)
    act(sms_app, relay.claim, dispatcher, done.id)
    act(sms_app, relay.close, dispatcher, done.id, "not_emergency")
    act(sms_app, relay.claim, dispatcher, the_session(sms_app, second.phone).id)

    with sms_app.app_context():
        rows = relay.live_sessions()
    assert [(r.phone, r.status, r.locale, r.unread, r.claimed_by_id) for r in rows] == [
        (first.phone, "open", "ar", 2, None),
        (second.phone, "claimed", "en", 1, dispatcher),
    ]
    assert rows[0].has_account and not rows[0].texter_stopped
    assert rows[0].waiting_seconds(rows[0].opened_at + timedelta(seconds=42)) == 42

    assert act(sms_app, relay.mark_read, dispatcher, rows[0].id) == 2
    with sms_app.app_context():
        assert [r.unread for r in relay.live_sessions()] == [0, 1]
        with pytest.raises(relay.NotFound):
            relay.get_session(99_999)


def test_replies_go_out_through_the_outbox_in_the_texter_s_language(
    sms_app, client, make_user, on_duty
):
    dispatcher = on_duty()
    resident = make_user(locale="es")
    send(client, resident.phone, "emergencia")
    session = the_session(sms_app, resident.phone)
    act(sms_app, relay.claim, dispatcher, session.id)

    act(sms_app, relay.reply, dispatcher, session.id, "  ¿Hay alguien herido?\n ")
    act(sms_app, relay.quick_reply, dispatcher, session.id, "address")

    free, quick = texts_to(sms_app, resident.phone)
    assert (free.template, free.locale, free.body) == ("emergency_reply", "es",
                                                       "¿Hay alguien herido?")  # fmt: skip
    with sms_app.app_context():
        assert (quick.template, quick.locale) == ("emergency_ask_address", "es")
        assert quick.body == texts.render("emergency_ask_address", "es")
        with force_locale("en"):
            assert texts.render("emergency_ask_address", "en") == english(ADDRESS)
        outbound = [e for e in relay.thread(session.id) if e.message.direction == "outbound"]
        assert [(e.message.body, e.message.author_id, e.delivery) for e in outbound] == [
            ("¿Hay alguien herido?", dispatcher, "outbox"),
            (quick.body, dispatcher, "outbox"),
        ]
        ids = {e.message.outbound_message_id for e in outbound}
        assert ids == set(db.session.scalars(select(OutboundMessage.id)))


def test_reply_errors(sms_app, client, on_duty):
    dispatcher = on_duty()
    send(client, "+13125550142", "911")
    session = the_session(sms_app, "+13125550142")
    with pytest.raises(relay.NotYours):  # claim it first
        act(sms_app, relay.reply, dispatcher, session.id, "hello")
    act(sms_app, relay.claim, dispatcher, session.id)
    for words, error in (("  \n", relay.ReplyEmpty), ("x" * 641, relay.ReplyTooLong)):
        with pytest.raises(error):
            act(sms_app, relay.reply, dispatcher, session.id, words)
    with pytest.raises(relay.UnknownQuickReply):
        act(sms_app, relay.quick_reply, dispatcher, session.id, "goodbye")
    act(sms_app, relay.reply, dispatcher, session.id, "x" * 640)
    act(sms_app, relay.close, dispatcher, session.id, "other")
    with pytest.raises(relay.AlreadyClosed):
        act(sms_app, relay.reply, dispatcher, session.id, "still there?")
    assert len(texts_to(sms_app, "+13125550142")) == 1


def test_claim_transfer_and_close_rules(sms_app, client, make_user, sign_in_as, on_duty):
    alice, bob = on_duty(), on_duty()
    _, away = sign_in_as(Role.DISPATCHER)  # signed in, not on duty
    resident = make_user(Role.RESIDENT)
    send(client, "+13125550142", "911")
    session = the_session(sms_app, "+13125550142").id

    with pytest.raises(relay.NotADispatcher):
        act(sms_app, relay.claim, resident.id, session)
    with pytest.raises(relay.NotOnDuty):
        act(sms_app, relay.claim, away.id, session)
    with pytest.raises(relay.NotYours):
        act(sms_app, relay.close, alice, session, "help_sent")  # not claimed yet
    act(sms_app, relay.claim, alice, session)
    act(sms_app, relay.claim, alice, session)  # again: nothing changes
    with pytest.raises(relay.AlreadyClaimed):
        act(sms_app, relay.claim, bob, session)
    with pytest.raises(relay.NotYours):
        act(sms_app, relay.transfer, bob, session, alice)
    for target in (away.id, alice, resident.id, 99_999):  # off duty, self, not one, nobody
        with pytest.raises(relay.DispatcherUnavailable):
            act(sms_app, relay.transfer, alice, session, target)
    with pytest.raises(relay.StillAnswering):
        act(sms_app, relay.set_duty, alice, False)

    act(sms_app, relay.transfer, alice, session, bob)

    assert the_session(sms_app, "+13125550142").claimed_by_id == bob
    with pytest.raises(relay.NotYours):
        act(sms_app, relay.reply, alice, session, "hello")
    act(sms_app, relay.set_duty, alice, False)  # holds nothing now
    with pytest.raises(relay.UnknownOutcome):
        act(sms_app, relay.close, bob, session, "solved")
    act(sms_app, relay.close, bob, session, "transferred_to_911")
    closed = the_session(sms_app, "+13125550142")
    assert (closed.status, closed.outcome) == ("closed", "transferred_to_911")
    for action, args in ((relay.close, ("help_sent",)), (relay.claim, ())):
        with pytest.raises(relay.AlreadyClosed):
            act(sms_app, action, bob, session, *args)


def test_every_dispatcher_action_is_audited_without_words(sms_app, client, on_duty):
    alice, bob = on_duty(), on_duty()
    send(client, "+13125550142", "911 secret words")
    session = the_session(sms_app, "+13125550142").id
    act(sms_app, relay.mark_read, alice, session)
    act(sms_app, relay.claim, alice, session)
    act(sms_app, relay.reply, alice, session, "more secret words")
    act(sms_app, relay.quick_reply, alice, session, "safe")
    act(sms_app, relay.transfer, alice, session, bob)
    act(sms_app, relay.close, bob, session, "help_sent")
    act(sms_app, relay.set_duty, bob, False)

    events = audit_actions(sms_app)
    assert [(e[0], e[3]) for e in events] == [
        ("emergency.duty_on", None),
        ("emergency.duty_on", None),
        ("emergency.read", None),
        ("emergency.claimed", None),
        ("emergency.replied", None),
        ("emergency.quick_reply", "safe"),
        ("emergency.transferred", f"to user {bob}"),
        ("emergency.closed", "help_sent"),
        ("emergency.duty_off", None),
    ]
    with sms_app.app_context():
        actors = db.session.scalars(
            select(AuditEvent.actor_id).where(AuditEvent.action.like("emergency.%"))
            .order_by(AuditEvent.id)
        ).all()  # fmt: skip
        assert actors == [alice, bob, alice, alice, alice, alice, alice, bob, bob]
        everything = " ".join(str(e) for e in events)
        assert "secret" not in everything and "+1312" not in everything


# --- failures -------------------------------------------------------------------------------


def session_messages_refused(app):
    """A real failure of the database, after the text is stored: inserts into
    emergency_messages are refused by a trigger until the block ends."""
    return inserts_refused(app, "emergency_messages")


def test_a_session_survives_a_failure_after_storage(sms_app, client, make_user, on_duty, caplog):
    on_duty()
    resident = make_user(locale="es")
    with session_messages_refused(sms_app):
        status, reply = send(client, resident.phone, "EMERGENCIA incendio en Calle Elm 5")
        _, follow_up = send(client, resident.phone, "segundo piso")  # no session to join

    assert status == 200
    with sms_app.app_context():
        assert reply == texts.render("emergency_failed", "es")  # still told: call 911
        assert follow_up == texts.render("not_understood", "es")
        stored = db.session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        assert [m.body for m in stored] == ["EMERGENCIA incendio en Calle Elm 5", "segundo piso"]
        assert stored[0].command == "emergency"
        assert db.session.scalar(select(func.count()).select_from(EmergencySession)) == 0
        received_at = stored[0].received_at
    assert "could not be filed" in caplog.text
    assert "incendio" not in caplog.text and resident.phone not in caplog.text

    output = run_cli(sms_app, "emergency", "recover")

    assert "Recovered 2" in output  # the follow-up too: it was meant for the dispatcher
    session = the_session(sms_app, resident.phone)
    assert (session.status, session.locale, session.opened_at) == ("open", "es", received_at)
    assert inbound_words(sms_app, session.id) == ["EMERGENCIA incendio en Calle Elm 5",
                                                  "segundo piso"]  # fmt: skip
    assert "Recovered 0" in run_cli(sms_app, "emergency", "recover")  # idempotent
    # It waited unseen since the text came: escalation follows at once.
    run_cli(sms_app, "emergency", "escalate", at=received_at + timedelta(seconds=61))
    assert [t.template for t in texts_to(sms_app, resident.phone)] == ["emergency_unanswered"]
    assert ("emergency.recovered", "emergency_session", session.id, "2 texts") in (
        audit_actions(sms_app)
    )


def test_a_joining_text_that_fails_is_recovered_into_its_session(sms_app, client, make_user):
    resident = make_user()
    send(client, resident.phone, "911")
    with session_messages_refused(sms_app):
        _, reply = send(client, resident.phone, "the door code is 4321")
    assert reply == english(FAILED)  # the one joining text that is answered

    worker_round(sms_app)  # the worker recovers too

    session = the_session(sms_app, resident.phone)
    assert inbound_words(sms_app, session.id) == ["911", "the door code is 4321"]
    with sms_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EmergencySession)) == 1


def test_a_text_whose_request_died_is_recovered(sms_app, make_user):
    """A request that died between storing the text and acting on it (a crash, a kill)."""
    resident = make_user()
    arrived = datetime.now(UTC) - timedelta(minutes=2)
    with sms_app.app_context():
        for sid, words in (("SMdied1", "911 intruder"), ("SMdied2", "ordinary words")):
            db.session.add(InboundMessage(message_sid=sid, from_number=resident.phone,
                                          body=words, received_at=arrived))  # fmt: skip
        other = make_user()
        db.session.add(InboundMessage(message_sid="SMdied3", from_number=other.phone,
                                      body="STATUS", received_at=arrived))  # fmt: skip
        db.session.commit()

    assert "Recovered 2" in run_cli(sms_app, "emergency", "recover")

    session = the_session(sms_app, resident.phone)
    assert inbound_words(sms_app, session.id) == ["911 intruder", "ordinary words"]
    with sms_app.app_context():
        inbound = select(func.count()).where(EmergencyMessage.direction == "inbound")
        assert db.session.scalar(inbound) == 2  # not the other number's STATUS
        died = db.session.scalar(
            select(InboundMessage).where(InboundMessage.message_sid == "SMdied1")
        )
        assert died.command == "emergency" and died.processed_at is not None


def test_an_emergency_text_is_answered_safely_whatever_breaks(make_app, tmp_path):
    """The database is unreachable: the text is spooled and the reply still says call 911."""
    down = make_app(**twilio_config(DATABASE_URL=f"sqlite:///{tmp_path}/no/such/db.sqlite3",
                                    SMS_SPOOL_DIR=str(tmp_path / "spool")))  # fmt: skip
    status, reply = send(down.test_client(), "+13125550142", "911 help")
    assert status == 200 and reply == english(FAILED)
    assert len(list((tmp_path / "spool").glob("*.json"))) == 1
