"""The fault helpers themselves: ``unanswered`` cleans up after killed runs, and only them;
``TcpProxy`` lets go of the server connection behind a client that gave up during a cut."""

from __future__ import annotations

import os
import select
import shlex
import shutil
import socket
import subprocess
import sys
import time

import pytest

from ..support.db_faults import RULE_TAG, TcpProxy, needs_iptables, unanswered

IPTABLES = shutil.which("iptables") or "/usr/sbin/iptables"


def our_rules() -> list[str]:
    listed = subprocess.run([IPTABLES, "-w", "-S", "INPUT"], check=True, capture_output=True,
                            text=True).stdout  # fmt: skip
    return [line.replace('"', "") for line in listed.splitlines() if RULE_TAG in line]


def add_rule(port: int, comment: str) -> None:
    subprocess.run([IPTABLES, "-w", "-I", "INPUT", "-p", "tcp", "--dport", str(port),
                    "-m", "comment", "--comment", comment, "-j", "DROP"], check=True)  # fmt: skip


def test_rules_of_a_killed_run_are_removed_and_those_of_a_running_worker_kept():
    """pytest-xdist runs fault tests in two processes at once: one process's clean-up must
    not take away the rules of the other's fault while it lasts."""
    needs_iptables()
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           check=True, capture_output=True, text=True)  # fmt: skip
    dead_pid = int(ended.stdout)
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        add_rule(9, f"{RULE_TAG}:{dead_pid}")  # a killed run's leftover
        add_rule(9, RULE_TAG)  # an older run's, before rules named their process
        add_rule(9, f"{RULE_TAG}:{running.pid}")  # another worker's fault, going on
        with unanswered(19):
            during = our_rules()
        after = our_rules()
    finally:
        running.kill()
        running.wait()
        for line in our_rules():  # whatever this test added and is still there
            subprocess.run([IPTABLES, "-w", "-D", *shlex.split(line)[1:]], check=False)

    assert not any(f"{RULE_TAG}:{dead_pid} " in line for line in during)
    assert not any(line.endswith(f"{RULE_TAG} -j DROP") for line in during)
    assert any(f"{RULE_TAG}:{running.pid} " in line for line in during)
    assert sum(f"{RULE_TAG}:{os.getpid()} " in line for line in during) == 2  # in and out
    assert [line for line in after if f":{os.getpid()} " in line] == []


def test_the_proxy_closes_the_server_side_of_a_client_that_gave_up_during_a_cut():
    """An app's connection that times out while packets are dropped is closed without a word
    reaching the proxy. The proxy must still let go of the server connection behind it, soon
    and not whenever its back-off next retransmits (the leak guard of ``make_app`` counts the
    server's connections when the test ends)."""
    needs_iptables()
    server = socket.create_server(("127.0.0.1", 0))
    proxy = TcpProxy(*server.getsockname())
    client = socket.create_connection(("127.0.0.1", proxy.port))
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, 500)  # like the app's
    upstream, _ = server.accept()
    try:
        with unanswered(proxy.port):
            upstream.sendall(b"a reply the client never gets")  # left unacknowledged
            client.sendall(b"a statement the proxy never gets")
            client.settimeout(5)
            with pytest.raises(OSError):  # the client gives up (TCP_USER_TIMEOUT)
                client.recv(1)
            client.close()
            started = time.monotonic()
            readable, _, _ = select.select([upstream], [], [], 5)
            waited = time.monotonic() - started
            assert readable, "the proxy kept the server connection of a client that gave up"
            assert upstream.recv(1) == b""  # the proxy closed its side: end of stream
        assert waited < 3
    finally:
        for sock in (client, upstream, server):
            sock.close()
        proxy.close()
