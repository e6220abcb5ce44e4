"""Files of records written durably, by the caller or by a thread (no Odoo import).

:func:`write_file` writes a file the way evidence deserves: under a
temporary name (in ``temporary_dir``, on the same file system), forced to the
disk, then renamed into place and the rename forced to the disk too. Nobody
ever sees half a file at its final path, and what a killed process leaves
behind stays in that one folder. Odoo's own filestore write leaves the bytes
to the kernel: a power cut after the commit could lose a file the database
names. The file's pages are then dropped from the page cache: a lesson plan
is written once and read again days later, and 5 MB files by the thousand
would only push PostgreSQL's pages out of the cache. On the virtual machines
this project runs on, that also makes the write cheap: filling fresh
page-cache pages costs 15–20 ms of CPU for 5 MB, the durable write 3–4 ms
(and a few ms waiting for the disk).

A batch of approvals signs one 5 MB file after another: a
:class:`BackgroundFileWriter` writes file *n* in a thread of its own while
the caller signs file *n + 1*. It keeps at most ``depth`` writes pending (the
caller's memory does not grow with the batch). A failed write is raised
again, as :class:`FileWriteError`, at the next call or at :meth:`close`: the
caller must close the writer (``with``) before it commits anything that
names those files, and must not read them before.
"""

import contextlib
import errno
import os
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["BackgroundFileWriter", "FileWriteError", "sync_directory", "sync_file", "write_file"]


class FileWriteError(Exception):
    """A file could not be written; the ``OSError`` is the cause."""


def write_file(path: str, data: bytes, temporary_dir: str | None = None) -> None:
    """Write ``data`` at ``path`` durably (see the module's docstring);
    raises ``OSError`` and leaves no temporary behind when it fails."""
    # unique across threads, processes and hosts sharing one filestore; "x": never another's file
    name = f"{os.path.basename(path)}.{os.getpid()}.{threading.get_ident()}.{os.urandom(6).hex()}.tmp"
    temporary = os.path.join(temporary_dir or os.path.dirname(path), name)
    try:
        with open(temporary, "xb") as file:
            file.write(data)
            file.flush()
            os.fdatasync(file.fileno())
            # clean pages now: the kernel drops them at once (only a hint: some file systems refuse it)
            with contextlib.suppress(OSError):
                os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    sync_directory(os.path.dirname(path))


def sync_file(path: str) -> None:
    """Force a file that is already there (written by someone else, maybe
    without syncing it) to the disk, with its directory entry."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    sync_directory(os.path.dirname(path))


def sync_directory(path: str) -> None:
    """Force a directory's entries (a rename or a new folder in it) to the disk."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    except OSError as error:
        if error.errno != errno.EINVAL:  # a file system that cannot sync a directory
            raise
    finally:
        os.close(descriptor)


class BackgroundFileWriter:
    """Writes ``(path, bytes)`` in one thread of its own, in order."""

    def __init__(self, depth: int = 1, temporary_dir: str | None = None):
        if depth < 1:
            raise ValueError("depth must be at least 1")
        self.depth = depth
        self.temporary_dir = temporary_dir
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hscm-file-writer")
        self._pending = {}  # path -> future, oldest first
        self._queued = set()  # every path queued (a batch's few dozen names)
        self._closed = False

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:  # the caller failed: wait for the thread, but its own error stays the one raised
            self.close(raise_errors=False)
        return False

    def write(self, path: str, data: bytes) -> None:
        """Queue ``data`` for ``path``; first waits while ``depth`` writes
        are pending (and raises the error of any that failed). A path
        already queued is not written twice."""
        if self._closed:
            raise RuntimeError("the writer is closed")
        if path in self._queued:
            return
        while len(self._pending) >= self.depth:
            self._finish(next(iter(self._pending)))
        self._queued.add(path)
        self._pending[path] = self._executor.submit(write_file, path, data, self.temporary_dir)

    def has(self, path: str) -> bool:
        """Whether ``path`` was queued here (written durably, or about to be)."""
        return path in self._queued

    def close(self, raise_errors: bool = True) -> None:
        """Wait for every pending write; raise the first failure."""
        error = None
        for path in list(self._pending):
            try:
                self._finish(path)
            except FileWriteError as failure:
                error = error or failure
        if not self._closed:
            self._closed = True
            self._executor.shutdown(wait=True)
        if error is not None and raise_errors:
            raise error

    def _finish(self, path: str) -> None:
        future = self._pending.pop(path)
        try:
            future.result()
        except OSError as error:
            raise FileWriteError(f"{path}: {error}") from error
