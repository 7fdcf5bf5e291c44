"""A database outage: the webhook still answers safely, spools the text, and the spool is
imported exactly once when the database is back."""

from __future__ import annotations

import json
import socket

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import ConsentRecord, InboundMessage

from .conftest import texts_to
from .sms_helpers import sms_params, text, twilio_config
from .test_sms_inbound import reply_in


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
    make_app, make_user, tmp_path, unreachable_database
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


def test_postgres_connections_give_up_fast(tmp_path):
    from webapp.config import Settings

    options = Settings.from_env(
        {"APP_ENV": "development", "DATABASE_URL": "postgresql://db/x"}
    ).flask_config(str(tmp_path))["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"]["connect_timeout"] <= 1
