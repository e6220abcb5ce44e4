"""Sign PDFs in a helper process, so that a batch of approvals uses two cores.

pyHanko is pure Python: while it signs, the worker's thread holds the GIL and
the worker can do nothing else. In a batch approval about half of the time per
dossier is pyHanko's (reading the PDF, laying out the stamp, writing the
update), the other half the worker's own (the steps, the activities, storing
the signed files). :class:`SigningProcess` keeps one persistent child process
(a fresh interpreter, never a fork of the worker, as the upload checker's
sandbox in :mod:`file_sandbox`) that signs the batch's files while the worker
does its part.

What crosses between the two:

* once per batch, the signer's key (PKCS#8 DER, already decrypted and checked
  by the worker, so the child loads it without the RSA check) and its
  certificates; the child drops every reference to them when the batch ends;
* per file, a small JSON header (the file's path in the filestore, which the
  child reads itself, or else the bytes after the header; field name, stamp
  lines, page, timestamp authority) on the child's stdin; back, a JSON header
  (the size and SHA-1 of the file it read, the SHA-256 and SHA-1 of the
  signed file: the child hashes the input while pyHanko parses it) and the
  incremental update alone on its stdout.

Several files may be submitted ahead: the child signs them one after the
other while the worker does other work. It never stops reading requests to
write an answer (a thread of its own sends them, in order), so neither side
can wait for the other whatever the pipes hold; the answers wait until the
worker takes them. The signed file is the input followed by the update.
Errors of the child come back as the exceptions the in-process path raises
(:class:`pades.PadesError`, its subclasses and codes). A child that dies or
does not answer in time (``SIGN_TIMEOUT`` from the moment the worker asks for
an answer) is a :class:`pades.PadesError` ("stopped"); a new one starts with
the next batch. A child is replaced after ``FILES_PER_CHILD`` files; one that
cannot start is not tried again for ``RETRY_AFTER`` seconds.

No Odoo import here; the child loads this folder as a package by path.
"""

from __future__ import annotations

import atexit
import base64
import collections
import gc
import hashlib
import json
import logging
import os
import queue
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from asn1crypto import keys, x509
from cryptography.hazmat.primitives import serialization
from pyhanko_certvalidator.registry import SimpleCertificateStore

from . import pades
from .file_sandbox import (LENGTH, ChildGone, TimedOut, keep_heap_warm, let_go, private_stdout, read_exact,
                           receive_message, set_limit, start_child, stop_process, write_all)
from .signing_methods import SigningError
from .timestamps import TimestampError, http_timestamper

_logger = logging.getLogger(__name__ if "hscm_odoo" in __name__ else "hscm_odoo.signing_process")

START_TIMEOUT = 20.0  # a fresh interpreter importing pyHanko and preparing the stamp font
SIGN_TIMEOUT = 60.0  # one signature, beyond the timestamp authority's own timeout
FILES_PER_CHILD = 5000  # a fresh child now and then keeps its memory from fragmenting
IDLE_EXIT = 600.0  # seconds without a request after which a child between batches exits (~100 MB less)
RETRY_AFTER = 300.0  # seconds before starting a child again after one could not start
_MAX_MESSAGE = 1024 * 1024
_PACKAGE = "_hscm_signing_tools"

# The child's program: this folder as a package (its relative imports work),
# then this module's _child_main().
_BOOTSTRAP = (
    "import sys, os, importlib, importlib.util\n"
    "sys.path[:] = [p for p in sys.path if p not in ('', '.')]\n"
    "folder = os.path.dirname(sys.argv[1])\n"
    f"spec = importlib.util.spec_from_file_location({_PACKAGE!r}, os.path.join(folder, '__init__.py'),\n"
    "                                              submodule_search_locations=[folder])\n"
    "package = importlib.util.module_from_spec(spec)\n"
    "sys.modules[spec.name] = package\n"
    "spec.loader.exec_module(package)\n"
    f"importlib.import_module({_PACKAGE!r} + '.signing_process')._child_main(float(sys.argv[2]))\n"
)


@dataclass
class SignedUpdate:
    """What the child made of one file: the incremental update to append to
    it, the size and SHA-1 of the file it read (to check that the worker
    appends it to the same bytes), and the SHA-256 and SHA-1 (hex) of the
    signed file, as the evidence and the filestore need them."""

    tail: bytes
    input_size: int
    input_sha1: str
    sha256: str
    sha1: str


class SigningProcess:
    """One persistent child process that signs PDFs with a key it is given
    per batch. Use :meth:`batch` (one batch at a time per process: a second
    caller gets ``None`` and signs in its own thread)."""

    def __init__(self, start_timeout=START_TIMEOUT, idle_exit=IDLE_EXIT):
        self.start_timeout = float(start_timeout)
        self.idle_exit = float(idle_exit)
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._proc = None
        self._child_files = 0  # files signed by the current child
        self._failed_at = None  # when a child last could not start
        self.restarts = 0  # children started so far (for tests and monitoring)
        self.signed = 0  # files signed by children so far

    def batch(self, signer):
        """A :class:`SigningBatch` for ``signer`` (a :class:`pades.CachedKeySigner`),
        or ``None`` when another batch holds the child or it cannot start
        (the caller then signs in-process)."""
        if self._pid != os.getpid():
            self._forget_after_fork()
        if self._failed_at is not None and time.monotonic() - self._failed_at < RETRY_AFTER:
            return None
        if not self._lock.acquire(blocking=False):
            return None
        batch = None
        try:
            if self._proc is not None and self._child_files >= FILES_PER_CHILD:
                self._stop_child()
            for attempt in (1, 2):
                running = self.child_pid is not None
                try:
                    self._ensure_child()
                    self._request({"op": "key", **_key_message(signer)}, time.monotonic() + self.start_timeout)
                    batch = SigningBatch(self)
                    break
                except (ChildGone, TimedOut, OSError) as error:
                    self._stop_child()
                    if attempt == 1 and running:
                        continue  # a child idle for long exits: maybe just now
                    _logger.info("the signing process is not available (%s): signing in the worker", error)
                    self._failed_at = time.monotonic()
                    break
        except pades.PadesError as error:  # the child refused the key: it stays for the next batch
            _logger.info("the signing process refused the key (%s): signing in the worker", error)
        finally:
            if batch is None:
                self._lock.release()
        return batch

    def close(self, timeout=10.0):
        """Stop the child (waiting ``timeout`` seconds for a batch to end)."""
        if self._pid != os.getpid():
            self._forget_after_fork()
            return
        locked = self._lock.acquire(timeout=timeout)
        try:
            self._stop_child()
        finally:
            if locked:
                self._lock.release()

    @property
    def child_pid(self):
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    # -- the pipe --------------------------------------------------------------
    def _send(self, message, payload=b"", deadline=None):
        if self._proc is None:
            raise ChildGone("no signing process")
        body = json.dumps(message).encode()
        fd = self._proc.stdin.fileno()
        write_all(fd, LENGTH.pack(len(body)) + body, deadline)
        if payload:
            write_all(fd, payload, deadline)

    def _receive(self, deadline):
        if self._proc is None:
            raise ChildGone("no signing process")
        return receive_message(self._proc.stdout.fileno(), deadline, _MAX_MESSAGE)

    def _request(self, message, deadline):
        self._send(message, deadline=deadline)
        return _checked(self._receive(deadline))

    # -- the child ---------------------------------------------------------------
    def _ensure_child(self):
        if self._proc is not None:
            if self._proc.poll() is None:
                return
            _logger.info("the signing process (pid %s) exited with status %s; restarting",
                         self._proc.pid, self._proc.returncode)
            self._stop_child()
        self._child_files = 0
        self.restarts += 1
        self._proc = start_child([sys.executable, "-c", _BOOTSTRAP, os.path.abspath(__file__), str(self.idle_exit)],
                                 self.start_timeout)
        self._failed_at = None

    def _stop_child(self):
        proc, self._proc = self._proc, None
        stop_process(proc)

    def _forget_after_fork(self):
        """In a forked process: drop (without killing) the parent's child."""
        self._lock = threading.Lock()
        self._pid = os.getpid()
        proc, self._proc = self._proc, None
        let_go(proc, forked=True)


class SigningBatch:
    """The child, holding one signer's key, for one batch. :meth:`submit`
    files (several ahead: the child works through them in order while the
    worker does other things), then take their :meth:`result` in the same
    order. A context manager: leaving it makes the child drop the key."""

    def __init__(self, process):
        self._process = process
        self._pending = collections.deque()  # the timestamp authority's timeout of each file, in order
        self._open = True

    @property
    def pending(self):
        """Files submitted whose result was not taken yet."""
        return len(self._pending)

    def submit(self, *, path: str | None = None, pdf: bytes | None = None, field_name: str,
               stamp: pades.StampText | None, page: int = -1, timestamper=None):
        """Have the child sign the PDF at ``path`` (a file the child reads
        itself) or ``pdf`` (bytes, through the pipe). ``timestamper``: from
        :func:`timestamps.http_timestamper`, or None."""
        if not self._open:
            raise RuntimeError("the batch is closed")
        if (path is None) == (pdf is None):
            raise TypeError("give the file's path or its bytes")
        tsa = {"url": timestamper.url, "timeout": timestamper.timeout} if timestamper is not None else None
        message = {"op": "sign", "path": path, "size": len(pdf) if pdf is not None else None,
                   "field_name": field_name, "stamp": asdict(stamp) if stamp is not None else None,
                   "page": page, "tsa": tsa}
        # the child reads the requests while it signs: a file ahead waits for one signature at most
        deadline = time.monotonic() + SIGN_TIMEOUT + _tsa_timeout(self._pending)
        try:
            self._process._send(message, pdf or b"", deadline)
        except (ChildGone, TimedOut, OSError) as error:
            self._broken(error)
        self._pending.append(tsa["timeout"] if tsa else 0)

    def result(self) -> SignedUpdate:
        """The update of the oldest file submitted; raises what the
        in-process signature would have raised."""
        if not self._pending:
            raise RuntimeError("nothing was submitted")
        # counted from now: the worker may have been busy since it submitted the file
        deadline = time.monotonic() + SIGN_TIMEOUT + self._pending.popleft()
        process = self._process
        try:
            reply = process._receive(deadline)
            tail = read_exact(process._proc.stdout.fileno(), reply["tail"], deadline) if reply.get("ok") else b""
        except (ChildGone, TimedOut, OSError, KeyError, TypeError) as error:
            self._broken(error)
        _checked(reply)
        process.signed += 1
        process._child_files += 1
        return SignedUpdate(tail, reply["input_size"], reply["input_sha1"], reply["sha256"], reply["sha1"])

    def _broken(self, error):
        """The child died or hung: stop it (a new one starts with the next batch)."""
        _logger.info("the signing process failed: %s", error)
        self._process._stop_child()
        self._pending.clear()
        raise pades.PadesError("The signing process stopped: nothing was signed") from error

    def close(self):
        if not self._open:
            return
        self._open = False
        process = self._process
        try:
            if self._pending or process._proc is None:
                process._stop_child()  # abandoned files: the child may still be working on them
            else:
                process._request({"op": "forget"}, time.monotonic() + SIGN_TIMEOUT)
        except (ChildGone, TimedOut, OSError, pades.PadesError) as error:
            _logger.info("the signing process did not drop its key (%s): stopped", error)
            process._stop_child()
        finally:
            self._pending.clear()
            process._lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _tsa_timeout(pending):
    return max(pending, default=0)


def _key_message(signer):
    """The signer's key and certificates, for the child (base64 DER)."""
    def b64(der):
        return base64.b64encode(der).decode()

    return {"key": b64(signer.signing_key.dump()), "cert": b64(signer.signing_cert.dump()),
            "others": [b64(cert.dump()) for cert in signer.cert_registry]}


def _checked(reply):
    """``reply`` if it says ok, else the exception the child reported."""
    if reply.get("ok"):
        return reply
    message = reply.get("message") or "The signing process failed"
    kind = reply.get("kind")
    if kind == "timestamp":
        raise TimestampError(message)
    if kind == "signing":
        try:
            error = SigningError(reply.get("code"), message, detail=reply.get("detail"))
        except ValueError:
            error = pades.PadesError(message)
        raise error
    raise pades.PadesError(message)


# ---------------------------------------------------------------------------
# Process-wide instance
# ---------------------------------------------------------------------------
_process = None
_process_guard = threading.Lock()


def get_signing_process() -> SigningProcess:
    """The process-wide signing process, created on first use and again after a fork."""
    global _process
    with _process_guard:
        if _process is None or _process._pid != os.getpid():
            if _process is not None:
                _process._forget_after_fork()
            _process = SigningProcess()
        return _process


def _after_fork_in_child():
    global _process_guard
    _process_guard = threading.Lock()


def _close_at_exit():
    if _process is not None and _process._pid == os.getpid():
        _process.close(timeout=1.0)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_at_exit)


# ---------------------------------------------------------------------------
# The child
# ---------------------------------------------------------------------------
def _load_signer(request):
    """The signer of a "key" request (its own function: no local of the
    loop keeps the key once the signer is dropped)."""
    der = base64.b64decode
    registry = SimpleCertificateStore()
    registry.register_multiple([x509.Certificate.load(der(c)) for c in request["others"]])
    # the worker loaded and checked this key from its PKCS#12: no second RSA check
    return pades.CachedKeySigner(
        signing_cert=x509.Certificate.load(der(request["cert"])),
        signing_key=keys.PrivateKeyInfo.load(der(request["key"])), cert_registry=registry,
        pyca_key=serialization.load_der_private_key(der(request["key"]), None,
                                                    unsafe_skip_rsa_key_validation=True))


def _sign(request, pdf, signer, hasher, timestampers):
    """Sign ``pdf`` for a "sign" request: the answer and the update."""
    digests = hasher.submit(lambda data: (hashlib.sha256(data), hashlib.sha1(data)), pdf)
    stamp = request.get("stamp")
    tsa = request.get("tsa")
    timestamper = None
    if tsa:
        key = (tsa["url"], tsa["timeout"])
        timestamper = timestampers.get(key) or timestampers.setdefault(key, http_timestamper(*key))
    signed = pades.sign_pdf(
        pdf, signer, field_name=request["field_name"], stamp=pades.StampText(**stamp) if stamp else None,
        page=request.get("page", -1), timestamper=timestamper, prefix_sha256=lambda: digests.result()[0].copy())
    sha256, sha1 = digests.result()
    input_sha1 = sha1.hexdigest()
    tail = bytes(memoryview(signed)[len(pdf):])
    sha256.update(tail)
    sha1.update(tail)
    return {"ok": True, "tail": len(tail), "input_size": len(pdf), "input_sha1": input_sha1,
            "sha256": sha256.hexdigest(), "sha1": sha1.hexdigest()}, tail


def _child_main(idle_exit):
    import resource
    import select
    import signal
    import warnings

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_limit(resource, resource.RLIMIT_CORE, 0)  # no core file with a key in it
    # no CPU limit inherited from an Odoo worker's request (its soft limit, with SIGXCPU blocked)
    set_limit(resource, resource.RLIMIT_CPU, resource.RLIM_INFINITY)
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    reply_fd = private_stdout()
    keep_heap_warm()
    pades.prepare_stamp_font()
    hasher = ThreadPoolExecutor(max_workers=1)  # hashes the input while pyHanko parses it
    answers = queue.SimpleQueue()  # sent by a thread: this loop never waits for the worker to read

    def send_answers():
        while True:
            data = answers.get()
            if data is None:
                return
            try:
                write_all(reply_fd, data, None)
            except ChildGone:
                return  # the worker went away

    sender = threading.Thread(target=send_answers, daemon=True)
    sender.start()

    def send(message, payload=b""):
        body = json.dumps(message).encode()
        answers.put(LENGTH.pack(len(body)) + body + payload)

    send({"ready": os.getpid()})
    signer, timestampers, collect = None, {}, False
    while True:
        if signer is None:
            # pyHanko's objects in reference cycles, the key's among them: collected once idle (the
            # collection holds the GIL, and with it the answer to "forget", for ~50 ms)
            if collect and not select.select([0], [], [], 0.5)[0]:
                gc.collect()
                collect = False
            if not select.select([0], [], [], idle_exit)[0]:
                break  # idle between batches: the worker starts another child when it needs one
        try:
            request = receive_message(0, None, _MAX_MESSAGE)
        except ChildGone:
            break  # the worker went away
        op = request.get("op")
        try:
            if op == "key":
                signer, timestampers = _load_signer(request), {}
                send({"ok": True})
            elif op == "forget":
                signer, timestampers, collect = None, {}, True
                send({"ok": True})
            elif op == "sign":
                if request.get("path") is None:
                    pdf = read_exact(0, int(request["size"]), None)
                else:
                    try:
                        with open(request["path"], "rb") as file:
                            pdf = file.read()
                    except OSError:
                        raise pades.PadesError("The file to sign could not be read") from None
                if signer is None:
                    raise pades.PadesError("No key was given to the signing process")
                send(*_sign(request, pdf, signer, hasher, timestampers))
                del pdf
            else:
                send({"ok": False, "message": f"unknown request {op!r}"})
        except MemoryError:
            send({"ok": False, "message": "The signing process ran out of memory"})
            break  # a fresh process is cheaper than a fragmented one
        except TimestampError as error:
            send({"ok": False, "kind": "timestamp", "message": str(error)})
        except SigningError as error:
            send({"ok": False, "kind": "signing", "code": error.code, "message": str(error),
                  "detail": error.detail})
        except pades.PadesError as error:
            send({"ok": False, "message": str(error)})
        except Exception as error:  # noqa: BLE001 - reported to the worker, which raises it
            send({"ok": False, "message": f"{type(error).__name__}: {error}"})
        finally:
            request = None  # a key request's key goes with it
    answers.put(None)
    sender.join(timeout=5)
