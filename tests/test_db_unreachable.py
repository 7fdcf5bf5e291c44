"""A database server that stops answering altogether (its host lost power, the network to it
is cut: no reset, nothing): the SMS webhook still answers within 2 s and spools the text, and
the spool import acts on it once the server is back (``config._engine_options``'s
``tcp_user_timeout``, ``extensions.watch_liveness``)."""

from __future__ import annotations

import os
import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from webapp import extensions
from webapp.extensions import db
from webapp.models import ConsentRecord, InboundMessage

from .conftest import PG_URL, new_phone
from .db_faults import TcpProxy, iptables_missing, unanswered
from .sms_helpers import text, twilio_config
from .test_sms_inbound import reply_in

pytestmark = pytest.mark.skipif(not PG_URL, reason="a database server over TCP: PostgreSQL")

SAFE = "%(program)s: we could not process your message. In an emergency, call 911."


@pytest.fixture
def proxy():
    if reason := iptables_missing():
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    url = make_url(PG_URL)
    forwarder = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield forwarder
    forwarder.close()


@pytest.fixture
def app(make_app, proxy, tmp_path):
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
    "pool",
    [
        "busy",  # the pooled connection was used a moment ago: handed out as it is
        "idle",  # idle for longer than IDLE_PING_AFTER: pinged first, then replaced
    ],
)
def test_a_server_that_stops_answering_gets_texts_answered_in_time_and_spooled(
    app, proxy, make_user, tmp_path, monkeypatch, pool
):
    if pool == "idle":  # as if every pooled connection had been idle for longer
        monkeypatch.setattr(extensions, "IDLE_PING_AFTER", 0.0)
    user = make_user(locale="es")
    phone = new_phone()
    before = text(app.test_client(), phone, "HELP")  # a connection is now in the pool
    assert before[0] == 200

    sids = [f"SM{n:032d}" for n in range(3)]
    with unanswered(proxy.port):
        # The first text finds out: its statement times out (busy pool), or its ping does and
        # no new connection is tried (idle pool). In the busy case the second text tries a new
        # connection, which fails after about 1 s and marks the server unreachable; from then
        # on, texts are answered at once.
        results = [
            timed_text(app, user.phone, body, sid)
            for body, sid in zip(["ALTO", "AYUDA", "ESTADO"], sids, strict=True)
        ]

    for status, reply, seconds in results:
        assert status == 200
        assert reply_in("es", SAFE) in reply
        assert seconds < 2
    assert results[-1][2] < extensions.SLOW_FAILURE  # no connection attempt: failed at once
    spool = tmp_path / "spool"
    assert sorted(f.stem for f in spool.glob("*.json")) == sids

    time.sleep(extensions.UNREACHABLE_FOR)  # the server answers again
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
