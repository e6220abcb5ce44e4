"""The sandboxed upload checker (hscm_odoo/tools/file_sandbox.py).

The hostile corpus is read in place from ``<repo>/../shared/corpus/hostile-pdf``
(or ``$HSCM_HOSTILE_CORPUS``); its gzip-compressed deflate bombs are unpacked
into a temporary folder of the test run. Nothing of it is copied into the
repository.
"""

import gzip
import hashlib
import logging
import os
import shutil
import signal
import threading
import time
import zlib
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from hscm_tools import file_check, file_sandbox
from hscm_tools.file_sandbox import SandboxedChecker, get_checker

from test_file_check import build_pdf, build_pdf_with_objstm, simple_objects, simple_pdf, stream

DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "hostile-pdf"
CORPUS = Path(os.environ.get("HSCM_HOSTILE_CORPUS") or DEFAULT_CORPUS)
# Files of the disclosure and code-execution folders that hold one of these
# must be refused (a plain byte search; object streams are not looked into).
RISKY_TOKENS = (b"/JavaScript", b"/Launch", b"/SubmitForm", b"/EmbeddedFile", b"/XFA")
RETURNS_WITHIN = 2.5  # seconds: the 2 s timeout and a little slack
RESTART_ALLOWANCE = 5.0  # a call right after a timeout or a crash also starts a new child

CLEAN = simple_pdf(pages=2)


def sha(data):
    return hashlib.sha256(data).hexdigest()


MISSING_CORPUS = (
    "The hostile PDF corpus is missing: expected the folder %s (the shared corpus next to the "
    "repository, ../shared/corpus/hostile-pdf), or set HSCM_HOSTILE_CORPUS to its location. "
    "These tests must not be skipped." % CORPUS
)


def test_the_hostile_corpus_is_present():
    assert CORPUS.is_dir(), MISSING_CORPUS


@pytest.fixture(scope="module")
def corpus_files(tmp_path_factory):
    if not CORPUS.is_dir():
        pytest.fail(MISSING_CORPUS)
    files = sorted(
        p for p in CORPUS.rglob("*")
        if p.is_file() and not p.name.startswith("README") and p.suffix != ".md"
    )
    assert len(files) > 150, "the corpus at %s looks incomplete (%d files)" % (CORPUS, len(files))
    unpacked = tmp_path_factory.mktemp("deflate-bombs")
    result = []
    for path in files:
        if path.suffix == ".gz":
            target = unpacked / path.stem
            with gzip.open(path) as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink, 1024 * 1024)
            result.append((path, target))
        else:
            result.append((path, path))
    return result


@pytest.fixture(scope="module")
def checker():
    instance = SandboxedChecker()
    instance.start()
    yield instance
    instance.close()


def test_the_default_corpus_location():
    # tests/unit -> tests -> repository -> its parent, where shared/ lives
    repository = Path(__file__).resolve().parents[2]
    assert DEFAULT_CORPUS == repository.parent / "shared" / "corpus" / "hostile-pdf"


def test_every_corpus_file_gets_a_clean_verdict(checker, corpus_files):
    summary = Counter()
    by_folder = defaultdict(Counter)
    slowest = (0.0, None)
    for original, path in corpus_files:
        data = path.read_bytes()
        restarts = checker.restarts
        started = time.monotonic()
        verdict = checker.check(data, original.name)
        elapsed = time.monotonic() - started
        relative = original.relative_to(CORPUS)
        assert isinstance(verdict, file_check.Verdict), relative
        assert verdict.code in file_check.MESSAGES, relative
        assert verdict.message_en and verdict.message_vi, relative
        assert verdict.sha256 == sha(data), relative
        assert verdict.size == len(data), relative
        limit = RETURNS_WITHIN + (RESTART_ALLOWANCE if checker.restarts != restarts else 0)
        assert elapsed < limit, "%s took %.1f s" % (relative, elapsed)
        slowest = max(slowest, (elapsed, str(relative)))
        summary[verdict.code] += 1
        if relative.parts[1] != "01-dos" and len(data) < 1024 * 1024:
            # the same verdict as in this process (the child gets the bytes differently)
            assert file_check.check_file(data, original.name).code == verdict.code, relative
        folder = "/".join(relative.parts[1:3])
        by_folder[folder][verdict.code] += 1
        category = relative.parts[1]
        if category in ("02-disclosure", "04-rce") and any(t in data for t in RISKY_TOKENS):
            assert not verdict.ok, "%s holds %s and was accepted" % (
                relative, [t.decode() for t in RISKY_TOKENS if t in data])
        if category == "04-rce" or relative.parts[2:3] == ("02-deflate-bomb",):
            assert not verdict.ok, relative
        if relative.name.startswith(("A3-pages-tree-loop", "A4-pages-tree-loop")):
            assert verdict.code == "unreadable", relative
        if relative.name.startswith(("js-", "G1-js", "G2-js", "G3-js")):
            assert verdict.code == "javascript", relative

    print("\nHostile corpus: %d files, %d accepted, %d refused" % (
        sum(summary.values()), summary["ok"], sum(summary.values()) - summary["ok"]))
    for code, count in sorted(summary.items(), key=lambda item: (-item[1], item[0])):
        print("  %-20s %4d" % (code, count))
    for folder in sorted(by_folder):
        print("  %-45s %s" % (folder, dict(by_folder[folder])))
    print("  slowest call: %.3f s (%s)" % slowest)
    assert summary["crashed"] == 0 and summary["timeout"] == 0, summary


def test_an_endless_check_times_out_and_the_next_check_works(caplog):
    instance = SandboxedChecker(timeout=0.5, _test_hooks=True)
    try:
        instance.start()
        first_child = instance.child_pid
        with caplog.at_level(logging.DEBUG, logger="hscm_odoo.file_sandbox"):
            started = time.monotonic()
            verdict = instance.check(CLEAN, "vong-lap.pdf", _test_hook="spin")
            elapsed = time.monotonic() - started
        assert verdict.code == "timeout" and not verdict.ok
        assert verdict.sha256 == sha(CLEAN) and verdict.size == len(CLEAN)
        assert "complex" in verdict.message_en and "phức tạp" in verdict.message_vi
        assert elapsed < RETURNS_WITHIN
        records = [r for r in caplog.records if r.name == "hscm_odoo.file_sandbox"]
        assert records and all(r.levelno == logging.INFO for r in records)
        assert "vong-lap.pdf" in records[0].getMessage()
        assert instance.child_pid is None  # killed; a new one starts on the next call
        verdict = instance.check(CLEAN, "sach.pdf")
        assert verdict.ok and verdict.pages == 2
        assert instance.child_pid not in (None, first_child)
    finally:
        instance.close()


def test_the_cpu_limit_stops_a_runaway_child():
    instance = SandboxedChecker(cpu_seconds=1, timeout=10, _test_hooks=True)
    try:
        started = time.monotonic()
        verdict = instance.check(CLEAN, "a.pdf", _test_hook="spin")
        assert verdict.code == "crashed"  # SIGXCPU, well before the 10 s timeout
        assert time.monotonic() - started < 8
        assert instance.check(CLEAN, "a.pdf").ok
    finally:
        instance.close()


def test_the_cpu_limit_stops_a_child_started_with_sigxcpu_blocked():
    """An Odoo prefork worker serves requests in a thread that blocks
    SIGXCPU, and a child keeps that signal mask: the child unblocks it."""
    result = {}

    def check_from_a_blocking_thread():
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGXCPU})
        instance = SandboxedChecker(cpu_seconds=1, timeout=10, _test_hooks=True)
        try:
            started = time.monotonic()
            result["code"] = instance.check(CLEAN, "a.pdf", _test_hook="spin").code
            result["seconds"] = time.monotonic() - started
        finally:
            instance.close()

    thread = threading.Thread(target=check_from_a_blocking_thread)
    thread.start()
    thread.join()
    assert result["code"] == "crashed"  # SIGXCPU, well before the 10 s timeout
    assert result["seconds"] < 8


def _idle_address_space():
    probe = SandboxedChecker(memory_limit=0)
    try:
        probe.start()
        with open("/proc/%d/status" % probe.child_pid) as status:
            line = next(line for line in status if line.startswith("VmSize:"))
        return int(line.split()[1]) * 1024
    finally:
        probe.close()


def test_a_decompression_bomb_past_the_memory_limit_crashes_only_the_child():
    # An object stream of 60 MB packed into a few MB (ratio about 10: not
    # flagged by the bomb probe) in a child allowed 48 MB more than it
    # needs when idle: inflating it runs out of memory.
    block = b" ".join(b"/Obj%d %d" % (i % 97, i) for i in range(120_000))[:1024 * 1024]
    catalog = b"<< /Type /Catalog /Pages 2 0 R /Pad (" + block * 60 + b") >>"
    plain = {k: v for k, v in simple_objects().items() if k != 1}
    bomb = build_pdf_with_objstm(plain, {1: catalog}, level=1)
    assert len(bomb) < 20 * 1024 * 1024
    instance = SandboxedChecker(memory_limit=_idle_address_space() + 48 * 1024 * 1024)
    try:
        verdict = instance.check(bomb, "bom.pdf")
        assert verdict.code == "crashed" and not verdict.ok
        assert verdict.sha256 == sha(bomb)
        assert instance.check(CLEAN, "sach.pdf").ok  # a new child
        assert instance.restarts == 2
    finally:
        instance.close()


def test_a_child_that_dies_is_replaced():
    instance = SandboxedChecker(_test_hooks=True)
    try:
        assert instance.check(CLEAN, "a.pdf").ok
        verdict = instance.check(CLEAN, "a.pdf", _test_hook="exit")
        assert verdict.code == "crashed"
        assert instance.check(CLEAN, "a.pdf").ok
        # killed from outside between two checks: replaced without a refusal
        os.kill(instance.child_pid, 9)
        time.sleep(0.1)
        assert instance.check(CLEAN, "a.pdf").ok
    finally:
        instance.close()


def test_refusals_that_need_no_parsing_do_not_reach_the_child():
    instance = SandboxedChecker()
    try:
        assert instance.check(b"", "a.pdf").code == "empty"
        big = b"%PDF-1.7\n" + b"0" * 4096
        verdict = instance.check(big, "a.pdf", max_size=1024)
        assert verdict.code == "too_large" and verdict.sha256 == sha(big)
        assert instance.child_pid is None
    finally:
        instance.close()


def test_policy_is_passed_to_the_child(checker):
    assert checker.check(simple_pdf(pages=5), "a.pdf", max_pages=3).code == "too_many_pages"
    docx = _docx()
    assert checker.check(docx, "a.docx").code == "format_not_allowed"
    verdict = checker.check(docx, "a.docx", allowed_formats=("pdf", "docx"))
    assert verdict.ok and verdict.kind == "docx"
    with pytest.raises(TypeError):
        checker.check(CLEAN, "a.pdf", max_pagez=3)


def _docx():
    from test_file_check import make_docx

    return make_docx()


def test_pipe_transfer_and_uploads_larger_than_the_shared_region():
    picture = stream(b"/Type /XObject /Subtype /Image /Width 4000 /Height 3000 /ColorSpace "
                     b"/DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode",
                     b"\xff\xd8" + os.urandom(file_sandbox.SHARED_REGION_SIZE + 1024) + b"\xff\xd9")
    objects = simple_objects(page=b"/Resources << /XObject << /Im 20 0 R >> >>",
                             extra={20: picture})
    large = build_pdf(objects)
    for transfer in ("auto", "pipe"):
        instance = SandboxedChecker(transfer=transfer)
        try:
            verdict = instance.check(large, "anh.pdf", max_size=64 * 1024 * 1024)
            assert verdict.ok and verdict.sha256 == sha(large)
            assert instance.check(CLEAN, "a.pdf").ok
        finally:
            instance.close()


def test_checks_from_several_threads(checker):
    samples = [simple_pdf(pages=n) for n in range(1, 5)]
    errors = []

    def work(data, pages):
        try:
            for _ in range(5):
                verdict = checker.check(data, "a.pdf")
                assert verdict.ok and verdict.pages == pages
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(d, i + 1)) for i, d in enumerate(samples)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_get_checker_is_one_per_process():
    first = get_checker()
    assert get_checker() is first
    assert first.check(CLEAN, "a.pdf").ok
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the forked process
        code = 1
        try:
            mine = get_checker()
            if mine is not first and mine.check(CLEAN, "a.pdf").ok:
                code = 0
            mine.close()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert get_checker() is first
    assert first.check(CLEAN, "a.pdf").ok  # the parent's child was left alone


def test_the_child_runs_without_odoo_or_the_addon_package(no_odoo_on_path):
    # it loads file_check.py by path
    instance = SandboxedChecker()
    try:
        assert instance.check(CLEAN, "a.pdf").ok
        assert instance.check(simple_pdf(catalog=b"/OpenAction << /S /Launch /F (x) >>"),
                              "b.pdf").code == "launch_action"
        assert instance.restarts == 1
    finally:
        instance.close()


def test_a_bomb_stream_is_refused_quickly(checker):
    objects = simple_objects()
    objects[3] = stream(b"/Filter /FlateDecode", zlib.compress(b"\0" * (32 * 1024 * 1024)))
    data = build_pdf(objects)
    started = time.monotonic()
    assert checker.check(data, "bom.pdf").code == "compression_bomb"
    assert time.monotonic() - started < RETURNS_WITHIN
