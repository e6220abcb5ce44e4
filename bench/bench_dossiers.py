#!/usr/bin/env python3
"""Benchmark of submissions and approvals, through the ORM and over HTTP.

    python3 bench/bench_dossiers.py [--db hscm_bench] [--schools 40] [--uploads 24] [--size-mb 5]

On a copy of the demo database grown with a generated district (``--schools``
schools of 25 staff each), it measures:

* through the ORM: upload (create with the file: decode, checks, save),
  submit (checks again, chain, version, activity, audit) and each approval,
  one transaction each, committed;
* batch approval of 20 dossiers in one call, after an untimed small batch
  (the process's first batch compiles what batches use and starts its
  signing process) (target >= 20 dossiers/s at 5 MB;
  ``--profile FILE`` writes its cProfile);
* memory of batch approvals of 10, 25 and 50 dossiers (``--memory-batches``),
  one call each: RSS before and after, and the peak RSS during the call
  (VmHWM reset before it), which must not grow with the batch size;
* over HTTP (``--workers 2``): ``--uploads`` uploads of a ``--size-mb`` MB
  lesson plan, 4 at a time from 4 teachers, end to end, through JSON-RPC
  (base64 in JSON, unless ``--skip-json``) and through ``/hscm/api/dossiers``
  as multipart and as a raw body; then raw-body uploads one at a time;
* the upload check next to the SHA-256 time of the same bytes;
* the machine time of a raw-body upload at 4 concurrent uploads: the CPU
  time of every process (Odoo's workers, their checker processes,
  PostgreSQL, this client) per upload, and the same for a request that
  carries the same body to the same route but is answered at once (no
  ``X-HSCM-Upload`` header): what HTTP alone costs. On ``n`` cores, 4
  clients in a closed loop wait on average at least ``4 / n`` times the
  machine time of one upload (``bench/process_cpu.py``).

Targets (issue "Dossiers"): upload check <= 5 ms + 1x SHA-256; a 5 MB upload
end to end: median <= 80 ms, 95th percentile <= 250 ms at 4 concurrent uploads.
It prints figures; it asserts nothing (timings on shared machines vary).
Before measuring it touches 6 GiB of memory once (see ``warm_memory``).
"""

import argparse
import base64
import hashlib
import importlib.machinery
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_file_check import lesson_plan_pdf, load_tools  # noqa: E402
import process_cpu  # noqa: E402
import rpc_client  # noqa: E402

hscm = importlib.machinery.SourceFileLoader("hscm_cli", str(ROOT / "bin" / "hscm")).load_module()

PASSWORD = "bench-password"

ORM_SCRIPT = r'''
import base64, json, statistics, time
from odoo import Command
from odoo.tests import new_test_user

params = json.loads(open(PARAMS).read())
files = [open(p, "rb").read() for p in params["files"]]
Staff = env["hscm.staff"]
position = {c: env.ref(f"hscm_odoo.position_{c}") for c in ("teacher", "department_head", "vice_principal")}
sgd = env.ref("hscm_odoo.demo_authority_sgd")
year = env.ref("hscm_odoo.demo_school_year_2026")
office = env["hscm.authority"].search([("code", "=", "BENCH-PGD")])
if not office:
    office = env["hscm.authority"].create({"name": "Phòng GDĐT (bench)", "code": "BENCH-PGD",
                                          "kind": "district_office", "parent_id": sgd.id})
    started = time.perf_counter()
    for s in range(params["schools"]):
        school = env["hscm.school"].create({"name": f"THCS bench {s}", "code": f"BENCH-{s}", "office_id": office.id})
        dept = env["hscm.school.department"].create({"name": "Tổ KHTN", "school_id": school.id})
        users = env["res.users"].with_context(no_reset_password=True).create([dict({
            "name": f"GV bench {s}-{i}", "login": f"bench.{s}.{i}",
        }, **({"password": PASSWORD} if s == 0 and i < 6 else {})) for i in range(25)])
        Staff.create([{
            "name": u.name, "user_id": u.id, "school_id": school.id, "school_department_id": dept.id,
            "position_ids": [Command.set([position["department_head" if i == 0 else
                                                  "vice_principal" if i == 1 else "teacher"].id])],
            "subject_ids": [Command.set(env.ref("hscm_odoo.subject_toan").ids)],
        } for i, u in enumerate(users)])
        dept.head_id = Staff.search([("user_id", "=", users[0].id)])
    env.cr.commit()
    print("GENERATED", params["schools"], "schools in", round(time.perf_counter() - started, 1), "s")

school0 = env["hscm.school"].search([("code", "=", "BENCH-0")])
users = env["res.users"].search([("login", "=like", "bench.0.%")], order="id")
head, vp, teachers = users[0], users[1], users[2:]
# approvers sign with certificates of an organisation CA (PKCS#12, key opened once per call)
ca = env["hscm.certificate.authority"].search([("name", "=", "CA bench")], limit=1) or env[
    "hscm.certificate.authority"].create({"name": "CA bench", "organisation": "Sở bench", "authority_id": sgd.id})
for approver in (head, vp):
    if not env["hscm.signing.credential"]._for_user(approver):
        ca._issue(approver, "bench")
env.cr.commit()
lesson_type = env.ref("hscm_odoo.dossier_type_teacher_education_plan")
stamp = int(time.time())
times = {"create": [], "submit": [], "approve_head": [], "approve_vp": []}
ids = []
for i, data in enumerate(files):
    teacher = teachers[i % len(teachers)]
    vals = {"title": f"Kế hoạch {stamp}-{i}", "type_id": lesson_type.id, "school_year_id": year.id,
            "subject_id": env.ref("hscm_odoo.subject_toan").id,
            "file": base64.b64encode(data), "file_name": f"kh-{i}.pdf"}
    t = time.perf_counter(); dossier = env["hscm.dossier"].with_user(teacher).create(vals); env.cr.commit()
    times["create"].append(time.perf_counter() - t)
    t = time.perf_counter(); dossier.action_submit(); env.cr.commit()
    times["submit"].append(time.perf_counter() - t)
    ids.append(dossier.id)
for key, user in (("approve_head", head), ("approve_vp", vp)):
    for dossier_id in ids:
        t = time.perf_counter()
        env["hscm.dossier"].with_user(user).browse(dossier_id).action_approve(passphrase="bench")
        env.cr.commit()
        times[key].append(time.perf_counter() - t)
# one small batch first, untimed: a worker's first batch compiles what only batches use (the
# message listing a decider's new records, the batched chatter notes) and starts the worker's
# signing process (tools/signing_process.py), once per process
from odoo.addons.hscm_odoo.models.hscm_dossier_signing import PROCESS_BATCH_MIN
warm = []
for i in range(PROCESS_BATCH_MIN):
    d = env["hscm.dossier"].with_user(teachers[i]).create({
        "title": f"Warm-up {stamp}-{i}", "type_id": lesson_type.id, "school_year_id": year.id,
        "subject_id": env.ref("hscm_odoo.subject_toan").id,
        "file": base64.b64encode(files[i] + f"\n% warm-up {stamp} {i}\n".encode()), "file_name": "w.pdf"})
    d.action_submit()
    warm.append(d.id)
env["hscm.dossier"].with_user(head).browse(warm).action_approve(passphrase="bench")
env.cr.commit()
batch = []
for i in range(20):
    teacher = teachers[i % len(teachers)]
    d = env["hscm.dossier"].with_user(teacher).create({
        "title": f"Batch {stamp}-{i}", "type_id": lesson_type.id, "school_year_id": year.id,
        "subject_id": env.ref("hscm_odoo.subject_toan").id,
        "file": base64.b64encode(files[i % len(files)] + f"\n% batch {stamp} {i}\n".encode()),
        "file_name": "b.pdf"})
    d.action_submit()
    batch.append(d.id)
env.cr.commit()
env.invalidate_all()  # the approval comes in a request of its own: nothing of the uploads in its cache
t = time.perf_counter()
if params.get("profile"):
    import cProfile
    profiler = cProfile.Profile()
    profiler.enable()
env["hscm.dossier"].with_user(head).browse(batch).action_approve(passphrase="bench")
env.cr.commit()
batch_seconds = time.perf_counter() - t
if params.get("profile"):
    profiler.disable()
    profiler.dump_stats(params["profile"])


def memory():
    """(VmRSS, VmHWM) of this process in MiB."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _sep, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", float("nan")), values.get("VmHWM", float("nan"))


def reset_peak_memory():
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


# memory of a batch: one call each for 10, 25, 50 dossiers; the peak RSS
# during the call must not grow with the batch size
import gc
memory_rows = []
for size in params.get("memory_batches", []):
    ids = []
    for i in range(size):
        teacher = teachers[i % len(teachers)]
        d = env["hscm.dossier"].with_user(teacher).create({
            "title": f"Memory {stamp}-{size}-{i}", "type_id": lesson_type.id, "school_year_id": year.id,
            "subject_id": env.ref("hscm_odoo.subject_toan").id,
            "file": base64.b64encode(files[i % len(files)] + f"\n% memory {stamp} {size} {i}\n".encode()),
            "file_name": "m.pdf"})
        d.action_submit()
        ids.append(d.id)
        if i % 10 == 9:
            env.cr.commit()
            env.invalidate_all()
    env.cr.commit()
    env.invalidate_all()
    gc.collect()
    rss_before, _peak = memory()
    peak_reset = reset_peak_memory()
    t, cpu = time.perf_counter(), time.process_time()
    env["hscm.dossier"].with_user(head).browse(ids).action_approve(passphrase="bench")
    env.cr.commit()
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    rss_after, peak = memory()
    memory_rows.append({"size": size, "seconds": seconds, "cpu": cpu, "rss_before": rss_before, "rss_after": rss_after,
                        "peak": peak, "peak_reset": peak_reset})
    env.invalidate_all()
print("RESULT", json.dumps({"times": times, "batch_seconds": batch_seconds, "batch": len(batch),
                            "memory": memory_rows,
                            "dossiers": env["hscm.dossier"].search_count([]),
                            "teachers": [u.login for u in teachers[:4]]}))
'''


def warm_memory(gib=6):
    """Touch ``gib`` GiB of memory once, in a child process, and free it.

    On these virtual machines the host backs guest memory lazily and takes
    free memory back after a while: the first write to such a page costs a
    fault on the host. Writing a new 5 MB file into the page cache then
    takes ~16 ms instead of ~1.5 ms (measured below). The records' own files
    no longer pay it (they are written durably and dropped from the page
    cache, background_writer.write_file), but every fresh buffer of the
    processes does. The warm state fades within minutes; the bench prints
    the cold and warm write times it saw.
    """
    probe = Path(tempfile.mkdtemp(prefix="hscm-warm-"))
    block = os.urandom(5 * 1024 * 1024)

    def write_ms(count=8):
        times = []
        for i in range(count):
            t = time.perf_counter()
            (probe / f"{time.time_ns()}-{i}").write_bytes(block)
            times.append((time.perf_counter() - t) * 1000)
        return statistics.median(times)

    cold = write_ms()
    subprocess.run([sys.executable, "-c", f"b = bytearray({gib} * 1024 ** 3)\n"
                    "for i in range(0, len(b), 4096): b[i] = 1"], check=True)
    warm = write_ms()
    for path in probe.iterdir():
        path.unlink()
    probe.rmdir()
    print(f"memory warm-up: writing a new 5 MB file took {cold:.1f} ms before touching {gib} GiB, "
          f"{warm:.1f} ms after", flush=True)


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def row(label, seconds):
    ms = [s * 1000 for s in seconds]
    return f"  {label:<38} n={len(ms):<4} median {statistics.median(ms):8.1f} ms   p95 {pct(ms, .95):8.1f} ms"


class Client(rpc_client.Client):
    def __init__(self, url, login):
        super().__init__(url, ARGS.db, login, PASSWORD, timeout=120)

    def upload(self, fields, name, data):
        """multipart/form-data POST to /hscm/api/dossiers (raw bytes, no base64)."""
        boundary = "hscmbench" + str(time.time_ns())
        parts = []
        for key, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                     f"Content-Type: application/pdf\r\n\r\n".encode() + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        request = urllib.request.Request(self.url + "/hscm/api/dossiers", data=b"".join(parts), headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", "X-HSCM-Upload": "1"})
        with self.opener.open(request, timeout=120) as response:
            return json.loads(response.read())

    def raw_request(self, fields, name, data, marked=True):
        """The file as the POST body, the fields in the query string; without
        the ``X-HSCM-Upload`` header unless ``marked``."""
        query = urllib.parse.urlencode(dict(fields, file_name=name))
        headers = {"Content-Type": "application/pdf", **({"X-HSCM-Upload": "1"} if marked else {})}
        return urllib.request.Request(f"{self.url}/hscm/api/dossiers?{query}", data=data, headers=headers)

    def upload_raw(self, fields, name, data):
        with self.opener.open(self.raw_request(fields, name, data), timeout=120) as response:
            return json.loads(response.read())

    def post_refused(self, fields, name, data):
        """The raw-body upload without its ``X-HSCM-Upload`` header: the route
        answers 400 at once, so the request costs what HTTP alone costs."""
        try:
            self.opener.open(self.raw_request(fields, name, data, marked=False), timeout=120).close()
        except urllib.error.HTTPError as error:
            error.read()
            if error.code != 400:
                raise
        else:
            raise RuntimeError("the upload without its header was accepted")


def print_orm(orm, files, sha, check):
    size = len(Path(files[0]).read_bytes())
    print(f"\nhscm_odoo dossier benchmark — {ARGS.db}, {orm['dossiers']} dossiers in the database, "
          f"files of {size / 1048576:.2f} MB, {os.cpu_count()} cores; host speed: the reference loop took "
          f"{process_cpu.reference_loop_ms():.0f} ms\n")
    print(row("SHA-256 of the file", sha))
    print(row("upload check (sandboxed)", check))
    print(f"  {'target for the check':<38} {5 + statistics.median(sha) * 1000:8.1f} ms (5 ms + 1x SHA-256)")
    t = orm["times"]
    print(row("ORM upload (create + checks + save)", t["create"]))
    print(row("ORM submit (checks, chain, version)", t["submit"]))
    print(row("ORM approve + sign, step 1 (head)", t["approve_head"]))
    print(row("ORM approve + sign, step 2 (VP, final)", t["approve_vp"]))
    per = orm["batch_seconds"] / orm["batch"]
    print(f"  {'ORM batch approve + sign (one call)':<38} n={orm['batch']:<4} {per * 1000:8.1f} ms per dossier, "
          f"{1 / per:6.1f} dossiers/s   (target >= 20/s)")
    for item in orm.get("memory", []):
        per = item["seconds"] / item["size"]
        print(f"  {'  batch of %d, one call' % item['size']:<38} {per * 1000:8.1f} ms per dossier "
              f"({item.get('cpu', 0) / item['size'] * 1000:.1f} ms CPU in this process), "
              f"{1 / per:6.1f} dossiers/s; RSS MiB before {item['rss_before']:7.1f} after "
              f"{item['rss_after']:7.1f} peak {item['peak']:7.1f}"
              + ("" if item["peak_reset"] else " (peak not reset: lifetime peak)"))
    rows = orm.get("memory", [])
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        print(f"  {'  batch memory, %d -> %d dossiers' % (first['size'], last['size']):<38} peak RSS over the "
              f"batch's start {first['peak'] - first['rss_before']:+.1f} -> {last['peak'] - last['rss_before']:+.1f} "
              f"MiB (must not grow with the batch)")


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="hscm_bench")
    parser.add_argument("--schools", type=int, default=40)
    parser.add_argument("--uploads", type=int, default=24)
    parser.add_argument("--size-mb", type=float, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-json", action="store_true", help="skip the JSON-RPC (base64) uploads")
    parser.add_argument("--reset", action="store_true")
    parser.add_argument("--orm-only", action="store_true", help="skip the HTTP uploads")
    parser.add_argument("--memory-batches", default="10,25,50",
                        help="sizes of the batch approvals whose memory is measured ('' for none)")
    parser.add_argument("--profile", help="write a cProfile of the 20-dossier batch approval to this file")
    parser.add_argument("--no-warm-memory", action="store_true",
                        help="skip touching the machine's memory once before measuring")
    ARGS = parser.parse_args()

    if not ARGS.no_warm_memory:
        warm_memory()
    odoo, db = hscm.prepare(need_browser=False)
    if ARGS.reset or not db.exists(ARGS.db):
        hscm.say(f"building {ARGS.db} from the demo city")
        hscm.create_demo_db(odoo, db, ARGS.db, label="bench-install")

    tmp = Path(tempfile.mkdtemp(prefix="hscm-bench-"))
    base = lesson_plan_pdf(int(ARGS.size_mb * 1024 * 1024), seed=7)
    stamp = str(time.time()).encode()
    files = []
    for i in range(ARGS.uploads):
        path = tmp / f"plan-{i}.pdf"
        path.write_bytes(base + b"\n% variant " + stamp + b" " + str(i).encode() + b"\n")
        files.append(str(path))

    # the upload check next to SHA-256
    file_check, file_sandbox = load_tools()
    checker = file_sandbox.SandboxedChecker()
    sha, check = [], []
    for path in files[:10]:
        data = Path(path).read_bytes()
        t = time.perf_counter(); hashlib.sha256(data).hexdigest(); sha.append(time.perf_counter() - t)
        t = time.perf_counter(); verdict = checker.check(data, "plan.pdf"); check.append(time.perf_counter() - t)
        assert verdict.ok, verdict.code
    checker.close()

    # through the ORM
    params = tmp / "params.json"
    params.write_text(json.dumps({
        "files": files, "schools": ARGS.schools,
        "memory_batches": [int(n) for n in ARGS.memory_batches.split(",") if n.strip()],
        "profile": str(Path(ARGS.profile).resolve()) if ARGS.profile else None}))
    script = tmp / "orm.py"
    script.write_text(f"PARAMS = {str(params)!r}\nPASSWORD = {PASSWORD!r}\n" + ORM_SCRIPT)
    with open(script) as stdin:
        proc = subprocess.run(odoo.command("-d", ARGS.db, "--no-http", "--log-level=warn", subcommand="shell"),
                              stdin=stdin, capture_output=True, text=True, cwd=str(hscm.RUN), env=hscm.odoo_env())
    lines = [line for line in proc.stdout.splitlines() if line.startswith(("RESULT", "GENERATED"))]
    if proc.returncode or not any(line.startswith("RESULT") for line in lines):
        print(proc.stdout[-3000:], proc.stderr[-3000:])
        hscm.fail("the ORM benchmark failed")
    orm = json.loads([line for line in lines if line.startswith("RESULT")][0][7:])

    if ARGS.orm_only:
        print_orm(orm, files, sha, check)
        return

    # over HTTP, 4 concurrent uploads
    port = hscm.free_port(18569)
    server = subprocess.Popen(
        odoo.command("-d", ARGS.db, f"--db-filter=^{ARGS.db}$", "--http-port", str(port),
                     "--http-interface", "127.0.0.1", "--workers", str(ARGS.workers), "--max-cron-threads", "0",
                     "--limit-time-real", "600", "--logfile", str(hscm.RUN / "bench-server.log")),
        cwd=str(hscm.RUN), env=hscm.odoo_env())
    url = f"http://127.0.0.1:{port}"
    http_times, errors = [], []
    try:
        hscm.wait_http(url + "/web/login")
        clients = [Client(url, login) for login in orm["teachers"]]
        payloads = [base64.b64encode(Path(p).read_bytes() + b"\n% http\n").decode() for p in files]
        type_id = int(subprocess.run(
            ["psql", "-h", db.host, "-p", db.port, "-U", db.user, "-d", ARGS.db, "-tAc",
             "SELECT res_id FROM ir_model_data WHERE module='hscm_odoo' AND name='dossier_type_teacher_education_plan'"],
            capture_output=True, text=True, check=True).stdout.strip())
        lock = threading.Lock()
        raw = [Path(p).read_bytes() + b"\n% multipart\n" for p in files]

        def run(kind, sink, concurrency=4):
            def worker(client, index):
                for i in range(index, len(files), concurrency):
                    t = time.perf_counter()
                    try:
                        if kind == "json":
                            client.call_kw("hscm.dossier", "create", [{
                                "title": f"HTTP {i}", "type_id": type_id, "file": payloads[i],
                                "file_name": f"http-{i}.pdf"}])
                        elif kind == "refused":
                            client.post_refused({"title": f"refused {i}", "type_id": type_id}, f"no-{i}.pdf",
                                                raw[i])
                        elif kind == "multipart":
                            client.upload({"title": f"multipart {i}", "type_id": type_id}, f"mp-{i}.pdf", raw[i])
                        else:
                            client.upload_raw({"title": f"raw {i}", "type_id": type_id}, f"raw-{i}.pdf",
                                              raw[i] + b"\n% raw\n")
                    except Exception as error:  # noqa: BLE001 - counted and printed
                        errors.append(str(error))
                    with lock:
                        sink.append(time.perf_counter() - t)

            started = time.perf_counter()
            threads = [threading.Thread(target=worker, args=(c, i)) for i, c in enumerate(clients[:concurrency])]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return time.perf_counter() - started

        # a warm-up request per client starts each worker's checker process
        for index, client in enumerate(clients):
            client.upload({"title": f"warm-up {index}", "type_id": type_id}, "w.pdf",
                          raw[0] + f"\n% warm {index}\n".encode())
        http_wall = run("json", http_times) if not ARGS.skip_json else 1
        multipart_times, raw_times, single_times = [], [], []
        multipart_wall = run("multipart", multipart_times)
        failed, before = len(errors), process_cpu.snapshot(server.pid)
        raw_wall = run("raw", raw_times)
        upload_cpu = process_cpu.per_request(before, process_cpu.snapshot(server.pid),
                                             max(1, len(raw_times) - (len(errors) - failed)))  # uploads done
        refused_times = []
        failed, before = len(errors), process_cpu.snapshot(server.pid)
        run("refused", refused_times)
        http_cpu = process_cpu.per_request(before, process_cpu.snapshot(server.pid),
                                           max(1, len(refused_times) - (len(errors) - failed)))
        run("raw", single_times, concurrency=1)
    finally:
        server.terminate()
        server.wait(timeout=60)

    print_orm(orm, files, sha, check)
    if http_times:
        print(row("HTTP JSON-RPC upload, 4 concurrent", http_times))
        print(f"  {'HTTP JSON-RPC throughput':<38} {len(http_times) / http_wall:8.1f} uploads/s "
              f"over {http_wall:.1f} s")
    print(row("HTTP multipart upload, 4 concurrent", multipart_times))
    print(f"  {'HTTP multipart throughput':<38} {len(multipart_times) / multipart_wall:8.1f} uploads/s "
          f"over {multipart_wall:.1f} s")
    print(row("HTTP raw-body upload, 4 concurrent", raw_times))
    print(f"  {'HTTP raw-body throughput':<38} {len(raw_times) / raw_wall:8.1f} uploads/s over {raw_wall:.1f} s")
    print(row("HTTP raw-body upload, one at a time", single_times))
    print(f"  targets: HTTP 5 MB upload median <= 80 ms, p95 <= 250 ms ({ARGS.workers} workers)")
    cores = len(os.sched_getaffinity(0))
    print(f"  {'machine time of a raw-body upload':<38} {process_cpu.describe(upload_cpu)}")
    print(f"  {'  the same body answered at once':<38} {process_cpu.describe(http_cpu)}; "
          f"median {statistics.median(refused_times) * 1000:.1f} ms at 4 concurrent")
    print(f"  {'  4 concurrent on %d cores: mean >=' % cores:<38} about {4 / cores * upload_cpu['total']:.0f} ms "
          f"(4 / {cores} x the machine time of one upload)")
    if errors:
        print(f"  {len(errors)} HTTP errors, first: {errors[0]}")


if __name__ == "__main__":
    main()
