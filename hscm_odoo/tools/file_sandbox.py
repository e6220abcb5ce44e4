"""Run the upload checks of :mod:`file_check` in a separate, limited process.

A parser bug, a decompression bomb or an endless loop in a hostile upload must
never kill or hang an Odoo worker. :class:`SandboxedChecker` keeps one
*persistent* child process (started with ``subprocess`` and a fresh
interpreter, never by forking the worker) that

* limits itself at start: address space (``RLIMIT_AS``), CPU time per check
  (``RLIMIT_CPU``, re-armed before every request), no core files, no files
  written;
* loads ``file_check.py`` by file path (it needs neither Odoo nor the
  ``hscm_odoo`` package) and then answers requests forever.

Transfer: the parent copies the bytes into a shared-memory region (``memfd``,
mapped by both processes and reused for every request) and sends a small JSON
header on the child's stdin; the child copies them out into a bytes object
(pypdf reads a ``BytesIO``, which shares bytes but copies anything else) and
answers with a small JSON document on its stdout. Two ``memcpy`` of the upload,
no system call per 64 KB: for 5 MB about 3 ms faster than the pipe (see
``bench/bench_file_check.py``). Uploads larger than the region go through the
pipe. The parent hashes the upload (SHA-256) while the child checks it.

The parent waits with a wall-clock timeout. A child that does not answer in
time is killed (verdict ``timeout``); one that dies (memory limit, CPU limit,
crash) gives the verdict ``crashed``; in both cases a new child is started on
the next call. Those refusals are logged at INFO level (the project's CI
fails on WARNING lines).

Use :func:`get_checker` for the process-wide instance; it is re-created after
``os.fork()``.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import json
import logging
import mmap
import os
import select
import struct
import subprocess
import sys
import tempfile
import threading
import time

if __package__:
    from . import file_check
else:  # loaded by file path in the sandbox child: no package around
    _spec = importlib.util.spec_from_file_location(
        "_hscm_file_check",
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "file_check.py"),
    )
    file_check = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = file_check
    _spec.loader.exec_module(file_check)

Verdict = file_check.Verdict

_logger = logging.getLogger(__name__ if "hscm_odoo" in __name__ else "hscm_odoo.file_sandbox")

DEFAULT_MEMORY_LIMIT = 768 * 1024 * 1024
DEFAULT_CPU_SECONDS = 5
DEFAULT_TIMEOUT = 2.0
SHARED_REGION_SIZE = 32 * 1024 * 1024  # uploads up to this size travel through shared memory
START_TIMEOUT = 10.0  # starting the interpreter and importing pypdf; not part of a check
CHECKS_PER_CHILD = 2000  # a fresh child now and then keeps memory fragmentation away

LENGTH = struct.Struct("!I")
_MAX_MESSAGE = 1024 * 1024
_POLICY_KEYS = ("allowed_formats", "max_size", "max_pages")
_TEST_HOOKS_ENV = "HSCM_FILE_SANDBOX_TEST_HOOKS"

# The child's program: load this file by path and run _child_main().
_BOOTSTRAP = (
    "import sys\n"
    "sys.path[:] = [p for p in sys.path if p not in ('', '.')]\n"
    "import importlib.util\n"
    "spec = importlib.util.spec_from_file_location('_hscm_file_sandbox', sys.argv[1])\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "sys.modules[spec.name] = module\n"
    "spec.loader.exec_module(module)\n"
    "module._child_main(sys.argv[2:])\n"
)


class ChildGone(Exception):
    """The child closed its pipe, died, or answered garbage."""


class TimedOut(Exception):
    """The child did not answer before the deadline."""


class SandboxedChecker:
    """Check uploads in a persistent child process with memory/CPU/time limits.

    ``check`` is thread-safe (one request at a time per checker).
    """

    def __init__(self, memory_limit=DEFAULT_MEMORY_LIMIT, cpu_seconds=DEFAULT_CPU_SECONDS,
                 timeout=DEFAULT_TIMEOUT, *, transfer="auto", start_timeout=START_TIMEOUT,
                 _test_hooks=False):
        if transfer not in ("auto", "shm", "pipe"):
            raise ValueError("transfer must be 'auto', 'shm' or 'pipe'")
        self.memory_limit = int(memory_limit or 0)
        self.cpu_seconds = max(1, int(cpu_seconds))
        self.timeout = float(timeout)
        self.transfer = transfer
        self.start_timeout = float(start_timeout)
        self._test_hooks = bool(_test_hooks)
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._proc = None
        self._checks = 0
        self._region = None
        self._region_fd = -1
        self._region_size = 0
        self.restarts = 0  # children started so far (for tests and monitoring)

    # -- public API ------------------------------------------------------------
    def check(self, data: bytes, filename: str, **policy) -> Verdict:
        """Check ``data`` like :func:`file_check.check_file`, in the child process."""
        unknown = set(policy) - set(_POLICY_KEYS) - {"_test_hook"}
        if unknown:
            raise TypeError("unknown policy argument(s): %s" % ", ".join(sorted(unknown)))
        hook = policy.pop("_test_hook", None)
        if hook is not None and not self._test_hooks:
            raise TypeError("test hooks are disabled on this checker")
        if not isinstance(data, bytes):
            data = bytes(data)
        if self._pid != os.getpid():
            self._forget_after_fork()
        with self._lock:
            return self._check_locked(data, filename, policy, hook)

    def start(self):
        """Start the child now rather than on the first check."""
        if self._pid != os.getpid():
            self._forget_after_fork()
        with self._lock:
            self._ensure_child()

    def close(self):
        """Stop the child and free the shared memory."""
        if self._pid != os.getpid():
            self._forget_after_fork()
            return
        with self._lock:
            self._stop_child()
            self._free_region()

    @property
    def child_pid(self):
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    # -- one request -------------------------------------------------------------
    def _check_locked(self, data, filename, policy, hook):
        digest = []

        def sha256():
            if not digest:
                digest.append(hashlib.sha256(data).hexdigest())
            return digest[0]

        params = file_check.policy_params(
            tuple(policy.get("allowed_formats", (file_check.KIND_PDF,))),
            policy.get("max_size", file_check.DEFAULT_MAX_SIZE),
            policy.get("max_pages", file_check.DEFAULT_MAX_PAGES),
        )
        early = file_check.precheck(data, sha256=sha256, **policy)
        if early is not None:
            return early

        def refusal(code, detail):
            _logger.info("Upload check refused %r (%d bytes): %s (%s)",
                         filename, len(data), code, detail)
            return file_check.make_verdict(code, sha256=sha256(), size=len(data), params=params)

        for attempt in (1, 2):
            try:
                self._ensure_child()
            except Exception as exc:  # noqa: BLE001 - could not start the checker at all
                self._stop_child()
                return refusal("crashed", "sandbox did not start: %s" % exc)
            deadline = time.monotonic() + self.timeout
            try:
                self._send(data, filename, policy, hook, deadline)
                break
            except TimedOut:
                self._stop_child()
                return refusal("timeout", "no answer within %.1f s" % self.timeout)
            except (ChildGone, OSError):
                # the child died between two checks: start a new one, once
                self._stop_child()
                if attempt == 2:
                    return refusal("crashed", "sandbox stopped while receiving the file")
        sha256()  # hash while the child works (the child does not)
        try:
            reply = self._receive(deadline)
        except TimedOut:
            self._stop_child()
            return refusal("timeout", "no answer within %.1f s" % self.timeout)
        except (ChildGone, OSError) as exc:
            returncode = self._stop_child()
            return refusal("crashed", "sandbox stopped (exit status %s): %s" % (returncode, exc))
        self._checks += 1
        if self._checks >= CHECKS_PER_CHILD:
            self._stop_child()
        code = reply.get("code")
        if code not in file_check.MESSAGES:
            self._stop_child()
            return refusal("crashed", "unexpected answer %r" % (reply,))
        if code == "crashed":
            self._stop_child()
            return refusal("crashed", reply.get("detail") or "error in the sandbox")
        pages = reply.get("pages")
        return file_check.make_verdict(
            code,
            kind=reply.get("kind") if reply.get("kind") in ("pdf", "docx") else None,
            pages=pages if isinstance(pages, int) else None,
            sha256=sha256(),
            size=len(data),
            params=params,
        )

    def _send(self, data, filename, policy, hook, deadline):
        proc = self._proc
        size = len(data)
        use_region = (self.transfer != "pipe" and self._region is not None
                      and size <= self._region_size)
        header = {
            "size": size,
            "mode": "shm" if use_region else "pipe",
            "name": filename if isinstance(filename, str) else None,
            "policy": {k: (list(v) if k == "allowed_formats" else v) for k, v in policy.items()},
        }
        if hook is not None:
            header["hook"] = hook
        if use_region:
            self._region[:size] = data
        body = json.dumps(header).encode()
        fd = proc.stdin.fileno()
        write_all(fd, LENGTH.pack(len(body)) + body, deadline)
        if not use_region:
            write_all(fd, data, deadline)

    def _receive(self, deadline):
        return receive_message(self._proc.stdout.fileno(), deadline, _MAX_MESSAGE)

    # -- child management ----------------------------------------------------
    def _ensure_child(self):
        if self._proc is not None:
            if self._proc.poll() is None:
                return
            _logger.info("Upload checker sandbox (pid %s) exited with status %s; restarting",
                         self._proc.pid, self._proc.returncode)
            self._stop_child()
        if self.transfer != "pipe" and self._region is None:
            self._make_region()
        env = dict(os.environ)
        env.pop(_TEST_HOOKS_ENV, None)
        if self._test_hooks:
            env[_TEST_HOOKS_ENV] = "1"
        pass_fds = (self._region_fd,) if self._region_fd >= 0 else ()
        args = [
            sys.executable, "-c", _BOOTSTRAP, os.path.abspath(__file__),
            str(self.memory_limit), str(self.cpu_seconds),
            str(self._region_fd if pass_fds else -1), str(self._region_size if pass_fds else 0),
        ]
        self._checks = 0
        self.restarts += 1
        self._proc = start_child(args, self.start_timeout, pass_fds=pass_fds, env=env, enlarge=True)

    def _stop_child(self):
        proc, self._proc = self._proc, None
        return stop_process(proc)

    def _make_region(self):
        made = make_region("hscm-upload-check", SHARED_REGION_SIZE)
        if made is not None:  # else the pipe will do
            self._region, self._region_fd = made
            self._region_size = SHARED_REGION_SIZE

    def _free_region(self):
        free_region((self._region, self._region_fd) if self._region is not None else None)
        self._region, self._region_fd, self._region_size = None, -1, 0

    def _forget_after_fork(self):
        """In a forked process: drop (without killing) the parent's child and memory."""
        self._lock = threading.Lock()
        self._pid = os.getpid()
        proc, self._proc = self._proc, None
        let_go(proc, forked=True)
        self._free_region()

    def __del__(self):  # pragma: no cover - best effort at interpreter exit
        try:
            if self._pid == os.getpid():
                self._stop_child()
                self._free_region()
        except Exception:  # noqa: BLE001
            pass


# ---------------------------------------------------------------------------
# Process-wide instance
# ---------------------------------------------------------------------------
_checker = None
_checker_pid = None
_checker_lock = threading.Lock()


def get_checker() -> SandboxedChecker:
    """The process-wide checker, created on first use and again after a fork."""
    global _checker, _checker_pid
    with _checker_lock:
        if _checker is None or _checker_pid != os.getpid():
            if _checker is not None:
                _checker._forget_after_fork()
            _checker = SandboxedChecker()
            _checker_pid = os.getpid()
        return _checker


def _after_fork_in_child():
    global _checker_lock
    _checker_lock = threading.Lock()


def _close_at_exit():
    if _checker is not None and _checker_pid == os.getpid():
        _checker.close()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_at_exit)


# ---------------------------------------------------------------------------
# Child, shared-memory and pipe helpers (both sides; the child and pipe ones also serve signing_process.py)
# ---------------------------------------------------------------------------
def stop_process(proc):
    """Kill and reap a child (None: nothing); its exit status."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            proc.kill()
        except OSError:
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL not delivered yet
        pass
    let_go(proc)
    return proc.returncode


def let_go(proc, forked=False):
    """Close our ends of a child's pipes (None: nothing). ``forked``: in a
    forked process, where the child is the parent process's, not ours to
    kill or wait for."""
    if proc is None:
        return
    for stream in (proc.stdin, proc.stdout):
        try:
            stream.close()
        except OSError:
            pass
    if forked:
        proc.returncode = 0


def start_child(args, start_timeout, *, pass_fds=(), env=None, enlarge=False):
    """Start a child (``args``: a fresh interpreter, never a fork) that
    talks length-prefixed JSON on its stdin and stdout, and wait for its
    greeting ``{"ready": pid}``; a child that does not greet in time is
    stopped. ``enlarge``: a 1 MB pipe for its requests."""
    proc = subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        pass_fds=pass_fds, close_fds=True, start_new_session=True, env=env, cwd=tempfile.gettempdir(),
    )
    try:
        if enlarge:
            enlarge_pipe(proc.stdin.fileno())
        # never block on a child that stopped reading: writes wait in poll(), with a deadline
        os.set_blocking(proc.stdin.fileno(), False)
        ready = receive_message(proc.stdout.fileno(), time.monotonic() + start_timeout, _MAX_MESSAGE)
        if ready.get("ready") != proc.pid:
            raise ChildGone("unexpected greeting %r" % (ready,))
    except Exception:
        stop_process(proc)
        raise
    return proc


def receive_message(fd, deadline, max_size):
    """One length-prefixed JSON object from ``fd``."""
    (length,) = LENGTH.unpack(read_exact(fd, LENGTH.size, deadline))
    if length > max_size:
        raise ChildGone("oversized answer")
    try:
        message = json.loads(read_exact(fd, length, deadline))
    except ValueError as exc:
        raise ChildGone("garbled answer") from exc
    if not isinstance(message, dict):
        raise ChildGone("garbled answer")
    return message


def private_stdout():
    """In a child: a private copy of stdout for the answers, stdout itself
    sent to /dev/null, so that a stray print() cannot garble them."""
    reply_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    return reply_fd


def make_region(name, size):
    """A shared-memory region of ``size`` bytes to pass to a child: ``(mmap,
    fd)``, or None when the system has none (the pipe will do)."""
    try:
        fd = os.memfd_create(name, getattr(os, "MFD_CLOEXEC", 1))
    except (AttributeError, OSError):  # no memfd: an unlinked file in /dev/shm or /tmp
        directory = "/dev/shm" if os.path.isdir("/dev/shm") else None
        handle, path = tempfile.mkstemp(prefix=name + "-", dir=directory)
        os.unlink(path)
        fd = handle
    try:
        os.ftruncate(fd, size)
        return mmap.mmap(fd, size), fd
    except OSError:
        os.close(fd)
        return None


def free_region(region):
    """Unmap and close a region of :func:`make_region` (None: nothing); returns None."""
    if region is not None:
        try:
            region[0].close()
            os.close(region[1])
        except (OSError, BufferError):
            pass
    return None


def enlarge_pipe(fd, size=1024 * 1024):
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (ImportError, OSError):
        pass


def write_all(fd, data, deadline):
    view = memoryview(data)
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    while view:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimedOut()
            if not poller.poll(max(1, int(remaining * 1000))):
                continue
        try:
            written = os.write(fd, view[:1024 * 1024])
        except BlockingIOError:
            continue  # the pipe is full: wait for the reader
        except BrokenPipeError as exc:
            raise ChildGone("pipe closed") from exc
        view = view[written:]


def read_exact(fd, length, deadline):
    chunks = []
    poller = select.poll() if deadline is not None else None
    if poller is not None:
        poller.register(fd, select.POLLIN | select.POLLPRI)
    while length > 0:
        if poller is not None:
            remaining = deadline - time.monotonic()
            # what is there already is read even past the deadline
            if not poller.poll(max(1, int(remaining * 1000)) if remaining > 0 else 0):
                if remaining <= 0:
                    raise TimedOut()
                continue
        chunk = os.read(fd, min(length, 1024 * 1024))
        if not chunk:
            raise ChildGone("end of file")
        chunks.append(chunk)
        length -= len(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------------------
# The child
# ---------------------------------------------------------------------------
def _child_main(argv):
    import resource
    import signal
    import warnings

    memory_limit, cpu_seconds, region_fd, region_size = (int(a) for a in argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGXCPU, signal.SIG_DFL)  # the CPU limit kills, even if inherited ignored
    # ... and even if inherited blocked: an Odoo prefork worker blocks SIGXCPU in the thread that
    # serves requests, and a child keeps its parent's signal mask across exec
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGXCPU})
    set_limit(resource, resource.RLIMIT_CORE, 0)
    set_limit(resource, resource.RLIMIT_FSIZE, 0)
    if memory_limit > 0:
        set_limit(resource, resource.RLIMIT_AS, memory_limit)
    _arm_cpu_limit(resource, cpu_seconds)
    logging.disable(logging.CRITICAL)  # nothing from pypdf reaches the worker's logs
    warnings.simplefilter("ignore")
    reply_fd = private_stdout()
    keep_heap_warm()
    region = mmap.mmap(region_fd, region_size, prot=mmap.PROT_READ) if region_fd >= 0 else None
    hooks = os.environ.get(_TEST_HOOKS_ENV) == "1"
    _child_send(reply_fd, {"ready": os.getpid()})
    while True:
        try:
            raw = read_exact(0, LENGTH.size, None)
        except ChildGone:
            return  # the parent went away
        (length,) = LENGTH.unpack(raw)
        request = json.loads(read_exact(0, length, None))
        size = int(request["size"])
        if request.get("mode") == "shm" and region is not None and size <= region_size:
            data = region[:size]  # one memcpy (pypdf wants bytes: BytesIO shares them)
        else:
            data = read_exact(0, size, None)
        policy = request.get("policy") or {}
        if "allowed_formats" in policy:
            policy["allowed_formats"] = tuple(policy["allowed_formats"])
        _arm_cpu_limit(resource, cpu_seconds)
        try:
            if hooks and request.get("hook"):
                _run_test_hook(request["hook"])
            verdict = file_check.run_checks(data, request.get("name"), sha256=None, **policy)
            answer = {"code": verdict.code, "kind": verdict.kind, "pages": verdict.pages}
        except MemoryError:
            data = None
            _child_send(reply_fd, {"code": "crashed", "detail": "out of memory"})
            os._exit(3)  # a fresh process is cheaper than a fragmented one
        except Exception as exc:  # noqa: BLE001 - report it, the parent logs it
            answer = {"code": "crashed", "detail": "%s: %s" % (type(exc).__name__, exc)}
        data = None
        _child_send(reply_fd, answer)


def keep_heap_warm():
    """Ask glibc to keep freed memory instead of returning it to the system.

    Every upload is copied into a new bytes object of its size; served from
    already-mapped heap that copy is a plain memcpy, from fresh pages it costs
    a page fault per 4 KB. Best effort: glibc only.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 64 * 1024 * 1024)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 256 * 1024 * 1024)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def _child_send(fd, message):
    body = json.dumps(message).encode()
    write_all(fd, LENGTH.pack(len(body)) + body, None)


def set_limit(resource, which, value):
    try:
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, hard))
    except (ValueError, OSError):
        pass


def _arm_cpu_limit(resource, seconds):
    """Allow ``seconds`` more CPU seconds from now (the limit counts the whole process life)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    set_limit(resource, resource.RLIMIT_CPU, int(used) + 1 + seconds)


def _run_test_hook(hook):
    """Misbehaviours for the tests (only with the test-hooks environment variable)."""
    if hook == "spin":
        while True:
            pass
    elif hook == "exit":
        os._exit(9)
    elif hook == "memory":
        hog = []
        while True:
            hog.append(bytearray(16 * 1024 * 1024))
