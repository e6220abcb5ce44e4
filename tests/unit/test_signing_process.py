"""The signing process (tools/signing_process.py): a child that signs with a
key given per batch, files submitted ahead, the worker's exceptions."""

import hashlib
import io
import os
import signal
import time

import pytest
from pki_fixtures import make_pdf, org_with_staff
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject

from hscm_tools import pades, signing_process
from hscm_tools.signing_methods import SigningError
from hscm_tools.signing_process import SigningProcess

PASS = b"mat-khau"


@pytest.fixture(scope="module")
def staff():
    _ca, people = org_with_staff({"lan": "Nguyễn Thị Lan", "minh": "Trần Văn Minh"},
                                 ca_passphrase=b"ca", p12_passphrase=PASS)
    return people


@pytest.fixture(scope="module")
def process():
    instance = SigningProcess()
    yield instance
    instance.close()


def stamp(n):
    return pades.StampText(name="Nguyễn Thị Lan", position="TỔ TRƯỞNG", signed_at=f"Ngày ký: 24/11/2026 08:{n:02d}",
                           extra_lines=[f"Số: HS/2026/{n:06d}"], qr_url=f"https://truong.example/hscm/verify/{n}")


def big_pdf(size, n):
    """A one-page PDF of about ``size`` bytes (an uncompressed content stream of comments)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    content = DecodedStreamObject()
    content.set_data(b"%% lesson plan %d\n" % n + b"% padding padding padding padding\n" * (size // 36))
    page[NameObject("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def signed_file(pdf, update):
    """The worker's part: the file followed by the update, checked as the model does."""
    assert (update.input_size, update.input_sha1) == (len(pdf), hashlib.sha1(pdf).hexdigest())
    data = pdf + update.tail
    assert (update.sha256, update.sha1) == (hashlib.sha256(data).hexdigest(), hashlib.sha1(data).hexdigest())
    return data


def test_files_submitted_ahead_are_signed_in_order(process, staff, tmp_path):
    pdfs = [make_pdf(2, marker=b"BAI %d" % n) for n in range(5)]
    paths = []
    for n, pdf in enumerate(pdfs[:3]):
        paths.append(tmp_path / f"{n}.pdf")
        paths[-1].write_bytes(pdf)
    with process.batch(staff["lan"].signer) as batch:
        for n, path in enumerate(paths):  # the filestore's files, read by the child
            batch.submit(path=str(path), field_name=f"F{n}", stamp=stamp(n))
        for n in (3, 4):  # bytes through the pipe
            batch.submit(pdf=pdfs[n], field_name=f"F{n}", stamp=stamp(n) if n == 3 else None)
        assert batch.pending == 5
        updates = [batch.result() for _n in range(5)]
        assert batch.pending == 0
    for n, (pdf, update) in enumerate(zip(pdfs, updates)):
        summary = pades.signature_summary(signed_file(pdf, update))
        assert [(s["field_name"], s["intact"], s["covers_whole_file"], s["signer_cn"]) for s in summary] == [
            (f"F{n}", True, True, "Nguyễn Thị Lan")]
    assert process.signed >= 5


def test_each_batch_signs_with_its_own_key_then_forgets_it(process, staff):
    pdf = make_pdf(1)
    with process.batch(staff["minh"].signer) as batch:
        batch.submit(pdf=pdf, field_name="Minh", stamp=None)
        once = signed_file(pdf, batch.result())
    with process.batch(staff["lan"].signer) as batch:
        batch.submit(pdf=once, field_name="Lan", stamp=stamp(1))
        twice = signed_file(once, batch.result())
    summary = pades.signature_summary(twice)
    assert [(s["signer_cn"], s["intact"]) for s in summary] == [("Trần Văn Minh", True), ("Nguyễn Thị Lan", True)]
    with process._lock:  # between batches the child holds no key
        with pytest.raises(pades.PadesError, match="No key"):
            process._request({"op": "sign", "path": None, "size": 0, "field_name": "X", "stamp": None},
                             deadline=None)


def test_a_failure_is_the_in_process_exception_and_the_batch_goes_on(process, staff):
    pdf = make_pdf(1)
    restarts = process.restarts
    with process.batch(staff["lan"].signer) as batch:
        batch.submit(pdf=b"%PDF-1.7\nnot a PDF at all", field_name="Bad", stamp=None)
        batch.submit(pdf=pdf, field_name="Good", stamp=None)
        with pytest.raises(pades.PadesError):
            batch.result()
        signed_file(pdf, batch.result())
    assert process.restarts == restarts, "an error is an answer, not a crash"
    # the error kinds travel back as their classes and codes
    with pytest.raises(SigningError) as caught:
        signing_process._checked({"ok": False, "kind": "signing", "code": "wrong_secret", "message": "m"})
    assert caught.value.code == "wrong_secret"
    with pytest.raises(pades.PadesError, match="The timestamp authority"):
        signing_process._checked({"ok": False, "kind": "timestamp", "message": "The timestamp authority failed"})


def test_a_dead_child_fails_the_batch_and_the_next_one_starts_another(process, staff):
    pdf = make_pdf(1)
    with process.batch(staff["lan"].signer) as batch:
        pid = process.child_pid
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(pades.PadesError, match="stopped"):
            batch.submit(pdf=pdf, field_name="F", stamp=None)
            batch.result()
    restarts = process.restarts
    with process.batch(staff["lan"].signer) as batch:
        assert process.child_pid not in (None, pid)
        batch.submit(pdf=pdf, field_name="F", stamp=None)
        signed_file(pdf, batch.result())
    assert process.restarts == restarts + 1


def test_an_abandoned_batch_stops_the_child(process, staff):
    """Files submitted and never taken: the child may still be signing
    them, so the batch's end stops it rather than wait."""
    with process.batch(staff["lan"].signer) as batch:
        pid = process.child_pid
        batch.submit(pdf=make_pdf(1), field_name="F", stamp=None)
    assert process.child_pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_one_batch_at_a_time(process, staff):
    with process.batch(staff["lan"].signer) as batch:
        assert process.batch(staff["minh"].signer) is None, "the second caller signs in its own thread"
        batch.submit(pdf=make_pdf(1), field_name="F", stamp=None)
        batch.result()
    with process.batch(staff["minh"].signer) as batch:
        assert batch is not None


def test_a_child_that_cannot_start_means_no_batch_for_a_while(staff, monkeypatch):
    instance = SigningProcess(start_timeout=5)
    monkeypatch.setattr(signing_process, "_BOOTSTRAP", "import sys; sys.exit(3)")
    try:
        assert instance.batch(staff["lan"].signer) is None
        assert (instance.child_pid, instance.restarts) == (None, 1)
        assert instance.batch(staff["lan"].signer) is None
        assert instance.restarts == 1, "not tried again at once"
        monkeypatch.undo()
        instance._failed_at -= signing_process.RETRY_AFTER
        with instance.batch(staff["lan"].signer) as batch:
            assert batch is not None and instance.restarts == 2
    finally:
        instance.close()


def test_a_worker_busy_past_the_timeout_still_gets_its_answers(process, staff, monkeypatch):
    """The time limit counts from the moment the worker asks for an answer:
    one waiting in the pipe is taken even long after the file was submitted."""
    monkeypatch.setattr(signing_process, "SIGN_TIMEOUT", 0.5)
    pdfs = [make_pdf(1, marker=b"LATE %d" % n) for n in range(3)]
    with process.batch(staff["lan"].signer) as batch:
        for n, pdf in enumerate(pdfs):
            batch.submit(pdf=pdf, field_name=f"F{n}", stamp=None)
        time.sleep(1.5)  # the worker writes the steps meanwhile
        for pdf in pdfs:
            signed_file(pdf, batch.result())


def test_large_files_ahead_through_the_pipe(process, staff):
    """Files larger than a pipe, several ahead: neither side waits for the
    other (the child sends its answers from a thread)."""
    pdfs = [big_pdf(1024 * 1024, n) for n in range(10)]
    with process.batch(staff["lan"].signer) as batch:
        for n, pdf in enumerate(pdfs):
            batch.submit(pdf=pdf, field_name=f"F{n}", stamp=None)
        for pdf in pdfs:
            signed_file(pdf, batch.result())


def test_an_unreadable_file_is_refused_without_its_path(process, staff, tmp_path):
    with process.batch(staff["lan"].signer) as batch:
        batch.submit(path=str(tmp_path / "secret-folder" / "missing.pdf"), field_name="F", stamp=None)
        with pytest.raises(pades.PadesError) as caught:
            batch.result()
    assert "could not be read" in str(caught.value)
    assert "secret-folder" not in str(caught.value)


def test_an_idle_child_exits_and_the_next_batch_starts_another(staff):
    instance = SigningProcess(idle_exit=0.5)
    try:
        pdf = make_pdf(1)
        with instance.batch(staff["lan"].signer) as batch:
            pid = instance.child_pid
            time.sleep(1.0)  # never while a batch holds a key
            batch.submit(pdf=pdf, field_name="F", stamp=None)
            signed_file(pdf, batch.result())
        deadline = time.monotonic() + 10
        while instance.child_pid is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert instance.child_pid is None, "the idle child exited"
        with instance.batch(staff["lan"].signer) as batch:
            assert instance.child_pid not in (None, pid)
            batch.submit(pdf=pdf, field_name="F", stamp=None)
            signed_file(pdf, batch.result())
        assert instance.restarts == 2
    finally:
        instance.close()


def test_the_child_runs_without_odoo_or_the_addon_package(no_odoo_on_path, staff):
    # it loads this folder as a package by path
    instance = SigningProcess()
    try:
        pdf = make_pdf(1)
        with instance.batch(staff["lan"].signer) as batch:
            batch.submit(pdf=pdf, field_name="F", stamp=stamp(2))
            signed_file(pdf, batch.result())
    finally:
        instance.close()


def test_get_signing_process_is_one_per_process():
    first = signing_process.get_signing_process()
    assert signing_process.get_signing_process() is first
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the forked child reports through its exit code
        code = 0 if signing_process.get_signing_process() is not first else 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
