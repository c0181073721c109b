"""Reading and writing user files: only regular files of a sane size, modes and owners
kept, links written through, temporary files of killed writers cleaned up."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from explorer.core.compare import Comparison, ComparisonError
from explorer.core.files import (
    MAX_USER_FILE_BYTES,
    STALE_TEMP_AGE_S,
    UserFileError,
    atomic_write_text,
    read_user_text,
)
from explorer.core.presets import preset
from explorer.core.spec import ArchSpec, SpecError

posix_only = pytest.mark.skipif(os.name != "posix", reason="needs named pipes and devices")


@contextlib.contextmanager
def _fifo_with_a_writer(path: Path, text: str) -> Iterator[None]:
    """A named pipe at ``path`` whose writer waits for a reader and then sends ``text``,
    so that a loader that opens it plainly gets the text instead of blocking."""
    os.mkfifo(path)

    def write() -> None:
        with contextlib.suppress(BrokenPipeError), open(path, "w", encoding="utf-8") as pipe:
            pipe.write(text)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        yield
    finally:
        # Opening the reading end lets a writer still waiting for a reader finish.
        reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        writer.join()
        os.close(reader)


@posix_only
def test_loaders_refuse_a_named_pipe(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    refused = pytest.raises(SpecError, match="named pipe")
    with _fifo_with_a_writer(path, preset("resnet18").to_json()), refused:
        ArchSpec.load(path)
    path.unlink()
    refused_too = pytest.raises(ComparisonError, match="named pipe")
    with _fifo_with_a_writer(path, Comparison().to_json()), refused_too:
        Comparison.load(path)


@posix_only
def test_loaders_refuse_a_link_to_a_device(tmp_path: Path) -> None:
    link = tmp_path / "spec.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(SpecError, match="character device"):
        ArchSpec.load(link)
    with pytest.raises(ComparisonError, match="character device"):
        Comparison.load(link)


def test_loaders_refuse_a_folder_and_a_huge_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="a folder"):
        ArchSpec.load(tmp_path)
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:
        handle.truncate(MAX_USER_FILE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(SpecError, match="larger than 16 MiB"):
        ArchSpec.load(huge)
    with pytest.raises(ComparisonError, match="larger than 16 MiB"):
        Comparison.load(huge)


def test_read_user_text_reads_up_to_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("héllo", encoding="utf-8")
    assert read_user_text(path) == "héllo"
    assert read_user_text(path, max_bytes=6) == "héllo"
    with pytest.raises(UserFileError, match="larger than"):
        read_user_text(path, max_bytes=5)


def test_a_save_keeps_the_files_mode(tmp_path: Path) -> None:
    path = tmp_path / "private.json"
    path.write_text("{}")
    path.chmod(0o600)
    preset("resnet18").save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o640)
    Comparison().save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root may give files away")
def test_a_save_keeps_the_files_owner(tmp_path: Path) -> None:
    path = tmp_path / "theirs.json"
    path.write_text("{}")
    os.chown(path, 4321, 4322)
    atomic_write_text(path, "new")
    info = path.stat()
    assert (info.st_uid, info.st_gid) == (4321, 4322)
    assert path.read_text() == "new"


def test_a_new_file_gets_the_usual_mode(tmp_path: Path) -> None:
    path = tmp_path / "new.json"
    atomic_write_text(path, "x")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_saving_to_a_link_writes_its_target_and_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "spec.json"
    target.write_text("old")
    target.chmod(0o600)
    link = tmp_path / "spec.json"
    link.symlink_to(Path("real") / "spec.json")
    preset("resnet34").save(link)
    assert link.is_symlink() and os.readlink(link) == str(Path("real") / "spec.json")
    assert ArchSpec.load(target) == preset("resnet34")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real", "spec.json"]
    assert [p.name for p in (tmp_path / "real").iterdir()] == ["spec.json"]


def test_saving_to_a_dangling_link_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "spec.json"
    link.symlink_to("made.json")
    atomic_write_text(link, "x")
    assert link.is_symlink() and (tmp_path / "made.json").read_text() == "x"


@posix_only
def test_a_save_refuses_to_replace_a_pipe(tmp_path: Path) -> None:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    with pytest.raises(UserFileError, match="named pipe"):
        preset("resnet18").save(path)
    with pytest.raises(OSError, match="named pipe"):
        Comparison().save(path)
    assert stat.S_ISFIFO(path.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_a_save_refuses_to_replace_a_folder(tmp_path: Path) -> None:
    (tmp_path / "spec.json").mkdir()
    with pytest.raises(UserFileError, match="a folder"):
        atomic_write_text(tmp_path / "spec.json", "x")


def _pid_of_a_finished_process() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_save_removes_temporary_files_that_dead_writers_left(tmp_path: Path) -> None:
    target = tmp_path / "workspace.json"
    dead, alive = _pid_of_a_finished_process(), os.getpid()
    left_by_crash = tmp_path / f".workspace.json.{dead}.k2j_x9.tmp"
    being_written = tmp_path / f".workspace.json.{alive}.a8b_c1.tmp"
    forgotten = tmp_path / f".workspace.json.{alive}.zz81kq.tmp"
    not_ours = [
        tmp_path / f".other.json.{dead}.k2j_x9.tmp",
        tmp_path / f".workspace.json.backup.{dead}.k2j_x9.tmp",
        tmp_path / ".workspace.json.notes.tmp",
    ]
    for path in (left_by_crash, being_written, forgotten, *not_ours):
        path.write_text("half")
    old = time.time() - STALE_TEMP_AGE_S - 60
    os.utime(forgotten, (old, old))
    Comparison().save(target)
    remaining = {p.name for p in tmp_path.iterdir()}
    assert remaining == {"workspace.json", being_written.name, *(p.name for p in not_ours)}
