"""BackgroundFileWriter: files written by a thread, bounded, failures raised."""

import errno
import os
import threading

import pytest

from hscm_tools import background_writer
from hscm_tools.background_writer import BackgroundFileWriter, FileWriteError


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
    threads = []

    def slow_write(path, data, temporary_dir):
        threads.append(threading.current_thread())
        release.wait(30)
        with open(path, "wb") as file:
            file.write(data)

    monkeypatch.setattr(background_writer, "write_file", slow_write)
    writer = BackgroundFileWriter(depth=1)
    first, second = str(tmp_path / "a"), str(tmp_path / "b")
    writer.write(first, b"a")
    assert not os.path.exists(first)  # the caller went on before the file was written
    timer = threading.Timer(0.2, release.set)
    timer.start()
    writer.write(second, b"b")  # waits for the first: one pending at most
    assert release.is_set() and open(first, "rb").read() == b"a"
    writer.close()
    timer.join()
    assert open(second, "rb").read() == b"b"
    assert threads and threading.current_thread() not in threads


def test_a_path_still_queued_is_written_once(tmp_path, monkeypatch):
    calls = []
    original = background_writer.write_file
    monkeypatch.setattr(background_writer, "write_file", lambda p, d, t: (calls.append(p), original(p, d, t)))
    path = str(tmp_path / "same")
    with BackgroundFileWriter(depth=4) as writer:
        writer.write(path, b"x")
        writer.write(path, b"x")
    assert calls == [path]


def test_temporary_names_go_to_the_temporary_folder(tmp_path, monkeypatch):
    folder = tmp_path / "tmp"
    folder.mkdir()
    seen = []
    real_replace = os.replace

    def replace(source, target):
        seen.append(os.path.dirname(source))
        return real_replace(source, target)

    monkeypatch.setattr(background_writer.os, "replace", replace)
    with BackgroundFileWriter(temporary_dir=str(folder)) as writer:
        writer.write(str(tmp_path / "f"), b"data")
    assert seen == [str(folder)] and list(folder.iterdir()) == []
    assert (tmp_path / "f").read_bytes() == b"data"


def test_a_failed_write_is_raised_at_close_and_leaves_no_temporary(tmp_path, monkeypatch):
    def refusing_replace(source, target):
        assert os.path.exists(source)  # the temporary was written; the rename fails
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(background_writer.os, "replace", refusing_replace)
    writer = BackgroundFileWriter()
    writer.write(str(tmp_path / "f"), b"data")
    with pytest.raises(FileWriteError) as caught:
        writer.close()
    assert isinstance(caught.value.__cause__, OSError)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError):
        writer.write(str(tmp_path / "g"), b"late")  # closed


def test_a_failed_write_is_raised_by_the_next_write_that_waits_for_it(tmp_path):
    writer = BackgroundFileWriter(depth=1)
    writer.write(str(tmp_path / "missing" / "f"), b"data")
    with pytest.raises(FileWriteError):
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


def test_write_file_forces_the_bytes_to_disk_drops_their_pages_then_renames(tmp_path, monkeypatch):
    """The file reaches the disk (fdatasync) before it gets its name, its
    pages are dropped once clean, and the rename is forced to the disk too."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    target = tmp_path / "ab" / "abcdef"
    target.parent.mkdir()
    calls = []
    real = {name: getattr(os, name) for name in ("fdatasync", "posix_fadvise", "replace", "fsync")}

    def recording(name):
        def call(*args):
            if name == "posix_fadvise":
                calls.append((name, args[1:]))
            elif name in ("fdatasync", "fsync"):
                calls.append((name, os.readlink(f"/proc/self/fd/{args[0]}")))
            else:
                calls.append((name, args))
            return real[name](*args)
        return call

    for name in real:
        monkeypatch.setattr(background_writer.os, name, recording(name))
    data = os.urandom(3 << 20)
    background_writer.write_file(str(target), data, str(folder))
    assert target.read_bytes() == data and list(folder.iterdir()) == []
    names = [name for name, _args in calls]
    assert names == ["fdatasync", "posix_fadvise", "replace", "fsync"]
    temporary = calls[0][1]
    assert os.path.dirname(temporary) == str(folder)
    assert calls[1][1] == (0, 0, os.POSIX_FADV_DONTNEED)
    assert calls[2][1] == (temporary, str(target))
    assert calls[3][1] == str(target.parent)  # the directory that received the name


def test_write_file_that_cannot_reach_the_disk_leaves_nothing(tmp_path, monkeypatch):
    def failing_sync(descriptor):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(background_writer.os, "fdatasync", failing_sync)
    with pytest.raises(OSError):
        background_writer.write_file(str(tmp_path / "f"), b"data", str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_the_writer_thread_writes_durably(tmp_path, monkeypatch):
    synced = []
    real_fdatasync = os.fdatasync
    monkeypatch.setattr(background_writer.os, "fdatasync",
                        lambda descriptor: (synced.append(threading.current_thread()), real_fdatasync(descriptor)))
    with BackgroundFileWriter() as writer:
        writer.write(str(tmp_path / "f"), b"data")
    assert (tmp_path / "f").read_bytes() == b"data"
    assert len(synced) == 1 and synced[0] is not threading.current_thread()


def test_a_directory_that_cannot_be_synced_is_accepted_other_errors_are_not(tmp_path, monkeypatch):
    def fsync_failing_with(code):
        def fsync(descriptor):
            raise OSError(code, os.strerror(code))
        return fsync

    monkeypatch.setattr(background_writer.os, "fsync", fsync_failing_with(errno.EINVAL))
    background_writer.write_file(str(tmp_path / "f"), b"data", str(tmp_path))
    assert (tmp_path / "f").read_bytes() == b"data"
    monkeypatch.setattr(background_writer.os, "fsync", fsync_failing_with(errno.EIO))
    with pytest.raises(OSError):
        background_writer.write_file(str(tmp_path / "g"), b"data", str(tmp_path))


def test_sync_file_syncs_the_file_then_its_directory(tmp_path, monkeypatch):
    target = tmp_path / "f"
    target.write_bytes(b"written by someone else")
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(background_writer.os, "fsync", lambda descriptor: (
        synced.append(os.readlink(f"/proc/self/fd/{descriptor}")), real_fsync(descriptor)))
    background_writer.sync_file(str(target))
    assert synced == [str(target), str(tmp_path)]


def test_the_writer_knows_the_paths_queued_to_it(tmp_path):
    with BackgroundFileWriter() as writer:
        writer.write(str(tmp_path / "a"), b"a")
        assert writer.has(str(tmp_path / "a")) and not writer.has(str(tmp_path / "b"))
    assert writer.has(str(tmp_path / "a"))  # written, still known: not synced again
