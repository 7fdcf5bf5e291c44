"""A database server that is gone (its host lost power, the network to it is cut: no reset,
nothing): the SMS webhook still answers inside Twilio's 15 s and spools the text, and the
import acts on it once the server is back (``config._engine_options``: ``pool_pre_ping``,
``connect_timeout`` and ``tcp_user_timeout``)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from webapp.extensions import db
from webapp.models import ConsentRecord, InboundMessage

from ..support.database import PG_URL
from ..support.db_faults import TcpProxy, needs_iptables, unanswered
from ..support.twilio import text, twilio_config
from ..support.web import new_phone, reply_in

pytestmark = pytest.mark.skipif(not PG_URL, reason="a database server over TCP: PostgreSQL")

SAFE = "%(program)s: we could not process your message. In an emergency, call 911."


@pytest.fixture
def proxy():
    url = make_url(PG_URL)
    forwarder = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield forwarder
    forwarder.close()


@pytest.fixture
def app(proxy, make_app, tmp_path):  # the proxy outlives the app's connections
    url = make_url(PG_URL).set(host="127.0.0.1", port=proxy.port)
    return make_app(**twilio_config(
        DATABASE_URL=url.render_as_string(hide_password=False),
        SMS_SPOOL_DIR=str(tmp_path / "spool"),
    ))  # fmt: skip


def timed_text(app, phone: str, body: str, sid: str) -> tuple[int, str, float]:
    """Send a text; (status, reply, seconds). A webhook still waiting after 12 s counts as
    never answering (it is left to finish once the packets flow again)."""
    outcome: list = []

    def send() -> None:
        started = time.monotonic()
        status, reply = text(app.test_client(), phone, body, sid=sid)
        outcome.append((status, reply, time.monotonic() - started))

    worker = threading.Thread(target=send, daemon=True)
    worker.start()
    worker.join(timeout=12)
    assert outcome, f"{body!r}: no answer within 12 s"
    return outcome[0]


@pytest.mark.parametrize(
    "pool",
    [
        "pooled",  # a connection is in the pool: its ping gives up, then a new one does
        "empty",  # no connection yet (the app has just started): a new one gives up
    ],
)
def test_a_server_that_is_gone_gets_texts_answered_in_time_and_spooled(
    app, proxy, make_user, tmp_path, pool
):
    needs_iptables()
    user = make_user(locale="es")
    phone = new_phone()
    before = text(app.test_client(), phone, "HELP")  # a connection is now in the pool
    assert before[0] == 200
    if pool == "empty":
        with app.app_context():
            db.engine.dispose()

    sids = [f"SM{n:032d}" for n in range(2)]
    with unanswered(proxy.port):
        results = [
            timed_text(app, user.phone, body, sid)
            for body, sid in zip(["ALTO", "AYUDA"], sids, strict=True)
        ]

    for status, reply, seconds in results:
        assert status == 200
        assert reply_in("es", SAFE) in reply
        assert seconds < 10  # inside Twilio's 15 s
    spool = tmp_path / "spool"
    assert sorted(f.stem for f in spool.glob("*.json")) == sids

    assert text(app.test_client(), phone, "HELP") == before  # the real answer again
    result = app.test_cli_runner().invoke(args=["sms", "import-spool"])
    assert "Imported 2" in result.output, result.output
    with app.app_context():
        assert db.session.scalar(
            select(func.count()).select_from(InboundMessage).where(
                InboundMessage.message_sid.in_(sids), InboundMessage.source == "spool"
            )
        ) == 2  # fmt: skip
        consent = db.session.scalars(select(ConsentRecord.granted).where(
            ConsentRecord.phone == user.phone, ConsentRecord.kind == "sms"
        )).all()  # fmt: skip
    assert consent == [False]  # the STOP sent while the server was away is honoured
