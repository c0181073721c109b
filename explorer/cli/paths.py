"""Paths the user names on the command line: checked before any work, their errors made one line."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from explorer.cli.errors import CliError
from explorer.core.quoting import quote_value


def os_error_text(exc: OSError, path: object = None) -> str:
    """``exc`` as 'PATH: reason', the path quoted briefly (a long one would fill the screen)."""
    name = exc.filename if exc.filename is not None else path
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{quote_value(str(name))}: {reason}" if name is not None else reason


def existing_path(text: str, what: str = "") -> Path:
    """The path ``text`` names, once it is sure that something is there (a missing file or an
    impossible name is said here, briefly, instead of deep inside a loader)."""
    prefix = f"{what} " if what else ""
    if not text.strip():
        raise CliError(f"{prefix}{quote_value(text)}: give a file name")
    path = Path(text)
    try:
        path.stat()
    except OSError as exc:
        raise CliError(f"{prefix}cannot read {os_error_text(exc, text)}") from None
    return path


def write_error_text(exc: OSError, path: object) -> str:
    """``exc`` as 'PATH: reason' for a file the user asked for: always the user's own path,
    never the temporary file or the link target the system may have named."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{quote_value(str(path))}: {reason}"


def output_path(text: str, flag: str) -> Path:
    """The file ``flag`` names, once it is sure that it can be written.

    Checked up front so that a long benchmark never runs only to fail on its last step:
    an empty name, a missing or read-only folder, a folder or a special file (a device,
    a FIFO) are refused here. A link is judged by where it leads (the file is written
    through it), and a folder by whether a file can really be made there: /proc and /sys
    look writable to root but take no new files.
    """
    if not text.strip():
        raise CliError(f"{flag} {quote_value(text)}: give a file name")
    path = Path(text)
    named = f"{flag} {quote_value(text)}"
    try:
        real = Path(os.path.realpath(path))
        if path.is_symlink():
            named += f" (a link to {quote_value(str(real))})"
        folder = real.parent
        if not folder.is_dir():
            raise CliError(
                f"{named}: the folder {quote_value(str(folder))} does not exist; "
                "create it or choose another path"
            )
        if not os.access(folder, os.W_OK | os.X_OK):
            raise CliError(f"{named}: the folder is not writable; choose another path")
        try:
            mode: int | None = real.stat().st_mode
        except FileNotFoundError:
            mode = None
    except OSError as exc:
        raise CliError(f"{flag} {write_error_text(exc, text)}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise CliError(f"{named} is a folder: give a file name inside it")
    if mode is not None and not stat.S_ISREG(mode):
        raise CliError(f"{named} is a special file, not a regular one: choose another path")
    try:
        # An unnamed file where the result will go, gone when closed: nothing is left behind.
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise CliError(
            f"{named}: no file can be made in its folder ({reason}); choose another path"
        ) from None
    return path
