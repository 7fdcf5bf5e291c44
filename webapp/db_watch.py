"""Database connections that may stop answering: hand out only live ones, and bound how long
a request can wait for one.

``watch(engine)`` (called by ``create_app``) adds to an engine's pool:

- **liveness** (PostgreSQL): a pooled connection the server closed is never handed out, and
  one that does not answer at all is given up quickly, without a round trip per checkout;
- **deadlines**: inside ``within(seconds)``, every server connection the request uses is cut
  once the time is up, whatever the server is doing, and on SQLite a wait for another
  writer's lock ends by then (the SMS webhook answers within 2 s).
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InvalidatePoolError

log = logging.getLogger(__name__)

# A pooled server connection idle for longer than this is pinged before it is handed out.
IDLE_PING_AFTER = 5.0  # seconds
# A ping or a new connection that fails after this long found a server that does not answer
# at all (its host is down, the network to it is cut), not one that closed the connection:
# for the next UNREACHABLE_FOR seconds, new connections fail at once instead of each waiting
# for the connect timeout. The SMS webhook then answers and spools its text without waiting.
SLOW_FAILURE = 0.5  # seconds
UNREACHABLE_FOR = 3.0  # seconds
# How often the watchdog looks for requests past their deadline: a deadline is kept to
# within this much.
WATCHDOG_TICK = 0.1  # seconds
# On SQLite, inside a deadline, a wait for another writer's lock is bounded by the time left,
# rounded down to this (milliseconds).
BUSY_TIMEOUT_STEP = 100


def watch(engine: Engine) -> None:
    """Liveness checks and deadlines for an engine's connections (see the module)."""
    if engine.dialect.name == "sqlite":
        _bound_sqlite_waits(engine)
        return
    _watch_liveness(engine)
    _watch_deadlines(engine)


# --- liveness ----------------------------------------------------------------------------------


def _watch_liveness(engine: Engine) -> None:
    """Hand out only live server connections, without a round trip each time.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: one more round trip per request,
    a sixth of the SMS webhook's CPU (README, "SMS webhook under load"). Instead, as other
    pools do (sqlx's idle test, MySqlConnector's ConnectionIdlePingTime), a connection is
    pinged only when it has been idle for ``IDLE_PING_AFTER`` seconds, or when its socket has
    something to read: an idle connection has nothing to read unless the server wrote to it,
    which it does when it closes it (a restart, an administrator ending it). The check is one
    ``poll`` system call. A connection that fails the ping is replaced, and so is every other
    connection in the pool, since a server that ended one has usually ended them all.

    A server that does not answer at all is another matter: a statement on a connection to it
    gives up after the connection's ``tcp_user_timeout`` (config.py), and a new connection
    after about a second; inside ``within``, both give up at the deadline. When a ping or a
    new connection fails that slowly, or the deadline cuts a connection, new connections fail
    at once for ``UNREACHABLE_FOR`` seconds, so that no request spends two such waits (a
    failed ping is followed by a new connection), and a burst of texts is answered at once.
    """
    dialect = engine.dialect
    unreachable_until = 0.0

    def mark_unreachable() -> None:
        nonlocal unreachable_until
        unreachable_until = time.monotonic() + UNREACHABLE_FOR
        log.warning("database server not answering: new connections fail at once for %s s",
                    UNREACHABLE_FOR)  # fmt: skip

    def note_failure(started: float) -> None:
        if time.monotonic() - started >= SLOW_FAILURE:
            mark_unreachable()

    @event.listens_for(engine, "do_connect")
    def connect_unless_unreachable(dialect, connection_record, cargs, cparams):
        error = dialect.loaded_dbapi.OperationalError
        if time.monotonic() < unreachable_until:
            raise error("the database server did not answer moments ago")
        started = time.monotonic()
        try:
            return _connect_by_deadline(lambda: dialect.connect(*cargs, **cparams), error)
        except Exception:
            note_failure(started)
            raise

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def note_use(dbapi_connection, connection_record, *args) -> None:
        if connection_record is not None:
            connection_record.info["last_used"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def check_alive(dbapi_connection, connection_record, connection_proxy) -> None:
        _enrol(dbapi_connection, connection_record, mark_unreachable)  # the ping may hang
        idle = time.monotonic() - connection_record.info.get("last_used", 0.0)
        if idle < IDLE_PING_AFTER and not _has_input(dbapi_connection.fileno()):
            return
        started = time.monotonic()
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:  # whatever the driver raises, this connection is unusable
            note_failure(started)
            # SQLAlchemy replaces it, and recycles the pool's older connections on checkout.
            raise InvalidatePoolError("the database closed a pooled connection") from error


def _has_input(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


# --- deadlines ---------------------------------------------------------------------------------


class _Deadline:
    """A request's time limit, and the server connections it holds, each with what marks its
    server unreachable (the watchdog's lock guards ``connections``)."""

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds
        self.connections: dict[object, Callable[[], None]] = {}


_current: ContextVar[_Deadline | None] = ContextVar("db_deadline", default=None)
_lock = threading.Lock()
_active: set[_Deadline] = set()
_watchdog_pid: int | None = None  # the process whose watchdog thread runs (gunicorn forks)


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Give up every server connection used inside the block once ``seconds`` have passed,
    so that whatever the block waits for (a server that acknowledges but never answers: a
    hung process, a disk that hangs in a commit) fails by then with the driver's
    ``OperationalError`` (a lost connection, which SQLAlchemy replaces).

    ``tcp_user_timeout`` (config.py) bounds a server that is gone; this bounds one that is
    there but stuck, which no client-side setting does. A connection in use is cut by shutting
    its socket down (not closing it: the driver still owns the descriptor), which wakes the
    waiting driver at once; a new connection still being made is abandoned (psycopg's own
    connect timeout is at least 2 s). Costs the request a few dictionary operations; the
    watchdog is one thread per process that wakes every ``WATCHDOG_TICK`` seconds. On SQLite,
    a wait for another writer's lock ends at the deadline (``_bound_sqlite_waits``).
    """
    deadline = _Deadline(seconds)
    token = _current.set(deadline)
    with _lock:
        _active.add(deadline)
    try:
        yield
    finally:
        with _lock:
            _active.discard(deadline)
        _current.reset(token)


def _enrol(dbapi_connection, connection_record, mark_unreachable: Callable[[], None]) -> None:
    """A connection checked out inside ``within``: the watchdog may cut it until it is
    checked in, invalidated or closed (``_release``)."""
    deadline = _current.get()
    if deadline is not None:
        _start_watchdog()  # here, not in ``within``: SQLite has nothing to cut
        with _lock:
            deadline.connections[dbapi_connection] = mark_unreachable
        connection_record.info["deadline"] = deadline


def _watch_deadlines(engine: Engine) -> None:
    # Each of these fires before the connection is returned or closed, so the watchdog never
    # cuts a connection that another request has, or a descriptor reused by something else.
    @event.listens_for(engine, "checkin")
    @event.listens_for(engine, "invalidate")
    @event.listens_for(engine, "soft_invalidate")
    @event.listens_for(engine, "close")
    def _release(dbapi_connection, connection_record, *args) -> None:
        if connection_record is None:
            return
        deadline = connection_record.info.pop("deadline", None)
        if deadline is not None:
            with _lock:
                deadline.connections.pop(dbapi_connection, None)


def _connect_by_deadline(connect: Callable[[], object], error: type[Exception]):
    """``connect()``, given up at the current deadline, if any: the attempt goes on in a
    thread of its own, which closes the connection if it is made after all. (A new connection
    is rare: the pool keeps them.)"""
    deadline = _current.get()
    if deadline is None:
        return connect()
    outcome: dict[str, object] = {}
    decided = threading.Lock()

    def attempt() -> None:
        try:
            connection = connect()
        except BaseException as failure:  # handed to the waiting request
            outcome["error"] = failure
            return
        with decided:
            if "abandoned" in outcome:
                with suppress(Exception):
                    connection.close()
                return
            outcome["connection"] = connection

    worker = threading.Thread(target=attempt, name="db-connect", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline.at - time.monotonic()))
    with decided:
        if "connection" in outcome:
            return outcome["connection"]
        if "error" in outcome:
            raise outcome["error"]
        outcome["abandoned"] = True
    raise error("the database server did not answer in time")


def _bound_sqlite_waits(engine: Engine) -> None:
    """SQLite has no server to hang, but a request waits for another writer's lock (a long
    command, a migration) in SQLite's busy handler, for up to pysqlite's 5 s. Inside
    ``within``, a connection waits no longer than the time left (``PRAGMA busy_timeout``,
    set on checkout): it then fails with "database is locked", in time. Outside, it waits as
    long as it did when it was made.

    The time left is rounded down to ``BUSY_TIMEOUT_STEP``, so that a connection that serves
    one webhook after another keeps its setting, and a checkout runs no ``PRAGMA`` at all
    unless the setting changes (a page after a webhook, say)."""

    @event.listens_for(engine, "checkout")
    def bound_waits(dbapi_connection, connection_record, connection_proxy) -> None:
        bound_sqlite_wait(dbapi_connection, connection_record.info)


def bound_sqlite_wait(dbapi_connection, info: dict) -> None:
    """Set a SQLite connection's busy timeout (``info``: its pool record's) to the time left
    of the current deadline, else back to what pysqlite set; on checkout, and again after a
    wait for the writers' turn (``webapp/sqlite_writers.py``)."""
    if "busy_timeout" not in info:  # as pysqlite set it when it made the connection
        info["busy_timeout"] = dbapi_connection.execute("PRAGMA busy_timeout").fetchone()[0]
        info["busy_timeout_now"] = info["busy_timeout"]
    wanted = info["busy_timeout"]
    left = time_left()
    if left is not None:
        wanted = min(wanted, int(left * 1000 // BUSY_TIMEOUT_STEP) * BUSY_TIMEOUT_STEP)
    if info["busy_timeout_now"] != wanted:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {wanted}")
        info["busy_timeout_now"] = wanted


def time_left() -> float | None:
    """Seconds left of the current deadline (``within``; never below 0), or None outside one."""
    deadline = _current.get()
    if deadline is None:
        return None
    return max(0.0, deadline.at - time.monotonic())


def _start_watchdog() -> None:
    global _watchdog_pid
    if _watchdog_pid == os.getpid():
        return
    with _lock:
        if _watchdog_pid != os.getpid():
            _watchdog_pid = os.getpid()
            threading.Thread(target=_watchdog, name="db-deadlines", daemon=True).start()


def _watchdog() -> None:
    while True:
        time.sleep(WATCHDOG_TICK)
        now = time.monotonic()
        with _lock:
            for deadline in _active:
                if deadline.at <= now and deadline.connections:
                    for dbapi_connection, mark_unreachable in deadline.connections.items():
                        if _cut(dbapi_connection):
                            mark_unreachable()
                    deadline.connections.clear()  # each is cut once


def _cut(dbapi_connection) -> bool:
    """Shut a connection's socket down, so that whatever its driver waits for fails now."""
    try:  # psycopg asks libpq, which raises when it has dropped the socket already
        fd = dbapi_connection.fileno()
    except Exception:
        return False
    log.warning("database did not answer in time: cut a connection")
    sock = socket.socket(fileno=fd)
    try:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    finally:
        sock.detach()  # the driver owns the descriptor
    return True
