"""The fault helpers themselves: ``unanswered`` cleans up after killed runs, and only them."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

import pytest

from .db_faults import RULE_TAG, iptables_missing, unanswered

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
    if reason := iptables_missing():
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
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
