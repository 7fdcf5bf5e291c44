"""A database outage: the webhook still answers safely, spools the text, and the spool is
imported exactly once when the database is back."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from webapp.extensions import db
from webapp.models import ConsentRecord, InboundMessage, Profile

from ..support.database import PG_URL, sms_consent
from ..support.db_faults import inserts_refused
from ..support.profiles import HOME, fill_home
from ..support.twilio import sms_params, text, twilio_config
from ..support.web import reply_in, sign_in, submit, texts_to


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["postgresql", "sqlite"])
def unreachable_database(request, tmp_path) -> str:
    """A database that is really not there: a server nobody listens for, or a file that
    cannot be opened."""
    if request.param == "postgresql":
        return f"postgresql://postgres@127.0.0.1:{closed_port()}/test"
    return f"sqlite:///{tmp_path}/no/such/dir/db.sqlite3"


def test_an_outage_spools_the_text_and_the_import_acts_on_it_once(
    make_app, make_user, tmp_path, unreachable_database, caplog
):
    spool = tmp_path / "spool"
    user = make_user(locale="es")
    down = make_app(**twilio_config(DATABASE_URL=unreachable_database, SMS_SPOOL_DIR=str(spool)))
    sid = "SM" + "b" * 32

    status, reply = text(down.test_client(), user.phone, "ALTO", sid=sid)

    assert status == 200
    assert "911" in reply  # the safe reply, in the language of the keyword
    assert (
        reply_in("es", "%(program)s: we could not process your message. In an emergency, call 911.")
        in reply
    )
    files = list(spool.glob("*.json"))
    assert [f.name for f in files] == [f"{sid}.json"]
    # The log says which text was spooled and why (the error's class and the driver's first
    # line), never its words or its number.
    spooled = [r for r in caplog.records if "spooled" in r.getMessage()]
    assert [r.levelname for r in spooled] == ["ERROR"]
    said = f"text {sid} could not be handled now; spooled (OperationalError: "
    assert spooled[0].getMessage().startswith(said)
    assert user.phone not in caplog.text and "ALTO" not in caplog.text
    assert json.loads(files[0].read_text())["form"]["Body"] == "ALTO"

    # Twilio retried during the outage: the same message is spooled once more.
    text(down.test_client(), user.phone, "ALTO", sid=sid)
    assert len(list(spool.glob("*.json"))) == 1

    up = make_app(**twilio_config(SMS_SPOOL_DIR=str(spool)))
    result = up.test_cli_runner().invoke(args=["sms", "import-spool"])
    assert result.exit_code == 0, result.output
    assert "Imported 1" in result.output
    assert list(spool.glob("*.json")) == []
    with up.app_context():
        message = db.session.scalar(select(InboundMessage))
        assert (message.message_sid, message.source, message.command) == (sid, "spool", "stop")
        consent = db.session.scalar(select(ConsentRecord).where(ConsentRecord.kind == "sms"))
        assert consent.granted is False  # the STOP sent during the outage is honoured
    # The real answer goes out as a text: the STOP confirmation, nothing else.
    assert [t.template for t in texts_to(up, user.phone)] == ["stop_confirmation"]

    # Importing again, or the same text arriving again, changes nothing.
    (spool / f"{sid}.json").write_text(json.dumps({"form": sms_params(user.phone, "ALTO", sid)}))
    again = up.test_cli_runner().invoke(args=["sms", "import-spool"])
    assert "Imported 0" in again.output
    assert text(up.test_client(), user.phone, "ALTO", sid=sid)[0] == 200
    with up.app_context():
        assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 1
    assert len(texts_to(up, user.phone)) == 1


def engine_options(tmp_path, url: str, **settings) -> dict:
    from webapp.config import Settings

    values = {"APP_ENV": "development", "DATABASE_URL": url, **settings}
    return Settings.from_env(values).flask_config(str(tmp_path))["SQLALCHEMY_ENGINE_OPTIONS"]


def test_database_work_has_one_deadline_and_a_gone_server_is_found_sooner(tmp_path):
    options = engine_options(tmp_path, "postgresql://db/x", DATABASE_TIMEOUT="6")
    assert options["pool_pre_ping"] is True and options["pool_timeout"] == 6
    connect = options["connect_args"]
    assert connect["options"] == "-c statement_timeout=6000"
    assert connect["connect_timeout"] < 6 and connect["tcp_user_timeout"] < 6000
    assert engine_options(tmp_path, "sqlite:///x.db")["connect_args"] == {"timeout": 8}


def test_server_options_in_the_database_url_are_kept_and_win(tmp_path):
    url = "postgresql://db/x?options=-c%20search_path%3Dregistry%20-c%20statement_timeout%3D5000"
    assert engine_options(tmp_path, url)["connect_args"]["options"] == (
        "-c statement_timeout=8000 -c search_path=registry -c statement_timeout=5000"
    )


@contextmanager
def texts_table_locked(app, seconds: float):
    """Another writer holds, for ``seconds``, a lock that every new text must wait for: on
    PostgreSQL a lock on the texts' table, on SQLite the database's one write lock."""
    if PG_URL:
        holder = psycopg.connect(PG_URL)
        holder.execute("LOCK TABLE inbound_messages IN ACCESS EXCLUSIVE MODE")
    else:
        path = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(seconds, holder.rollback)
    release.start()
    try:
        yield
    finally:
        release.cancel()
        holder.rollback()
        holder.close()


SAFE = "%(program)s: we could not process your message. In an emergency, call 911."


@pytest.mark.parametrize("body", ["AYUDA", "ALTO"])
def test_a_lock_held_briefly_elsewhere_only_delays_the_text(make_app, make_user, tmp_path, body):
    """A busy database is not a dead one: the text waits its turn and gets its real answer."""
    spool = tmp_path / "spool"
    app = make_app(**twilio_config(SMS_SPOOL_DIR=str(spool), DATABASE_TIMEOUT=6))
    user = make_user(locale="es")
    with texts_table_locked(app, seconds=1):
        status, reply = text(app.test_client(), user.phone, body)
    assert status == 200
    assert reply_in("es", SAFE) not in reply and reply
    assert list(spool.glob("*.json")) == []
    assert inbound_count(app) == 1


@pytest.mark.parametrize("body", ["AYUDA", "ALTO"])
def test_a_lock_held_past_the_deadline_is_an_outage_answered_in_time_and_spooled(
    make_app, make_user, tmp_path, body
):
    """A migration, a long command or a stuck transaction holds a lock the text needs for
    longer than DATABASE_TIMEOUT: the webhook answers safely at the deadline, and the import
    acts on the text later."""
    spool = tmp_path / "spool"
    app = make_app(**twilio_config(SMS_SPOOL_DIR=str(spool), DATABASE_TIMEOUT=1))
    user = make_user(locale="es")
    with texts_table_locked(app, seconds=8):
        started = time.monotonic()
        status, reply = text(app.test_client(), user.phone, body, sid="SM" + "d" * 32)
        elapsed = time.monotonic() - started

    assert status == 200
    assert elapsed < 6  # the deadline (1 s), not the lock's 8 s
    assert reply_in("es", SAFE) in reply
    assert [f.name for f in spool.glob("*.json")] == ["SM" + "d" * 32 + ".json"]
    result = app.test_cli_runner().invoke(args=["sms", "import-spool"])
    assert "Imported 1" in result.output
    assert inbound_count(app) == 1


# --- a failure half-way through a text ----------------------------------------------------------


def inbound_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(InboundMessage))


def test_a_failure_while_acting_leaves_nothing_half_done_and_the_import_finishes_it(
    make_app, make_user, tmp_path
):
    """The database refuses the STOP's ledger entry after the text was inserted: the text,
    the entry and the reply are one transaction, so nothing of it stays; the texter gets the
    safe reply, the text is spooled, and the import acts on it once the fault is gone."""
    spool = tmp_path / "spool"
    app = make_app(**twilio_config(SMS_SPOOL_DIR=str(spool)))
    user = make_user(locale="pl")
    sid = "SM" + "c" * 32

    with inserts_refused(app, "consent_records"):
        status, reply = text(app.test_client(), user.phone, "KONIEC", sid=sid)

    assert status == 200
    assert (
        reply_in("pl", "%(program)s: we could not process your message. In an emergency, call 911.")
        in reply
    )
    assert inbound_count(app) == 0  # never an acted-on text without its row, or a row unacted
    assert sms_consent(app, user.phone) == []
    assert [f.name for f in spool.glob("*.json")] == [f"{sid}.json"]

    result = app.test_cli_runner().invoke(args=["sms", "import-spool"])
    assert "Imported 1" in result.output
    assert sms_consent(app, user.phone) == [False]  # the STOP is honoured
    assert [t.template for t in texts_to(app, user.phone)] == ["stop_confirmation"]
    assert inbound_count(app) == 1
    assert list(spool.glob("*.json")) == []


def test_a_spooled_text_that_fails_again_is_kept_and_does_not_hold_up_the_others(
    make_app, make_user, tmp_path, caplog
):
    spool = tmp_path / "spool"
    app = make_app(**twilio_config(SMS_SPOOL_DIR=str(spool)))
    stuck, fine = make_user(), make_user(phone="+13125550177")
    for n, who in enumerate((stuck, fine)):
        sid = f"SM{n}" + "d" * 31
        (spool).mkdir(exist_ok=True)
        (spool / f"{sid}.json").write_text(
            json.dumps({"form": sms_params(who.phone, "STOP", sid)}), encoding="utf-8"
        )

    with inserts_refused(app, "consent_records", phone=stuck.phone):
        first = app.test_cli_runner().invoke(args=["sms", "import-spool"])

    assert "Imported 1" in first.output
    assert sms_consent(app, fine.phone) == [False]
    assert sms_consent(app, stuck.phone) == []
    assert [f.name for f in spool.glob("*.json")] == ["SM0" + "d" * 31 + ".json"]
    assert "could not be imported" in caplog.text
    assert stuck.phone not in caplog.text and "STOP" not in caplog.text  # no number, no words

    again = app.test_cli_runner().invoke(args=["sms", "import-spool"])
    assert "Imported 1" in again.output
    assert sms_consent(app, stuck.phone) == [False]
    assert list(spool.glob("*.json")) == []


def test_an_emergency_text_from_the_spool_is_filed_when_it_arrived_and_escalates_at_once(
    make_app, make_user, tmp_path
):
    """A 911 text spooled during a ten-minute outage: on import its session opens at the time
    the text arrived, not at the import, so the console shows how long it waited and the next
    escalation round treats it as overdue (the texter is told again to call 911)."""
    from datetime import UTC, datetime, timedelta

    import time_machine

    from webapp.models import EmergencyMessage, EmergencySession

    spool = tmp_path / "spool"
    user = make_user(locale="es")
    arrived = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    down = make_app(**twilio_config(DATABASE_URL=f"sqlite:///{tmp_path}/no/such/db.sqlite3",
                                    SMS_SPOOL_DIR=str(spool)))  # fmt: skip
    with time_machine.travel(arrived, tick=False):
        text(down.test_client(), user.phone, "EMERGENCIA humo en la cocina")

    up = make_app(**twilio_config(SMS_SPOOL_DIR=str(spool)))
    with time_machine.travel(arrived + timedelta(minutes=10), tick=False):
        result = up.test_cli_runner().invoke(args=["sms", "import-spool"])
        assert "Imported 1" in result.output
        with up.app_context():
            session = db.session.scalar(select(EmergencySession))
            message = db.session.scalar(
                select(EmergencyMessage).where(EmergencyMessage.direction == "inbound")
            )
            stored = db.session.scalar(select(InboundMessage))
            assert session.opened_at == arrived
            assert message.created_at == arrived and message.body == "EMERGENCIA humo en la cocina"
            assert stored.received_at == arrived and stored.processed_at > arrived
        escalated = up.test_cli_runner().invoke(args=["emergency", "escalate"])
        assert escalated.exit_code == 0, escalated.output
    templates = [t.template for t in texts_to(up, user.phone)]
    assert templates[-1] == "emergency_unanswered"


def test_the_worker_files_a_spooled_emergency_text_within_its_next_round(
    make_app, make_user, tmp_path
):
    """No cron minute to wait for: the worker looks at the spool every second, so a 911 text
    spooled during an outage reaches the dispatchers' queue as soon as the database is back;
    a worker that finds the database still away keeps the file and goes on."""
    from webapp.jobs import run
    from webapp.models import EmergencySession

    spool = tmp_path / "spool"
    user = make_user(locale="ar")
    down = make_app(**twilio_config(DATABASE_URL=f"sqlite:///{tmp_path}/no/such/db.sqlite3",
                                    SMS_SPOOL_DIR=str(spool)))  # fmt: skip
    text(down.test_client(), user.phone, "نجدة، حريق")
    with down.app_context():
        run(once=True)  # the database is still away: logged, kept, no crash
    assert len(list(spool.glob("*.json"))) == 1

    up = make_app(**twilio_config(SMS_SPOOL_DIR=str(spool)))
    with up.app_context():
        run(once=True)
        session = db.session.scalar(select(EmergencySession))
        assert (session.phone, session.locale) == (user.phone, "ar")
    assert list(spool.glob("*.json")) == []


def test_a_status_and_then_a_confirm_import_in_one_go(make_app, make_user, tmp_path):
    """The import acts on every spooled text in one session: a STATUS, which loads only the
    profile's state fields, must not stop a later text from the same number from reading the
    rest of the profile (CONFIRM checks it is complete)."""

    spool = tmp_path / "spool"
    app = make_app(**twilio_config(SMS_SPOOL_DIR=str(spool)))
    user = make_user()
    web = app.test_client()
    sign_in(web, user.phone)
    fill_home(web)
    submit(web, "/profile/sharing", {"share_with_911": "y"})
    spool.mkdir()
    for n, body in enumerate(["STATUS", "CONFIRM"]):
        sid = f"SM{n:032d}"
        record = {"form": sms_params(user.phone, body, sid),
                  "spooled_at": f"2026-11-22T05:00:0{n}+00:00"}  # fmt: skip
        (spool / f"{sid}.json").write_text(json.dumps(record))

    from webapp.sms_inbound.spool import import_all

    with app.app_context():  # one session for the import and the reads after it
        assert import_all() == 2
        profile = db.session.scalar(select(Profile).where(Profile.user_id == user.id))
        assert profile.confirmed_at is not None
        assert profile.access_notes == HOME["access_notes"]  # (not held back by STATUS)
    assert [t.template for t in texts_to(app, user.phone)] == ["status", "confirmed"]
