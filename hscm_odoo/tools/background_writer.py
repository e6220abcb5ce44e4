"""Files written by a thread while the caller goes on (no Odoo import).

A batch of approvals signs one 5 MB file after another, and each signed file
is written to the filestore. Writing a new file costs as much time again as
half a signature on a virtual machine (the kernel's fresh page-cache pages:
18 ms for 5 MB); it needs no Python and releases the GIL, so a second core
can write file *n* while the caller signs file *n + 1*.

:class:`BackgroundFileWriter` keeps at most ``depth`` writes pending (the
caller's memory does not grow with the batch) and writes each file under a
temporary name in ``temporary_dir`` (on the same file system), then renames
it: nobody ever sees half a file at its final path, and what a killed
process leaves behind stays in that one folder. A failed write is raised
again, as :class:`FileWriteError`, at the next call or at :meth:`close`: the
caller must close the writer (``with``) before it commits anything that
names those files, and must not read them before.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["BackgroundFileWriter", "FileWriteError"]


class FileWriteError(Exception):
    """A file could not be written; the ``OSError`` is the cause."""


def _write_file(path: str, data: bytes, temporary_dir: str | None) -> None:
    name = f"{os.path.basename(path)}.{os.getpid()}.{threading.get_ident()}.tmp"
    temporary = os.path.join(temporary_dir or os.path.dirname(path), name)
    try:
        with open(temporary, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


class BackgroundFileWriter:
    """Writes ``(path, bytes)`` in one thread of its own, in order."""

    def __init__(self, depth: int = 1, temporary_dir: str | None = None):
        if depth < 1:
            raise ValueError("depth must be at least 1")
        self.depth = depth
        self.temporary_dir = temporary_dir
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hscm-file-writer")
        self._pending = {}  # path -> future, oldest first
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
        are pending (and raises the error of any that failed). A path still
        queued is not written twice."""
        if self._closed:
            raise RuntimeError("the writer is closed")
        if path in self._pending:
            return
        while len(self._pending) >= self.depth:
            self._finish(next(iter(self._pending)))
        self._pending[path] = self._executor.submit(_write_file, path, data, self.temporary_dir)

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
