"""Real database failures for the tests: a trigger that refuses inserts into a table, a
server that stops answering (its packets dropped), and one that is stuck (its packets
acknowledged, never answered)."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import threading
from contextlib import contextmanager, suppress

import pytest
from sqlalchemy import text

from webapp.extensions import db


@contextmanager
def inserts_refused(app, table: str, *, phone: str | None = None):
    """Until the block ends, inserting into ``table`` fails in the database itself (a
    trigger raises), for every row or only for rows whose ``phone`` column is ``phone``."""
    name = f"refuse_{table}"
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        if postgres:
            condition = f"NEW.phone = '{phone}'" if phone else "true"
            db.session.execute(text(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF {condition} THEN RAISE EXCEPTION '{table} unavailable'; END IF; "
                "RETURN NEW; END $$"
            ))  # fmt: skip
            db.session.execute(text(
                f"CREATE TRIGGER {name} BEFORE INSERT ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}()"
            ))  # fmt: skip
        else:
            when = f" WHEN NEW.phone = '{phone}'" if phone else ""
            db.session.execute(text(
                f"CREATE TRIGGER {name} BEFORE INSERT ON {table}{when} "
                f"BEGIN SELECT RAISE(ABORT, '{table} unavailable'); END"
            ))  # fmt: skip
        db.session.commit()
    try:
        yield
    finally:
        with app.app_context():
            if postgres:
                db.session.execute(text(f"DROP TRIGGER {name} ON {table}"))
                db.session.execute(text(f"DROP FUNCTION {name}()"))
            else:
                db.session.execute(text(f"DROP TRIGGER {name}"))
            db.session.commit()


PEER_TIMEOUT_MS = 1000


def _notice_a_dead_peer(sock: socket.socket) -> None:
    """Give up on a peer that stops acknowledging, as a server with PostgreSQL's
    ``tcp_user_timeout`` and short ``tcp_keepalives_*`` would. While packets are dropped, an
    app's connection gives up (its own ``tcp_user_timeout``) and its end is closed without a
    word reaching the proxy; without this, the proxy's end, and the server connection behind
    it, stayed open until the proxy's next retransmission happened to get the peer's reset,
    seconds later and at a time set by the back-off (the leak guard saw it now and then)."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, PEER_TIMEOUT_MS)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)


class TcpProxy:
    """A TCP forwarder from a port of its own to the database server: a path to the server
    that ``unanswered`` can cut, or ``stalled`` freeze, without touching the other tests'
    connections."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.flowing = threading.Event()
        self.flowing.set()
        threading.Thread(target=self._accept, name="db-proxy", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
                _notice_a_dead_peer(client)
                self.sockets.append(client)
                self.flowing.wait()
                upstream = socket.create_connection(self.target)
            except OSError:
                return  # closed
            self.sockets.append(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                self.flowing.wait()
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    @contextmanager
    def stalled(self):
        """Until the block ends, nothing is passed on, in either direction, and new
        connections are accepted but not put through: the server is there (this machine's
        kernel acknowledges every packet) but never answers, like a hung server process or
        one whose disk hangs in a commit."""
        self.flowing.clear()
        try:
            yield
        finally:
            self.flowing.set()

    def close(self) -> None:
        self.flowing.set()
        for sock in [self.listener, *self.sockets]:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def iptables_missing() -> str | None:
    """Why ``unanswered`` cannot run here, or None."""
    if shutil.which("iptables") is None and not os.access("/usr/sbin/iptables", os.X_OK):
        return "iptables is not installed: run `make iptables`"
    if os.geteuid() != 0:
        return "dropping packets with iptables needs root"
    return None


def needs_iptables() -> None:
    """Skip the calling test when ``unanswered`` cannot run here; in CI, fail it instead."""
    if reason := iptables_missing():
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


RULE_TAG = "safety-registry-tests"  # marks our rules, so that leftovers can be found


def _owner_alive(comment: str) -> bool:
    """Whether the test process named in a rule's comment (``RULE_TAG:pid``) still runs."""
    try:
        os.kill(int(comment.rpartition(":")[2]), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def unanswered(port: int):
    """Until the block ends, every packet to or from ``port`` on this machine is dropped
    (iptables): the server behind it stops answering without a reset, as when its host loses
    power or the network to it is cut. Rules that a killed run left behind are removed first;
    those of another test process still running (pytest-xdist's workers) are left alone."""
    iptables = shutil.which("iptables") or "/usr/sbin/iptables"
    listed = subprocess.run([iptables, "-w", "-S", "INPUT"], check=True, capture_output=True,
                            text=True).stdout  # fmt: skip
    leftovers = [
        spec
        for spec in (shlex.split(line)[2:] for line in listed.splitlines() if RULE_TAG in line)
        if not _owner_alive(spec[spec.index("--comment") + 1])
    ]
    tag = ["-m", "comment", "--comment", f"{RULE_TAG}:{os.getpid()}"]
    rules = [["-p", "tcp", "--dport", str(port), *tag, "-j", "DROP"],
             ["-p", "tcp", "--sport", str(port), *tag, "-j", "DROP"]]  # fmt: skip
    for rule in leftovers:
        subprocess.run([iptables, "-w", "-D", "INPUT", *rule], check=True)
    for rule in rules:
        subprocess.run([iptables, "-w", "-I", "INPUT", *rule], check=True)
    try:
        yield
    finally:
        for rule in rules:
            subprocess.run([iptables, "-w", "-D", "INPUT", *rule], check=True)
