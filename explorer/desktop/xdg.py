"""Where the XDG Base Directory specification puts a user's data, and which systems follow it."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

# Where software installed for every user on the machine, not by the system's packages, puts its
# data: the first of the specification's default data folders ($XDG_DATA_DIRS).
SYSTEM_DATA_DIR = Path("/usr/local/share")


def follows_freedesktop(platform: str | None = None) -> bool:
    """Whether the desktops of ``platform`` (default: this one) read freedesktop.org entries."""
    name = sys.platform if platform is None else platform
    return name.startswith(("linux", "freebsd", "openbsd", "netbsd", "dragonfly"))


def data_home(environ: Mapping[str, str] | None = None) -> Path:
    """$XDG_DATA_HOME, or ~/.local/share where it is unset, empty or not an absolute path
    (the specification says to ignore a relative one)."""
    env = os.environ if environ is None else environ
    given = env.get("XDG_DATA_HOME", "")
    if given and os.path.isabs(given):
        return Path(given)
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".local" / "share"


def ignored_data_home(environ: Mapping[str, str] | None = None) -> str | None:
    """$XDG_DATA_HOME when it is set but ignored (not an absolute path), to say so."""
    env = os.environ if environ is None else environ
    given = env.get("XDG_DATA_HOME", "")
    return given if given and not os.path.isabs(given) else None


# The desktop's list of recently used files, in the data folder (explorer/desktop/recent.py).
RECENTLY_USED_FILE = "recently-used.xbel"


def recently_used_file(environ: Mapping[str, str] | None = None) -> Path:
    return data_home(environ) / RECENTLY_USED_FILE
