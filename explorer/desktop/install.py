"""Installing the app into a desktop's menu, and taking it out again.

``install`` writes, under a data folder ($XDG_DATA_HOME or /usr/local/share), the desktop
entry, the icon at every size of the hicolor theme and as SVG, and the MIME package, then
asks the desktop's tools (where present) to rebuild the databases that read them. It keeps
a list of what it wrote and of the folders it created, so that ``uninstall`` removes exactly
that: the files, the databases it caused to exist, and the folders it made, once empty.
Nothing else there is touched, and a database that other programs' files feed is rebuilt
rather than removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explorer.core.files import atomic_write_bytes, read_user_bytes
from explorer.desktop.entry import DESKTOP_FILE, ICON_NAME, desktop_entry
from explorer.desktop.icon_files import APP_ID, ICON_SIZES, icon_png_name, icon_resource, icon_svg_name
from explorer.desktop.mime import MIME_PACKAGE, mime_package

LAUNCHER = "resnet-explorer-gui"
# What install wrote, for uninstall: inside the data folder, in a folder of the app's own.
MANIFEST = Path(APP_ID) / "desktop-integration.json"
MANIFEST_VERSION = 1
MIME_FOLDER = Path("mime")
MIME_PACKAGES = MIME_FOLDER / "packages"
APPLICATIONS = Path("applications")
HICOLOR = Path("icons") / "hicolor"
# The cache update-desktop-database writes beside the entries.
DESKTOP_DATABASE = APPLICATIONS / "mimeinfo.cache"
TOOL_TIME_LIMIT_S = 120


class IntegrationError(Exception):
    """Something install or uninstall cannot do; the message says what and why."""


@dataclass
class Outcome:
    """What a run did, line by line, and what went wrong without stopping it."""

    done: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def installed_launcher() -> Path | None:
    """The ``resnet-explorer-gui`` program of this installation: beside this Python (a
    virtual environment's or pipx's), else on $PATH; None when neither has it."""
    beside = Path(sys.executable).parent / LAUNCHER  # the environment's bin, not where its links lead
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which(LAUNCHER)
    return Path(os.path.abspath(found)) if found else None


def planned_files(command: Sequence[str]) -> dict[Path, bytes]:
    """Every file install writes (relative to the data folder) and its content; ``command``
    starts the app (see ``desktop_entry``)."""
    files = {
        APPLICATIONS / DESKTOP_FILE: desktop_entry(command).encode("utf-8"),
        MIME_PACKAGES / MIME_PACKAGE: mime_package().encode("utf-8"),
    }
    for size in ICON_SIZES:
        files[HICOLOR / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"] = icon_resource(icon_png_name(size))
    files[HICOLOR / "scalable" / "apps" / f"{ICON_NAME}.svg"] = icon_resource(icon_svg_name())
    return files


def planned_paths() -> list[Path]:
    """The files install writes, without their content (for an uninstall without a list)."""
    return [
        APPLICATIONS / DESKTOP_FILE,
        MIME_PACKAGES / MIME_PACKAGE,
        *(HICOLOR / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png" for size in ICON_SIZES),
        HICOLOR / "scalable" / "apps" / f"{ICON_NAME}.svg",
    ]


# The manifest


def _read_manifest(data_dir: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads(read_user_bytes(data_dir / MANIFEST).decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(loaded, dict) or loaded.get("version") != MANIFEST_VERSION:
        return None
    return loaded


def _relative_list(value: object, folders: bool = False) -> list[Path]:
    """Paths of a manifest's list, relative to the data folder, kept only when they lie inside
    it; with ``folders``, the data folder itself ('.') and the folders above it ('..', '../..')
    too, which install creates when the data folder did not exist."""
    if not isinstance(value, list):
        return []
    kept = []
    for item in value:
        if not isinstance(item, str) or not item or os.path.isabs(item):
            continue
        parts = Path(item).parts
        inside = ".." not in parts
        above = folders and (item == "." or all(part == ".." for part in parts))
        if inside or above:
            kept.append(Path(item))
    return kept


def _folders_to_create(data_dir: Path, relative: Path) -> list[Path]:
    """The folders that writing ``relative`` creates, outermost first, relative to the data
    folder (itself '.', the folders above it '..')."""
    missing = []
    folder = (data_dir / relative).parent
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    return [Path(os.path.relpath(path, data_dir)) for path in reversed(missing)]


def _entries(folder: Path) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


# The databases


def _run_tool(name: str, arguments: Sequence[str], outcome: Outcome, doing: str) -> None:
    program = shutil.which(name)
    if program is None:
        outcome.done.append(f"{name} not found: desktops notice the change when they next rebuild {doing}")
        return
    try:
        done = subprocess.run(
            [program, *arguments], capture_output=True, text=True, timeout=TOOL_TIME_LIMIT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        outcome.problems.append(f"{name} failed: {exc}")
        return
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        outcome.problems.append(
            f"{name} failed (exit {done.returncode}): {lines[-1] if lines else 'no message'}"
        )
        return
    outcome.done.append(f"ran {name} {' '.join(arguments)}")


def _update_mime_database(data_dir: Path, outcome: Outcome) -> None:
    _run_tool("update-mime-database", [str(data_dir / MIME_FOLDER)], outcome, "their MIME database")


def _update_desktop_database(data_dir: Path, outcome: Outcome) -> None:
    _run_tool(
        "update-desktop-database", [str(data_dir / APPLICATIONS)], outcome, "their list of applications"
    )


def _tell_icon_themes(data_dir: Path) -> None:
    # The icon theme specification's way to say the theme changed: its folder's time.
    hicolor = data_dir / HICOLOR
    if hicolor.is_dir():
        # A theme folder someone else owns keeps its time: the icons are there all the same.
        with contextlib.suppress(OSError):
            os.utime(hicolor)


# Install and uninstall


def _databases_state(data_dir: Path) -> dict[str, Any]:
    """What feeds the desktop's databases and whether they exist, to tell at uninstall whether
    a database is the install's doing alone (then removed) or others' too (then rebuilt)."""
    applications = data_dir / APPLICATIONS
    entries = sorted(str(path.relative_to(applications)) for path in applications.rglob("*.desktop"))
    return {
        "mime": _entries(data_dir / MIME_FOLDER),
        "mime_packages": _entries(data_dir / MIME_PACKAGES),
        "desktop_entries": entries if applications.is_dir() else [],
        "desktop_database": (data_dir / DESKTOP_DATABASE).exists(),
    }


def install(data_dir: Path, command: Sequence[str]) -> Outcome:
    """Write the entry, icons and MIME package under ``data_dir``; ``command`` starts the app."""
    outcome = Outcome()
    files = planned_files(command)
    previous = _read_manifest(data_dir)
    created = _relative_list(previous.get("created_folders"), folders=True) if previous else []
    for relative in [*files, MANIFEST]:
        created += [folder for folder in _folders_to_create(data_dir, relative) if folder not in created]
    # Installed over itself: what was there before the first install still counts.
    before = previous["before"] if previous and isinstance(previous.get("before"), dict) else None
    manifest = {
        "version": MANIFEST_VERSION,
        "files": [str(path) for path in [*files, MANIFEST]],
        "created_folders": [str(path) for path in created],
        "before": before or _databases_state(data_dir),
    }
    try:
        for relative, content in files.items():
            (data_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(data_dir / relative, content)
            outcome.done.append(f"wrote {data_dir / relative}")
        (data_dir / MANIFEST).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(data_dir / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
        outcome.done.append(f"wrote {data_dir / MANIFEST} (what uninstall removes)")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        where = exc.filename or data_dir
        raise IntegrationError(f"cannot write {where}: {reason}") from None
    _update_mime_database(data_dir, outcome)
    _update_desktop_database(data_dir, outcome)
    _tell_icon_themes(data_dir)
    return outcome


def uninstall(data_dir: Path) -> Outcome:
    """Remove what ``install`` wrote under ``data_dir``, and nothing else."""
    outcome = Outcome()
    manifest = _read_manifest(data_dir)
    if manifest is not None:
        files = _relative_list(manifest.get("files"))
        created = _relative_list(manifest.get("created_folders"), folders=True)
        before = manifest.get("before") if isinstance(manifest.get("before"), dict) else None
    else:
        # No list (removed by hand): the files install writes; no folder, and every database rebuilt.
        files, created, before = planned_paths(), [], None
    present = [path for path in files if (data_dir / path).is_file() or (data_dir / path).is_symlink()]
    if manifest is None and not present:
        outcome.done.append(f"nothing to remove: the app is not installed in {data_dir}")
        return outcome
    try:
        for relative in present:
            (data_dir / relative).unlink()
            outcome.done.append(f"removed {data_dir / relative}")
    except OSError as exc:
        raise IntegrationError(f"cannot remove {exc.filename}: {exc.strerror or exc}") from None
    _forget_mime_types(data_dir, before, outcome)
    _forget_desktop_entry(data_dir, before, outcome)
    _tell_icon_themes(data_dir)
    absolute = {Path(os.path.normpath(data_dir / folder)) for folder in created}
    removed = []
    for folder in sorted(absolute, key=lambda path: (-len(path.parts), path)):
        try:
            folder.rmdir()  # only once empty: anything else put there stays
        except OSError:
            continue
        removed.append(folder)
    if removed:
        outcome.done.append(f"removed the {len(removed)} folders install had made, now empty")
    return outcome


def _remove(path: Path, outcome: Outcome) -> bool:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError as exc:
        outcome.problems.append(f"cannot remove {path}: {exc.strerror or exc}")
        return False
    return True


def _forget_mime_types(data_dir: Path, before: dict[str, Any] | None, outcome: Outcome) -> None:
    """Take the app's types out of the MIME database. A database that was there before, or
    that packages installed since feed, is rebuilt (the folders of types the rebuild leaves
    empty go); one that install's rebuild made is removed."""
    mime = data_dir / MIME_FOLDER
    if not mime.is_dir():
        return
    entries_before = before.get("mime") if before else None
    if before is None or not isinstance(entries_before, list):
        _update_mime_database(data_dir, outcome)
        return
    made = [name for name in _entries(mime) if name != MIME_PACKAGES.name and name not in entries_before]
    if "mime.cache" in entries_before or _entries(data_dir / MIME_PACKAGES) != before.get("mime_packages"):
        _update_mime_database(data_dir, outcome)
        for name in made:  # a media type's folder the rebuild emptied
            with contextlib.suppress(OSError):
                (mime / name).rmdir()
        return
    removed = sum(_remove(mime / name, outcome) for name in made)
    if removed:
        outcome.done.append(f"removed the MIME database that install had made in {mime} ({removed} entries)")


def _forget_desktop_entry(data_dir: Path, before: dict[str, Any] | None, outcome: Outcome) -> None:
    """Take the entry out of the applications' database: rebuilt if it was there before or
    entries installed since feed it, else removed."""
    applications = data_dir / APPLICATIONS
    database = data_dir / DESKTOP_DATABASE
    if not applications.is_dir():
        return
    entries = sorted(str(path.relative_to(applications)) for path in applications.rglob("*.desktop"))
    if before is None or before.get("desktop_database", True) or entries != before.get("desktop_entries"):
        _update_desktop_database(data_dir, outcome)
    elif database.exists() and _remove(database, outcome):
        outcome.done.append(f"removed {database}, the applications' database that install had made")
