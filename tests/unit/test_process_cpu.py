"""bench/process_cpu.py: the benchmarks' machine-time accounting."""

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import process_cpu  # noqa: E402

# A stand-in for an Odoo server: a "worker" child, whose own child (a "helper") burns CPU when
# told to through its stdin, then waits.
SERVER = r"""
import subprocess, sys
HELPER = "import sys, time\nsys.stdin.readline()\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\nprint('done', flush=True)\nsys.stdin.readline()"
WORKER = "import subprocess, sys\nh = subprocess.Popen([sys.executable, '-c', %r])\nh.wait()" % HELPER
worker = subprocess.Popen([sys.executable, "-c", WORKER])
worker.wait()
"""


@pytest.fixture
def server():
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the server, its worker and the helper
        proc.wait()


def snapshot_with_helper(server_pid):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        roles = process_cpu.snapshot(server_pid)
        if any(role == "helpers" for role, _seconds in roles.values()):
            return roles
        time.sleep(0.05)
    raise AssertionError("the helper process did not start")


def roles_of(snapshot, pid):
    return [role for (each, _start), (role, _seconds) in snapshot.items() if each == pid]


def test_roles_and_cpu_per_request(server):
    before = snapshot_with_helper(server.pid)
    assert roles_of(before, server.pid) == ["odoo"]
    assert roles_of(before, os.getpid()) == ["client"]
    assert sum(role == "helpers" for role, _seconds in before.values()) == 1
    server.stdin.write("go\n")
    server.stdin.flush()
    ready, _, _ = select.select([server.stdout], [], [], 30)
    assert ready, "the helper did not answer"
    assert server.stdout.readline().strip() == "done"  # the helper's 0.3 s of CPU are spent
    costs = process_cpu.per_request(before, process_cpu.snapshot(server.pid), requests=3)
    assert 250 / 3 <= costs["helpers"] <= 600 / 3  # ms per "request": 0.3 s over 3
    assert costs["odoo"] < 50 / 3
    assert costs["total"] == pytest.approx(sum(costs[role] for role in process_cpu.ROLES if role != "other"))
    assert costs["ended"] == 0
    assert process_cpu.describe(costs).startswith(f"{costs['total']:.1f} ms of CPU per request (")


def test_an_ended_process_and_a_reused_pid_count_apart():
    before = {(10, 1): ("helpers", 5.0), (11, 1): ("odoo", 1.0)}
    after = {(10, 2): ("helpers", 0.2), (11, 1): ("odoo", 1.5)}  # pid 10 ended, then came back as a new process
    costs = process_cpu.per_request(before, after, requests=2)
    assert costs["helpers"] == pytest.approx(100.0)  # the new process's 0.2 s, not 0.2 - 5.0
    assert costs["odoo"] == pytest.approx(250.0)
    assert costs["ended"] == 1


def test_reference_loop_is_measured():
    assert process_cpu.reference_loop_ms(runs=1) > 0
