"""SQLite's webhook writers take turns (``webapp/sqlite_writers.py``): across a server's
workers on an advisory lock beside the database, within a worker on a thread lock; every
wait is bounded by the webhook's deadline (a turn that does not come in time is an outage:
``test_sms_spool.py``), and a holder that dies gives its turn back."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from webapp import db_watch, driver_sql
from webapp.extensions import db
from webapp.models import InboundMessage

from .conftest import PG_URL
from .sms_helpers import text, twilio_config
from .test_sms_inbound import UNKNOWN, reply_in

sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="SQLite's writers")

# Another worker's writer: holds the lock between workers until its stdin closes.
HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.readline()
"""


def lock_path(app) -> str:
    return os.path.abspath(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database) + "-writers"


@contextmanager
def other_worker_writing(app):
    """A process of its own holds the writers' turn; yields it (close its stdin to end its
    turn, or kill it)."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, lock_path(app)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    ) as holder:  # fmt: skip
        try:
            assert holder.stdout.readline() == "held\n"
            yield holder
        finally:
            holder.kill()


def stored(app) -> list[tuple[str, str | None]]:
    with app.app_context():
        return list(db.session.execute(select(InboundMessage.message_sid, InboundMessage.reply)))


def text_in_background(app, sender: str, body: str, sid: str) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def send() -> None:
        outcome["answer"] = text(app.test_client(), sender, body, sid=sid)

    sender_thread = threading.Thread(target=send, daemon=True)
    sender_thread.start()
    return sender_thread, outcome


@sqlite_only
@pytest.mark.parametrize("release", ["done", "killed"])
def test_a_text_waits_for_another_workers_write_then_is_stored_and_answered(make_app, release):
    """While another worker writes, the text waits for its turn (nothing stored yet, no
    answer); when that worker is done, or dies holding its turn (the kernel gives it back),
    the text is stored and answered as usual."""
    app = make_app(**twilio_config())
    sid = "SM" + "1" * 32
    with other_worker_writing(app) as holder:
        sender_thread, outcome = text_in_background(app, "+17735550101", "AYUDA", sid)
        sender_thread.join(0.3)
        assert sender_thread.is_alive()
        assert stored(app) == []
        if release == "done":
            holder.stdin.close()
        else:
            holder.kill()
        sender_thread.join(5)

    assert not sender_thread.is_alive()
    status, reply = outcome["answer"]
    assert status == 200
    assert reply_in("es", UNKNOWN) in reply
    assert stored(app) == [(sid, reply)]


@sqlite_only
def test_within_a_worker_threads_take_turns(app):
    """A second thread's turn begins only once the first thread's has ended."""
    first_in, first_may_leave = threading.Event(), threading.Event()
    order: list[str] = []

    def write(name: str, hold: bool) -> None:
        with app.app_context(), driver_sql.connect(db.engine) as conn, conn.writer_turn():
            order.append(f"{name} in")
            if hold:
                first_in.set()
                first_may_leave.wait(5)
            order.append(f"{name} out")

    first = threading.Thread(target=write, args=("first", True))
    first.start()
    assert first_in.wait(5)
    second = threading.Thread(target=write, args=("second", False))
    second.start()
    second.join(0.3)
    assert second.is_alive()  # waiting for its turn
    first_may_leave.set()
    first.join(5)
    second.join(5)
    assert order == ["first in", "first out", "second in", "second out"]
    assert os.path.exists(lock_path(app))


@sqlite_only
def test_after_waiting_for_its_turn_a_writer_waits_for_sqlite_only_for_the_time_left(app):
    """The busy timeout set on checkout (the deadline's time then) is shortened by the time
    spent waiting for the turn, so the two waits together stay within the deadline."""
    with other_worker_writing(app) as holder:
        threading.Timer(0.4, holder.stdin.close).start()
        with app.app_context(), db_watch.within(1.5), driver_sql.connect(db.engine) as conn:
            pooled = conn._pooled
            before = pooled.driver_connection.execute("PRAGMA busy_timeout").fetchone()[0]
            with conn.writer_turn():
                after = pooled.driver_connection.execute("PRAGMA busy_timeout").fetchone()[0]
    assert before == 1400
    assert 0 < after <= 1100


def test_nothing_is_queued_for_a_server_or_a_database_in_memory(app):
    """On PostgreSQL (and for SQLite in memory) turns are not taken: two at once in one
    thread do not wait for each other (queued, the second would fail after 5 s)."""
    from sqlalchemy import create_engine

    with app.app_context():
        engines = [db.engine] if PG_URL else [create_engine("sqlite://")]
        for engine in engines:
            with (
                driver_sql.connect(engine) as first,
                driver_sql.connect(engine) as second,
                first.writer_turn(),
                second.writer_turn(),
            ):
                pass
            if engine is not db.engine:
                engine.dispose()


@sqlite_only
def test_a_forked_worker_takes_turns_with_its_parent(app):
    """gunicorn forks its workers: a child must not share its parent's lock file (an flock
    belongs to the open file, so a shared one would let both write at once)."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    go = os.pipe()
    with app.app_context():
        url = db.engine.url
        with driver_sql.connect(db.engine) as conn, conn.writer_turn():
            pass  # the parent has its lock file open
        pid = os.fork()
        if pid == 0:  # the child: wait until the parent writes, then try to write too
            code = 1
            try:
                os.read(go[0], 1)
                engine = create_engine(url)
                with db_watch.within(0.3), driver_sql.connect(engine) as child, child.writer_turn():
                    code = 2  # it wrote while its parent did
            except OperationalError:
                code = 0  # it waited for its turn, until its deadline
            finally:
                os._exit(code)
        with driver_sql.connect(db.engine) as conn, conn.writer_turn():
            os.write(go[1], b"x")
            _, status = os.waitpid(pid, 0)
    os.close(go[0])
    os.close(go[1])
    assert os.waitstatus_to_exitcode(status) == 0
