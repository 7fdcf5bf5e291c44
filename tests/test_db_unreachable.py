"""A database server that stops answering: the SMS webhook still answers within 2 s and
spools the text, and the spool import acts on it once the server is back.

Two ways a server stops answering: it is gone (its host lost power, the network to it is cut:
no reset, nothing; ``config._engine_options``'s ``tcp_user_timeout`` and ``connect_timeout``),
or it is there but stuck (a hung process, a disk that hangs in a commit: every packet is
acknowledged, nothing is answered; ``db_watch.within``, around the webhook's work)."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from webapp import db_watch
from webapp.extensions import db
from webapp.models import ConsentRecord, InboundMessage

from .conftest import PG_URL, new_phone
from .db_faults import TcpProxy, needs_iptables, unanswered
from .sms_helpers import text, twilio_config
from .test_sms_inbound import reply_in

pytestmark = pytest.mark.skipif(not PG_URL, reason="a database server over TCP: PostgreSQL")

SAFE = "%(program)s: we could not process your message. In an emergency, call 911."


@pytest.fixture
def proxy():
    url = make_url(PG_URL)
    forwarder = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield forwarder
    forwarder.close()


@contextmanager
def not_answering(proxy: TcpProxy, fault: str):
    if fault == "gone":
        needs_iptables()
        with unanswered(proxy.port):
            yield
    else:
        with proxy.stalled():
            yield


@pytest.fixture
def app(proxy, make_app, tmp_path):  # the proxy outlives the app's connections
    url = make_url(PG_URL).set(host="127.0.0.1", port=proxy.port)
    return make_app(**twilio_config(
        DATABASE_URL=url.render_as_string(hide_password=False),
        SMS_SPOOL_DIR=str(tmp_path / "spool"),
    ))  # fmt: skip


def timed_text(app, phone: str, body: str, sid: str) -> tuple[int, str, float]:
    """Send a text; (status, reply, seconds). A webhook still waiting after 10 s counts as
    never answering (it is left to finish once the packets flow again)."""
    outcome: list = []

    def send() -> None:
        started = time.monotonic()
        status, reply = text(app.test_client(), phone, body, sid=sid)
        outcome.append((status, reply, time.monotonic() - started))

    worker = threading.Thread(target=send, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert outcome, f"{body!r}: no answer within 10 s"
    return outcome[0]


@pytest.mark.parametrize(
    "fault",
    [
        "gone",  # every packet dropped (iptables)
        "stuck",  # every packet acknowledged, none answered (the proxy passes nothing on)
    ],
)
@pytest.mark.parametrize(
    "pool",
    [
        "busy",  # the pooled connection was used a moment ago: handed out as it is
        "idle",  # idle for longer than IDLE_PING_AFTER: pinged first, then replaced
        "empty",  # no connection yet (the app has just started): a new one is made
    ],
)
def test_a_server_that_stops_answering_gets_texts_answered_in_time_and_spooled(
    app, proxy, make_user, tmp_path, monkeypatch, pool, fault
):
    if pool == "idle":  # as if every pooled connection had been idle for longer
        monkeypatch.setattr(db_watch, "IDLE_PING_AFTER", 0.0)
    user = make_user(locale="es")
    phone = new_phone()
    before = text(app.test_client(), phone, "HELP")  # a connection is now in the pool
    assert before[0] == 200
    if pool == "empty":
        with app.app_context():
            db.engine.dispose()

    sids = [f"SM{n:032d}" for n in range(3)]
    with not_answering(proxy, fault):
        # The first text finds out, in under 2 s: its statement (busy pool), its ping (idle
        # pool) or its new connection (empty pool) is given up, after tcp_user_timeout when
        # the server is gone, at the webhook's deadline when it is stuck. The server is then
        # marked unreachable, or else the second text's new connection fails after about 1 s
        # and marks it (busy pool, server gone); from then on, texts are answered at once.
        results = [
            timed_text(app, user.phone, body, sid)
            for body, sid in zip(["ALTO", "AYUDA", "ESTADO"], sids, strict=True)
        ]

    for status, reply, seconds in results:
        assert status == 200
        assert reply_in("es", SAFE) in reply
        assert seconds < 2
    assert results[-1][2] < db_watch.SLOW_FAILURE  # no connection attempt: failed at once
    if (pool, fault) != ("busy", "gone"):  # the one case where the second text may wait
        assert results[1][2] < db_watch.SLOW_FAILURE
    spool = tmp_path / "spool"
    assert sorted(f.stem for f in spool.glob("*.json")) == sids

    time.sleep(db_watch.UNREACHABLE_FOR)  # the server answers again
    assert text(app.test_client(), phone, "HELP") == before  # the real answer again
    result = app.test_cli_runner().invoke(args=["sms", "import-spool"])
    assert "Imported 3" in result.output, result.output
    with app.app_context():
        assert db.session.scalar(
            select(func.count()).select_from(InboundMessage).where(
                InboundMessage.message_sid.in_(sids), InboundMessage.source == "spool"
            )
        ) == 3  # fmt: skip
        consent = db.session.scalars(select(ConsentRecord.granted).where(
            ConsentRecord.phone == user.phone, ConsentRecord.kind == "sms"
        )).all()  # fmt: skip
    assert consent == [False]  # the STOP sent while the server was away is honoured
