"""SQLite's one writer at a time, taken in turn: the SMS webhook's writes queue instead of
polling for the lock.

SQLite lets one connection write at a time. A writer that finds the lock taken sleeps in
SQLite's busy handler (1, 2, 5, 10 ms and longer) and tries again, so under load the lock is
often free while writers sleep, and some sleep for a long time (README, "SMS webhook under
load": at full speed a tenth of a second at p99, more than a second at worst). Inside
``turn(engine, pooled)`` this app's webhook writers wait their turn instead: within a worker
on a thread lock, each woken as soon as the one before is done; between a server's workers
on an advisory lock (``flock``) on a file beside the database (``<database>-writers``),
which the kernel gives back if its holder dies. One thread per worker at a time waits for
that lock, trying again every ``POLL`` seconds.

SQLite's own lock still decides who writes: writers that do not queue here (pages, commands,
the outbox's sender) go on as before, and a writer whose turn came still waits for them in
the busy handler. Waits stay bounded: inside ``db_watch.within`` by the deadline, elsewhere
by the connection's busy timeout. A writer whose turn does not come in time fails as SQLite
would ("database is locked"; the webhook then spools its text), and one whose turn came
after a wait has its busy timeout shortened to the time left.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from . import db_watch

log = logging.getLogger(__name__)

# How often the one waiting thread of a worker tries the lock between workers (seconds). A
# write holds it for about half a millisecond.
POLL = 0.0001


class _Queue:
    """The writers of one SQLite database file, in this process."""

    def __init__(self, path: str):
        self.lock_path = path + "-writers"
        self.forked()

    def forked(self) -> None:
        """A new process's own thread lock and descriptor (also what a new queue starts with)."""
        self.in_process = threading.Lock()
        self.fd: int | None = None
        self.opened = False

    def _lock_file(self) -> int | None:
        """The lock file's descriptor, opened on first use (under ``in_process``)."""
        if not self.opened:
            self.opened = True
            try:
                self.fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as error:  # a read-only directory, say: queue within the worker
                log.warning("SQLite writers queue within each worker only: %s", error.strerror)
        return self.fd

    @contextmanager
    def turn(self, pooled) -> Iterator[None]:
        started = time.monotonic()
        until = started + _longest_wait(pooled)
        if not self.in_process.acquire(timeout=max(0.0, until - started)):
            raise _locked()
        try:
            fd = self._lock_file()
            if fd is not None:
                _lock_between_processes(fd, until)
            try:
                if time.monotonic() - started >= db_watch.BUSY_TIMEOUT_STEP / 1000:
                    db_watch.bound_sqlite_wait(pooled.driver_connection, pooled.record_info)
                yield
            finally:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self.in_process.release()


def _longest_wait(pooled) -> float:
    """Seconds: what is left of the request's deadline, else the connection's busy timeout."""
    left = db_watch.time_left()
    if left is not None:
        return left
    return pooled.record_info.get("busy_timeout", 5000) / 1000


def _lock_between_processes(fd: int, until: float) -> None:
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= until:
                raise _locked() from None
            time.sleep(POLL)


def _locked() -> OperationalError:
    return OperationalError(
        "waiting for SQLite's writer turn", None, sqlite3.OperationalError("database is locked")
    )


_queues: dict[str, _Queue] = {}
_queues_lock = threading.Lock()


def _after_fork() -> None:
    # A forked worker (gunicorn's) must not share its parent's locks: a thread lock held by a
    # thread that did not come along would never be released, and an flock belongs to the open
    # file the parent's descriptor names.
    global _queues_lock
    _queues_lock = threading.Lock()
    for queue in _queues.values():
        if queue.fd is not None:
            os.close(queue.fd)
        queue.forked()


os.register_at_fork(after_in_child=_after_fork)


def turn(engine: Engine, pooled) -> AbstractContextManager[None]:
    """This process's turn to write ``engine``'s SQLite database on ``pooled`` (a pooled
    connection of that engine), taken in order with this app's other queued writers; for any
    other database, one in memory or one named by a URI, nothing at all."""
    path = engine.url.database
    no_file = not path or path == ":memory:" or path.startswith("file:")  # or a URI
    if engine.dialect.name != "sqlite" or no_file:
        return nullcontext()
    queue = _queues.get(path)
    if queue is None:
        with _queues_lock:
            queue = _queues.setdefault(path, _Queue(os.path.abspath(path)))
    return queue.turn(pooled)
