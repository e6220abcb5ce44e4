"""BackgroundFileWriter: files written by a thread, bounded, failures raised."""

import os
import threading

import pytest

from hscm_tools import background_writer
from hscm_tools.background_writer import BackgroundFileWriter


def test_writes_every_file_by_close(tmp_path):
    paths = [str(tmp_path / f"f{i}") for i in range(5)]
    with BackgroundFileWriter() as writer:
        for i, path in enumerate(paths):
            writer.write(path, bytes([i]) * (1 << 20))
    for i, path in enumerate(paths):
        assert open(path, "rb").read() == bytes([i]) * (1 << 20)
    assert sorted(os.listdir(tmp_path)) == sorted(os.path.basename(p) for p in paths)  # no temporary left


def test_writes_in_another_thread_and_never_more_than_depth_pending(tmp_path, monkeypatch):
    release = threading.Event()
    threads, started = [], []

    def slow_write(path, data):
        threads.append(threading.current_thread())
        started.append(path)
        release.wait(5)
        with open(path, "wb") as file:
            file.write(data)

    monkeypatch.setattr(background_writer, "_write_file", slow_write)
    writer = BackgroundFileWriter(depth=1)
    first, second = str(tmp_path / "a"), str(tmp_path / "b")
    writer.write(first, b"a")
    assert writer.pending(first)
    assert not os.path.exists(first)  # the caller went on before the file was written
    timer = threading.Timer(0.2, release.set)
    timer.start()
    writer.write(second, b"b")  # waits for the first: one pending at most
    assert open(first, "rb").read() == b"a"
    writer.close()
    timer.join()
    assert open(second, "rb").read() == b"b"
    assert threading.current_thread() not in threads


def test_a_path_queued_twice_is_written_once(tmp_path, monkeypatch):
    calls = []
    original = background_writer._write_file
    monkeypatch.setattr(background_writer, "_write_file", lambda p, d: (calls.append(p), original(p, d)))
    path = str(tmp_path / "same")
    with BackgroundFileWriter(depth=4) as writer:
        writer.write(path, b"x")
        writer.write(path, b"x")
    assert calls == [path]


def test_wait_returns_once_the_file_is_on_disk(tmp_path):
    path = str(tmp_path / "f")
    with BackgroundFileWriter() as writer:
        writer.write(path, b"data")
        writer.wait(path)
        assert open(path, "rb").read() == b"data"
        assert not writer.pending(path)
        writer.wait(str(tmp_path / "never queued"))  # nothing to wait for


def test_a_failed_write_is_raised_at_close_and_leaves_no_temporary(tmp_path):
    missing = tmp_path / "no such folder" / "f"
    writer = BackgroundFileWriter()
    writer.write(str(missing), b"data")
    with pytest.raises(OSError):
        writer.close()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError):
        writer.write(str(tmp_path / "g"), b"late")  # closed


def test_a_failed_write_is_raised_by_the_next_write_that_waits_for_it(tmp_path):
    writer = BackgroundFileWriter(depth=1)
    writer.write(str(tmp_path / "missing" / "f"), b"data")
    with pytest.raises(OSError):
        writer.write(str(tmp_path / "g"), b"next")
    writer.close()


def test_the_callers_own_error_wins_over_a_failed_write(tmp_path):
    with pytest.raises(ValueError, match="caller"):
        with BackgroundFileWriter() as writer:
            writer.write(str(tmp_path / "missing" / "f"), b"data")
            raise ValueError("caller")


def test_depth_must_be_positive():
    with pytest.raises(ValueError):
        BackgroundFileWriter(depth=0)
