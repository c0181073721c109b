"""Reading and writing user files safely.

Reads refuse anything but a regular file of a sane size: a named pipe would block
forever and a link to ``/dev/zero`` would read until memory runs out. Writes go to a
temporary file beside the target and a rename, so a crash mid-write never leaves a
half-written file; they keep the target's mode and owner, write through a symbolic
link to the file it points at (the link stays), and refuse to replace a pipe or a
device. Temporary files that a killed writer left behind are removed on the next save.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from pathlib import Path

MAX_USER_FILE_BYTES = 16 * 1024 * 1024
# A save takes well under a second; a temporary file this old was left by a crash.
STALE_TEMP_AGE_S = 10 * 60
_TEMP_SUFFIX = ".tmp"


class UserFileError(OSError):
    """A file the app refuses to read or write; the message says why and what to do."""


def read_user_text(path: str | Path, max_bytes: int = MAX_USER_FILE_BYTES) -> str:
    """The UTF-8 text of the regular file ``path``.

    Raises what ``read_user_bytes`` raises, and ``UnicodeDecodeError`` when it is not UTF-8 text.
    """
    return read_user_bytes(path, max_bytes).decode("utf-8")


def read_user_bytes(path: str | Path, max_bytes: int = MAX_USER_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``path``.

    Raises ``UserFileError`` (an ``OSError``) for a pipe, a device, a folder or a file
    over ``max_bytes``, and any other ``OSError`` when the file cannot be opened.
    """
    # O_NONBLOCK: opening a named pipe with no writer would otherwise wait forever.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        _require_regular(info.st_mode, "read")
        if info.st_size > max_bytes:
            raise _too_large(max_bytes)
        chunks = []
        left = max_bytes + 1  # one byte more tells a file that grew past the limit
        while left > 0:
            chunk = os.read(fd, min(left, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise _too_large(max_bytes)
    finally:
        os.close(fd)
    return b"".join(chunks)


def _too_large(max_bytes: int) -> UserFileError:
    return UserFileError(
        f"the file is larger than {max_bytes // (1024 * 1024)} MiB, too large for a "
        "resnet-explorer file: choose the file the app saved"
    )


def _kind_of(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _require_regular(mode: int, action: str) -> None:
    if not stat.S_ISREG(mode):
        raise UserFileError(f"it is {_kind_of(mode)}, not a regular file: {action} a regular file instead")


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (see the module's docstring).

    A symbolic link is written through: its target gets the data and the link stays.
    Raises ``UserFileError`` (an ``OSError``) when the target is a pipe, a device or a
    folder, and any other ``OSError`` the system gives.
    """
    target = Path(os.path.realpath(path))
    try:
        existing: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        existing = None
    if existing is not None:
        _require_regular(existing.st_mode, "save to")
    _remove_stale_temps(target)
    fd, temp_name = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}.", suffix=_TEMP_SUFFIX, dir=target.parent
    )
    try:
        _take_over_permissions(fd, existing)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


def _take_over_permissions(fd: int, existing: os.stat_result | None) -> None:
    if existing is None:
        # mkstemp makes the file private (0600); a new file gets the usual mode instead.
        os.fchmod(fd, 0o666 & ~_umask())
        return
    if hasattr(os, "fchown") and (existing.st_uid, existing.st_gid) != (os.getuid(), os.getgid()):
        # Only root may give a file away; others keep at least the group where they can.
        with contextlib.suppress(PermissionError):
            os.fchown(fd, existing.st_uid, existing.st_gid)
        with contextlib.suppress(PermissionError):
            os.fchown(fd, -1, existing.st_gid)
    os.fchmod(fd, stat.S_IMODE(existing.st_mode))


def _remove_stale_temps(target: Path) -> None:
    """Delete temporary files of earlier saves of ``target`` whose writer died."""
    prefix = f".{target.name}."
    now = time.time()
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(_TEMP_SUFFIX)):
            continue
        # Ours are ".<name>.<pid>.<random>.tmp"; the random part has no dots.
        parts = name[len(prefix) : -len(_TEMP_SUFFIX)].split(".")
        if len(parts) != 2 or not parts[0].isdigit() or not parts[1]:
            continue
        with contextlib.suppress(OSError):
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode):
                continue
            if now - info.st_mtime > STALE_TEMP_AGE_S or not _process_alive(int(parts[0])):
                os.unlink(entry.path)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True  # elsewhere os.kill would end the process: go by age alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True  # someone else's process, or not a pid we can ask about: leave it
    return True


def _umask() -> int:
    # Reading it from /proc leaves the process-wide mask alone while other threads write files.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
