#!/usr/bin/env python3
"""Benchmark of PAdES signing and verification on lesson-plan PDFs.

    python3 bench/bench_signing.py [--runs N] [--sizes 0.2,1,5,20] [--batch 50] [--distinct 10]

No Odoo needed: ``hscm_odoo/tools`` is loaded as the package ``hscm_tools``.
A throwaway organisation CA (``org_ca``) issues a staff certificate as
PKCS#12, loaded once into a ``Pkcs12Method``. For lesson plans of about 0.2,
1, 5 and 20 MB (``bench_file_check.lesson_plan_pdf``) it prints, as the
median of several runs (wall clock; CPU time of the process beside it):

* SHA-256 of the file;
* signing with an invisible field ("plain"), target 15 ms + 4x SHA-256;
* signing with the product's Vietnamese stamp (four lines and a QR code,
  as ``hscm.dossier`` builds it), target 60 ms + 4x SHA-256;
* verifying the once-signed file with ``pades_verify.verify_pdf`` (stored
  versions, file hash, expected signer, trust root), target 15 ms + 3x
  SHA-256.

Then a batch: ``--batch`` different 5 MB lesson plans signed one after the
other with the stamp by the same ``Pkcs12Method``, as an approval batch
does: dossiers per second (target >= 20) and the process's resident memory
(VmRSS, and VmHWM reset before the batch) before it and after 10, 25 and 50
dossiers: it must not grow with the batch. ``--distinct`` lesson plans are
built with reportlab (seconds each); every dossier gets its own bytes (its
own trailer /ID), its own dossier number and verification URL.

It prints figures and asserts nothing: timings on a shared machine vary.
"""

import argparse
import datetime as dt
import hashlib
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_file_check import lesson_plan_pdf  # noqa: E402  (reportlab PDFs)
from tools_loader import tools  # noqa: E402

PASSPHRASE = b"bench-p12"


# ---------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------
def measure(func, runs, warmup=2):
    """Median wall and CPU milliseconds of ``func()`` over ``runs`` calls."""
    for _ in range(warmup):
        func()
    wall, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        func()
        cpu.append((time.process_time() - cpu_started) * 1000.0)
        wall.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(wall), statistics.median(cpu)


def memory():
    """``(VmRSS, VmHWM)`` of this process in MiB."""
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", float("nan")), values.get("VmHWM", float("nan"))


def reset_peak_memory():
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def stamp_for(pades, number: int):
    """The stamp ``hscm.dossier`` puts on an approval (see _stamp_for)."""
    return pades.StampText(
        name="Nguyễn Thị Phương Thảo",
        position="P. HIỆU TRƯỞNG DUYỆT",
        delegation="KT. HIỆU TRƯỞNG",
        signed_at="Ngày ký: 23/11/2026 09:%02d" % (number % 60),
        extra_lines=["Số: HS-2026-%05d" % number],
        qr_url="https://thcs-demo.edu.vn/hscm/verify/%032x" % (number * 7919),
    )


def with_own_id(pdf: bytes, number: int) -> bytes:
    """``pdf`` with another trailer /ID of the same length (still valid)."""
    at = pdf.rfind(b"/ID")
    start = pdf.index(b"<", at) + 1
    end = pdf.index(b">", start)
    new = hashlib.md5(b"%d:" % number + pdf[start:end]).hexdigest().encode()[: end - start]
    tail = pdf[end:].replace(pdf[start:end], new, 1)  # the second, equal, /ID string
    return pdf[:start] + new + tail


def _build(args):
    megabytes, seed = args
    return lesson_plan_pdf(int(megabytes * 1e6), seed=seed)


def build_pdfs(jobs):
    with ProcessPoolExecutor(max_workers=max(1, min(len(jobs), os.cpu_count() or 1))) as pool:
        return list(pool.map(_build, jobs))


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--runs", type=int, default=9, help="timed runs per figure")
    parser.add_argument("--sizes", default="0.2,1,5,20", help="lesson-plan sizes in MB")
    parser.add_argument("--batch", type=int, default=50, help="dossiers in the batch")
    parser.add_argument("--distinct", type=int, default=10,
                        help="distinct 5 MB lesson plans built for the batch")
    args = parser.parse_args(argv)
    org_ca, pades, pades_verify, signing_methods = tools("org_ca", "pades", "pades_verify",
                                                          "signing_methods")
    sizes = [float(s) for s in args.sizes.split(",")]

    print("Throwaway CA and a staff PKCS#12 ...", flush=True)
    ca = org_ca.create_ca("Sở GD&ĐT Bench CA", "Sở Giáo dục và Đào tạo", key_passphrase=b"ca")
    issued = org_ca.issue_certificate(ca, b"ca", common_name="Nguyễn Thị Phương Thảo",
                                      organisation="Trường THCS Demo",
                                      p12_passphrase=PASSPHRASE)
    started = time.perf_counter()
    method = signing_methods.Pkcs12Method(issued.pkcs12, PASSPHRASE)
    print("  PKCS#12 loaded once in %.0f ms" % ((time.perf_counter() - started) * 1000))

    print("Building lesson plans (reportlab) ...", flush=True)
    started = time.perf_counter()
    distinct = max(1, min(args.distinct, args.batch))
    built = build_pdfs([(mb, 1) for mb in sizes] + [(5, 100 + i) for i in range(distinct)])
    samples, batch_bases = list(zip(sizes, built[: len(sizes)])), built[len(sizes):]
    print("  %d files in %.1f s: %s" % (len(built), time.perf_counter() - started, ", ".join(
        "%g MB = %d bytes" % (mb, len(data)) for mb, data in samples)), flush=True)

    # The very first stamped signature of a process prepares the font.
    started = time.perf_counter()
    method.sign(samples[0][1], field_name="Warm", stamp=stamp_for(pades, 0))
    first_stamp = (time.perf_counter() - started) * 1000

    rows = []
    for megabytes, data in samples:
        runs = args.runs if len(data) < 10e6 else max(3, args.runs // 2)
        sha_hex = hashlib.sha256(data).hexdigest()
        sha = measure(lambda: hashlib.sha256(data).digest(), runs)
        plain = measure(lambda: method.sign(data, field_name="GiaoVien", stamp=None), runs)
        counter = iter(range(1, 10 ** 6))
        stamped = measure(lambda: method.sign(data, field_name="HieuTruong",
                                              stamp=stamp_for(pades, next(counter))), runs)
        # as the ORM's batch does: the input's SHA-256 computed elsewhere (by another thread)
        prefix = hashlib.sha256(data)
        prefixed = measure(lambda: method.sign(data, field_name="HieuTruong", stamp=stamp_for(pades, next(counter)),
                                               prefix_sha256=prefix.copy), runs)
        signed = method.sign(data, field_name="HieuTruong", stamp=stamp_for(pades, 1))
        signed_sha = hashlib.sha256(signed).hexdigest()
        cert_sha = hashlib.sha256(method.certificate()).hexdigest()
        expected = [pades_verify.ExpectedSignature(
            signer_sha256=cert_sha, signed_at=dt.datetime.now(dt.timezone.utc))]
        versions = [(len(data), sha_hex), (len(signed), signed_sha)]

        def verify():
            report = pades_verify.verify_pdf(signed, versions=versions, file_sha256=signed_sha,
                                             expected=expected, trust_roots=[ca.cert_der])
            if not report.valid:
                raise SystemExit("verification failed: %s" % report.reasons)

        verified = measure(verify, max(3, runs // 2), warmup=1)
        rows.append((megabytes, len(data), sha, plain, stamped, verified, prefixed))
        print("  measured %g MB" % megabytes, flush=True)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print()
    print("Signing and verification, milliseconds: median wall clock (median CPU time)."
          "  CPUs: %s, load average: %.2f" % (os.cpu_count(), load))
    header = "%-7s %9s | %6s | %-15s %7s %-3s | %-15s %7s %-3s | %-15s %7s %-3s" % (
        "size", "bytes", "sha256", "sign plain", "target", "met", "sign VN stamp", "target",
        "met", "verify 1 sig", "target", "met")
    print(header)
    print("-" * len(header))
    for megabytes, size, sha, plain, stamped, verified, _prefixed in rows:
        targets = (15 + 4 * sha[0], 60 + 4 * sha[0], 15 + 3 * sha[0])
        cells = []
        for (wall, cpu), target in zip((plain, stamped, verified), targets):
            cells.append("%6.1f (%6.1f) %7.1f %-3s" % (wall, cpu, target,
                                                      "yes" if wall <= target else "NO"))
        print("%-7s %9d | %6.2f | %s" % ("%g MB" % megabytes, size, sha[0], " | ".join(cells)))
    print()
    print("plain = invisible signature field; VN stamp = 4 lines of Vietnamese text in")
    print("DejaVuSans and a QR code. First stamped signature of this process (prepares the")
    print("stamp font once): %.0f ms." % first_stamp)
    print("VN stamp with the input's SHA-256 given (prefix_sha256, as the ORM's batch signs: the")
    print("document digest hashes only the update): " + ", ".join(
        "%g MB %.1f ms" % (row[0], row[6][0]) for row in rows) + ".")

    # -- Batch ---------------------------------------------------------------
    print()
    print("Batch: %d different 5 MB lesson plans (%d distinct builds, each dossier with its own"
          " /ID, number and URL), stamped and signed in sequence by one Pkcs12Method ..."
          % (args.batch, len(batch_bases)), flush=True)
    checkpoints = sorted({c for c in (10, 25, 50, args.batch) if c <= args.batch})
    method.sign(with_own_id(batch_bases[0], 10 ** 6), field_name="HieuTruong",
                stamp=stamp_for(pades, 10 ** 6))  # same code path warm, not counted
    rss_before, _ = memory()
    peak_reset = reset_peak_memory()
    marks, digests = [], set()
    signing = signing_cpu = 0.0
    started = time.perf_counter()
    for number in range(1, args.batch + 1):
        pdf = with_own_id(batch_bases[number % len(batch_bases)], number)  # "read the file"
        sign_started, cpu_started = time.perf_counter(), time.process_time()
        signed = method.sign(pdf, field_name="HieuTruong", stamp=stamp_for(pades, number))
        signing_cpu += time.process_time() - cpu_started
        signing += time.perf_counter() - sign_started
        digests.add(hashlib.sha256(signed).digest())  # what storing it would compute
        del pdf, signed
        if number in checkpoints:
            marks.append((number, time.perf_counter() - started, *memory()))
    elapsed = time.perf_counter() - started
    rate = args.batch / signing
    print("  signing: %.1f dossiers/s (target >= 20: %s), %.1f ms per dossier (CPU %.1f ms);"
          " whole loop with reading and hashing each file: %.1f dossiers/s; %d distinct outputs"
          % (rate, "yes" if rate >= 20 else "NO", signing * 1000 / args.batch,
             signing_cpu * 1000 / args.batch, args.batch / elapsed, len(digests)))
    print("  memory, MiB: RSS before the batch %.1f%s" % (
        rss_before, "" if peak_reset else " (peak RSS could not be reset: VmHWM is the"
                                           " process's lifetime peak)"))
    for number, at, rss, hwm in marks:
        print("    after %3d dossiers (%.2f s): RSS %7.1f  peak RSS %7.1f" % (number, at, rss, hwm))
    if len(marks) >= 2:
        (n0, _, rss0, hwm0), (n1, _, rss1, hwm1) = marks[0], marks[-1]
        print("  from %d to %d dossiers: RSS %+.1f MiB, peak RSS %+.1f MiB" % (
            n0, n1, rss1 - rss0, hwm1 - hwm0))
    return rows


if __name__ == "__main__":
    main()
