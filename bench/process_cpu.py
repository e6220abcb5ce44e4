"""CPU time spent by the processes of this machine, grouped by role, for the
benchmarks (standard library only, Linux ``/proc``).

A closed loop of ``c`` clients on a machine of ``n`` cores cannot serve more
than ``n`` seconds of CPU per second, so (Little's law) its requests take on
average at least ``c / n`` times the machine time one request costs in all
processes (the server's workers and their helper processes, PostgreSQL, the
clients themselves); the median is near that mean when the requests are
alike. The benchmarks print that machine time next to the latencies, so a
latency target can be checked against what the machine can do at all::

    before = snapshot(server_pid)
    ...  # n requests
    print(per_request(before, snapshot(server_pid), n))
"""

import os
import time
from collections import Counter

TICK = os.sysconf("SC_CLK_TCK")

#: The roles, in the order they are printed.
ROLES = ("odoo", "helpers", "postgresql", "client", "other")


def _processes():
    """``{(pid, start time): (ppid, command line, CPU seconds)}`` of every
    process now (the start time tells a reused pid from the process that
    had it before)."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{name}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        # after the command: state ppid ... utime (12th) stime (13th) ... starttime (20th), in clock ticks
        found[int(name), int(fields[19])] = (int(fields[1]), command, (int(fields[11]) + int(fields[12])) / TICK)
    return found


def snapshot(server_pid):
    """``{(pid, start time): (role, CPU seconds)}``: the Odoo server
    ``server_pid`` (its prefork master) and its workers are "odoo", their own
    children (the upload checker and the signing process) "helpers",
    PostgreSQL's processes "postgresql", this process "client", anything
    else "other" (on a shared machine, load that is not the benchmark's)."""
    processes = _processes()
    parent = {pid: ppid for (pid, _start), (ppid, _command, _seconds) in processes.items()}

    def depth_under_server(pid):
        depth = 0
        while pid and pid in parent and depth < 10:
            if pid == server_pid:
                return depth
            pid, depth = parent[pid], depth + 1
        return None

    roles = {}
    for key, (_ppid, command, seconds) in processes.items():
        depth = depth_under_server(key[0])
        program = command.split(" ", 1)[0]
        if key[0] == os.getpid():
            role = "client"
        elif depth is not None:
            role = "odoo" if depth <= 1 else "helpers"
        elif command.startswith("postgres:") or os.path.basename(program) == "postgres":  # backends, postmaster
            role = "postgresql"
        else:
            role = "other"
        roles[key] = (role, seconds)
    return roles


def per_request(before, after, requests):
    """``{role: CPU milliseconds per request}`` between two snapshots;
    ``"total"``, every role but "other"; ``"ended"``, how many processes
    ended meanwhile (their last CPU time is not counted)."""
    spent = Counter()
    for key, (role, seconds) in after.items():
        spent[role] += seconds - before.get(key, (role, 0.0))[1]
    result = {role: spent[role] * 1000 / requests for role in ROLES}
    result["total"] = sum(result[role] for role in ROLES if role != "other")
    result["ended"] = len(before.keys() - after.keys())
    return result


def describe(costs):
    """One line: the total and each role's share."""
    parts = ", ".join(f"{role} {costs[role]:.1f}" for role in ROLES[:-1] if costs[role] >= 0.05) or "none"
    ended = f", {costs['ended']} processes ended meanwhile" if costs["ended"] else ""
    return (f"{costs['total']:.1f} ms of CPU per request ({parts}); other processes "
            f"{costs['other']:.1f} ms{ended}")


def reference_loop_ms(runs=5):
    """Median milliseconds of a fixed pure-Python loop (3 million additions):
    how fast the shared host runs Python right now, printed with the figures
    so that runs taken at different times can be compared (on this project's
    VM it took from 148 to 329 ms within one hour on 24/11/2026)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        total = 0
        for i in range(3_000_000):
            total += i
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)[len(times) // 2]
