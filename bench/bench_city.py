#!/usr/bin/env python3
"""Benchmark of the oversight dashboards and exports on a generated city.

    python3 bench/gen_city.py --db hcity            # once: 1,000 schools, 45,000 teachers
    python3 bench/bench_city.py --db hcity [--runs 20] [--export-rows 50000]

On the city built by ``bench/gen_city.py`` it measures, on a 2-core machine:

* rebuilding the pre-aggregated tables (``hscm.progress.summary._refresh``),
  through the ORM, committed — target <= 60 s;
* over JSON-RPC (``--workers 2``), each call ``--runs`` times, by the account
  whose rights apply (record rules included):

  - city-wide views from the pre-aggregated tables, as a Sở leader: offices ×
    35 weeks (office-week table); schools (1,000 rows) × the last 4 weeks and
    × one week, whole and one page of 100 rows (what the portal page shows);
    the Sở math specialist's schools × 4 weeks (summary, their subject's rows),
    whole and a page, and subjects × 35 weeks (subject-week table) —
    target <= 50 ms each;
  - selective dashboards, live from the dossiers: one department × 6 weeks
    (its head), one school × one week (its principal), an office's schools ×
    35 weeks (its inspector) — target <= 100 ms;

* the Excel export of the dossier register, ``--export-rows`` rows (and a
  fifth of them, to show memory does not grow with the rows), as the Sở
  leader: time (target <= 10 s for 50,000 rows) and the serving worker's
  peak memory above its size before the request.

It prints figures; it asserts nothing (timings on shared machines vary).
"""

import argparse
import importlib.machinery
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
hscm = importlib.machinery.SourceFileLoader("hscm_cli", str(ROOT / "bin" / "hscm")).load_module()
sys.path.insert(0, str(Path(__file__).resolve().parent))
import process_cpu  # noqa: E402
from rpc_client import Client  # noqa: E402

PASSWORD = "bench-city-password"

# Runs in `odoo shell`: picks the accounts of each role (creating the office
# and Sở accounts when the generator made none), sets their password,
# rebuilds the summaries (timed) and prints RESULT {json}.
SETUP_SCRIPT = r'''
import json, time
from odoo import Command
P = json.loads(PARAMS)
Users = env["res.users"].with_context(no_reset_password=True, active_test=False)
year = env["hscm.school.year"].search([], order="id desc", limit=1)
sgd = year.authority_id
schools = env["hscm.school"].search([("authority_id", "=", sgd.id)], order="id")
env.cr.execute("SELECT MAX(submitted_on) FROM hscm_dossier WHERE school_year_id = %s", [year.id])
now = (env.cr.fetchone()[0] or year.date_start) + __import__("datetime").timedelta(days=1)

def account(login, name, group, authority, subjects=()):
    user = Users.search([("login", "=", login)])
    if not user:
        user = Users.create({"name": name, "login": login, "hscm_authority_id": authority.id,
                             "groups_id": [Command.link(env.ref(group).id)],
                             "hscm_subject_ids": [Command.set([s.id for s in subjects])]})
    return user

office = schools.filtered(lambda s: s.reports_to_id and s.reports_to_id.kind != "department")[:1].reports_to_id
math = env.ref("hscm_odoo.subject_toan")
users = {
    "city": account("bench.city.leader", "Lãnh đạo Sở (bench)", "hscm_odoo.group_city_leader", sgd),
    "office": account("bench.city.office", "Chuyên viên Phòng (bench)", "hscm_odoo.group_office_inspector", office),
    "specialist": account("bench.city.math", "Chuyên viên Toán (bench)", "hscm_odoo.group_city_specialist", sgd, [math]),
}
department = env["hscm.school.department"].search([("school_id", "=", schools[0].id), ("head_id.user_id", "!=", False)],
                                                 limit=1)
users["head"] = department.head_id.user_id
users["principal"] = schools[0]._staff_holding("principal").user_id[:1] or schools[0]._staff_holding("vice_principal").user_id[:1]
for user in users.values():
    user.password = P["password"]
env.cr.commit()

week = env["hscm.school"].browse(schools[0].id).get_teaching_week(now).get("week") or 20
started = time.perf_counter()
result = env["hscm.progress.summary"]._refresh(year, now=now)
env.cr.commit()
refresh = time.perf_counter() - started
env.cr.execute("SELECT COUNT(*), COALESCE(SUM(expected), 0) FROM hscm_progress_summary WHERE school_year_id = %s", [year.id])
rows, items = env.cr.fetchone()
env.cr.execute("SELECT COUNT(*) FROM hscm_progress_school_week WHERE school_year_id = %s", [year.id])
school_weeks = env.cr.fetchone()[0]
env.cr.execute("SELECT id FROM hscm_dossier ORDER BY id OFFSET %s LIMIT 1", [P["export_rows"] - 1])
export_max = (env.cr.fetchone() or [0])[0]
env.cr.execute("SELECT id FROM hscm_dossier ORDER BY id OFFSET %s LIMIT 1", [P["export_rows"] // 5 - 1])
export_small_max = (env.cr.fetchone() or [0])[0]
print("RESULT " + json.dumps({
    "logins": {k: u.login for k, u in users.items()}, "year": year.id, "week": week, "now": str(now),
    "schools": len(schools), "teachers": env["hscm.staff"].search_count([("school_id.authority_id", "=", sgd.id)]),
    "dossiers": env["hscm.dossier"].search_count([("school_year_id", "=", year.id)]),
    "refresh_seconds": refresh, "summary_rows": rows, "items": items, "school_week_rows": school_weeks,
    "department": department.id, "school": schools[0].id, "office": office.id,
    "export_max_id": export_max, "export_small_max_id": export_small_max,
}))
'''


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def timed(func, runs):
    func()  # warm caches once, as a user's second look would
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        seconds.append(time.perf_counter() - started)
    return seconds


def row(label, seconds, target_ms, extra=""):
    ms = [s * 1000 for s in seconds]
    median = statistics.median(ms)
    met = "met" if median <= target_ms else "NOT met"
    return (f"  {label:<58} median {median:7.1f} ms  p95 {pct(ms, .95):7.1f} ms  "
            f"(target <= {target_ms} ms: {met}){extra}")


def workers_of(server_pid):
    """The pids of the HTTP worker processes of a prefork Odoo."""
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(server_pid)], capture_output=True, text=True)
    return [int(line.split()[0]) for line in out.stdout.splitlines() if "gevent" not in line]


def status_kb(pid, key):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def reset_peaks(pids):
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        except OSError:
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="hcity")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--export-rows", type=int, default=50000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    odoo, db = hscm.prepare(need_browser=False)
    if not db.exists(args.db):
        hscm.fail(f"no database {args.db}: build it first with python3 bench/gen_city.py --db {args.db}")
    tmp = Path(tempfile.mkdtemp(prefix="hscm-city-"))
    script = tmp / "setup.py"
    script.write_text(f"PARAMS = {json.dumps(json.dumps({'password': PASSWORD, 'export_rows': args.export_rows}))}\n"
                      + SETUP_SCRIPT)
    with open(script) as stdin:
        proc = subprocess.run(odoo.command("-d", args.db, "--no-http", "--log-level=warn", subcommand="shell"),
                              stdin=stdin, capture_output=True, text=True, cwd=str(hscm.RUN), env=hscm.odoo_env())
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode or not lines:
        print(proc.stdout[-3000:], proc.stderr[-3000:])
        hscm.fail("the setup of the city benchmark failed")
    info = json.loads(lines[0][7:])

    print(f"\nhscm_odoo oversight benchmark — {args.db}: {info['schools']} schools, {info['teachers']} staff, "
          f"{info['dossiers']:,} dossiers, {info['items']:,} owed items (as of {info['now'][:16]} UTC); host speed: "
          f"the reference loop took {process_cpu.reference_loop_ms():.0f} ms\n")
    print(f"  {'rebuild of the pre-aggregated tables (ORM, committed)':<58} {info['refresh_seconds']:7.1f} s       "
          f"(target <= 60 s: {'met' if info['refresh_seconds'] <= 60 else 'NOT met'}); "
          f"{info['summary_rows']:,} summary rows, {info['school_week_rows']:,} school-week rows")

    port = hscm.free_port(18669)
    server = subprocess.Popen(
        odoo.command("-d", args.db, f"--db-filter=^{args.db}$", "--http-port", str(port),
                     "--http-interface", "127.0.0.1", "--workers", str(args.workers), "--max-cron-threads", "0",
                     "--limit-time-real", "600", "--limit-memory-soft", str(4 << 30),
                     "--limit-memory-hard", str(6 << 30), "--logfile", str(hscm.RUN / "bench-city-server.log")),
        cwd=str(hscm.RUN), env=hscm.odoo_env())
    url = f"http://127.0.0.1:{port}"
    try:
        hscm.wait_http(url + "/web/login")
        client = {role: Client(url, args.db, login, PASSWORD) for role, login in info["logins"].items()}
        week = max(4, min(35, info["week"]))
        last4 = {"week_from": week - 3, "week_to": week}

        def rollup(role, **kwargs):
            return lambda: client[role].call_kw("hscm.progress", "rollup_view", [], kwargs)

        print("\n  city-wide, from the pre-aggregated tables:")
        shapes = {}
        for label, role, kwargs in (
            ("Sở leader: offices × 35 weeks", "city", {"group_by": "reports_to"}),
            ("Sở leader: schools × last 4 weeks", "city", dict(group_by="school", **last4)),
            ("Sở leader: schools × one week", "city", dict(group_by="school", week_from=week,
                                                                        week_to=week)),
            ("Sở leader: schools × last 4 weeks, a page (100)", "city",
             dict(group_by="school", limit=100, offset=500, **last4)),
            ("Sở math specialist: schools × last 4 weeks (math)", "specialist", dict(group_by="school", **last4)),
            ("Sở math specialist: schools × last 4 weeks, a page (100)", "specialist",
             dict(group_by="school", limit=100, offset=500, **last4)),
            ("Sở math specialist: subjects × 35 weeks", "specialist", {"group_by": "subject"}),
        ):
            result = rollup(role, **kwargs)()
            shapes[label] = (len(result["rows"]), len(result["weeks"]))
            before = process_cpu.snapshot(server.pid)
            seconds = timed(rollup(role, **kwargs), args.runs)
            cpu = process_cpu.per_request(before, process_cpu.snapshot(server.pid), args.runs + 1)
            print(row(label, seconds, 50, f"  {shapes[label][0]} rows × {shapes[label][1]} weeks; "
                                          f"CPU {cpu['total']:.0f} ms a call"))

        # what the largest answer costs before any query: the round trip of an empty call, and encoding and
        # decoding the answer's JSON (measured here, with the server's Python and its encoder's options)
        text = client["city"].call_raw("/web/dataset/call_kw", Client.kw_params(
            "hscm.progress", "rollup_view", [], dict(group_by="school", **last4)))
        answer = json.loads(text)["result"]
        figures = sum(len(cell) for r in answer["rows"] for cell in [*r["weeks"].values(), r["total"]])
        before = process_cpu.snapshot(server.pid)
        empty = timed(lambda: client["city"].call_kw("res.users", "context_get", []), args.runs)
        empty_cpu = process_cpu.per_request(before, process_cpu.snapshot(server.pid), args.runs + 1)
        encoding = timed(lambda: json.dumps(answer, ensure_ascii=False), args.runs)
        parts = [statistics.median(seconds) * 1000 for seconds in (empty, encoding,
                                                                  timed(lambda: json.loads(text), args.runs))]
        print(f"  {'  all schools × 4 weeks: the floor':<58} {sum(parts):7.1f} ms before any query: an empty "
              f"call {parts[0]:.1f} ms (CPU {empty_cpu['total']:.1f} ms), encoding the answer "
              f"({len(text) / 1024:.0f} KB, {figures:,} figures) {parts[1]:.1f} ms, decoding it {parts[2]:.1f} ms")

        print("\n  selective, live from the dossiers:")
        print(row("department head: one department × 6 weeks",
                  timed(lambda: client["head"].call_kw("hscm.progress", "department_grid",
                                                       [info["department"], week - 5, week]), args.runs), 100))
        print(row("principal: one school, one week (per department)",
                  timed(lambda: client["principal"].call_kw("hscm.progress", "school_week",
                                                            [info["school"], week]), args.runs), 100))
        result = rollup("office", group_by="school")()
        print(row("office inspector: its schools × 35 weeks", timed(rollup("office", group_by="school"), args.runs),
                  100, f"  {len(result['rows'])} schools"))

        print("\n  Excel export of the dossier register (Sở leader), streamed:")
        pids = workers_of(server.pid)
        for label, max_id in (("a fifth", info["export_small_max_id"]), ("all", info["export_max_id"])):
            domain = urllib.parse.quote(json.dumps([["id", "<=", max_id]]))
            rss_before = {pid: status_kb(pid, "VmRSS") for pid in pids}
            reset_peaks(pids)
            started = time.perf_counter()
            content = client["city"].get(f"/hscm/export/register.xlsx?domain={domain}")
            seconds = time.perf_counter() - started
            growth = max(status_kb(pid, "VmHWM") - rss_before[pid] for pid in pids) / 1024
            rows_out = args.export_rows if label == "all" else args.export_rows // 5
            print(f"  {'%s: %d rows' % (label, rows_out):<58} {seconds:7.2f} s        "
                  f"(target <= 10 s for 50,000: {'met' if seconds <= 10 or label != 'all' else 'NOT met'}); "
                  f"{len(content) / 1048576:.1f} MB; worker peak +{growth:.0f} MiB over its size before")
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
