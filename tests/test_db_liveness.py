"""A pooled PostgreSQL connection the server has closed is never handed out, and a busy one
is handed out without a round trip (``extensions.watch_liveness``)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from webapp import extensions
from webapp.extensions import db
from webapp.models import InboundMessage

from .conftest import PG_URL, new_phone
from .sms_helpers import text, twilio_config

pytestmark = pytest.mark.skipif(not PG_URL, reason="a server that ends connections: PostgreSQL")


def end_every_other_connection() -> int:
    """What a server restart or an administrator does to the app's pooled connections; returns
    once they are gone (pg_terminate_backend's timeout waits for each to end)."""
    engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                              poolclass=NullPool)  # fmt: skip
    with engine.connect() as conn:
        ended = conn.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )).scalar_one()  # fmt: skip
    engine.dispose()
    return ended


@pytest.fixture
def sms_app(make_app, tmp_path):
    (tmp_path / "spool").mkdir()
    return make_app(**twilio_config(SMS_SPOOL_DIR=str(tmp_path / "spool")))


def test_a_text_after_the_server_closed_the_pooled_connections_gets_its_real_answer(
    sms_app, tmp_path
):
    client, phone = sms_app.test_client(), new_phone()
    first = text(client, phone, "HELP")  # a connection is now in the pool
    assert first[0] == 200

    assert end_every_other_connection() >= 1
    status, reply = text(client, phone, "HELP")

    assert (status, reply) == first  # the real answer, not "we could not process your message"
    assert not list((tmp_path / "spool").glob("*.json"))  # answered, not spooled
    with sms_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundMessage)) == 2


def test_a_page_after_the_server_closed_the_pooled_connections_works(app):
    client = app.test_client()
    assert client.get("/healthz").get_json()["database"] == "ok"

    assert end_every_other_connection() >= 1

    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_a_busy_connection_is_handed_out_without_a_ping_and_an_idle_one_with_one(app, monkeypatch):
    with app.app_context():
        dialect = db.engine.dialect
        pings = []
        do_ping = dialect.do_ping
        monkeypatch.setattr(dialect, "do_ping", lambda conn: pings.append(1) or do_ping(conn))
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        pings.clear()

        with db.engine.connect() as conn:  # just used: no round trip
            conn.execute(sa.text("SELECT 1"))
        assert pings == []

        monkeypatch.setattr(extensions, "IDLE_PING_AFTER", 0.0)  # as if idle for long
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        assert pings == [1]
