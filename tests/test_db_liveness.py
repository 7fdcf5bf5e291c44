"""A pooled PostgreSQL connection the server has closed is never handed out, a busy one is
handed out without a round trip, and a request's deadline cuts only the connections it still
holds (``db_watch``; the webhook's deadline against a stuck server: test_db_unreachable.py)."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from webapp import db_watch
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

        monkeypatch.setattr(db_watch, "IDLE_PING_AFTER", 0.0)  # as if idle for long
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        assert pings == [1]


def backend_pid(connection) -> int:
    return connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def test_a_deadline_cuts_a_connection_still_held_when_it_passes(app):
    with app.app_context():
        started = time.monotonic()
        with (
            db_watch.within(0.3),
            db.engine.connect() as conn,
            pytest.raises(sa.exc.OperationalError),
        ):
            conn.execute(sa.text("SELECT pg_sleep(1)"))
        assert time.monotonic() - started < 0.3 + 3 * db_watch.WATCHDOG_TICK
        # A server that kept a request waiting that long is taken to be stuck: for a moment,
        # no new connection is tried (the cut one is gone, the pool is empty).
        with pytest.raises(sa.exc.OperationalError, match="did not answer moments ago"):
            db.engine.connect()


def test_a_deadline_never_cuts_a_connection_its_block_gave_back(app):
    """Given back to the pool, a connection may be another request's by the time the
    deadline passes: it is left alone."""
    with app.app_context():
        with db_watch.within(0.1):
            with db.engine.connect() as conn:
                first = backend_pid(conn)
            time.sleep(0.1 + 3 * db_watch.WATCHDOG_TICK)  # the deadline has passed
        with db.engine.connect() as conn:
            assert backend_pid(conn) == first
