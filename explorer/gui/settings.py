"""What the window remembers between launches (QSettings, INI format)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from PySide6.QtCore import QByteArray, QSettings

from explorer.core.spec import ArchSpec, SpecError

ORGANIZATION = "resnet-explorer"
APPLICATION = "resnet-explorer"
GEOMETRY = "window/geometry"
WINDOW_STATE = "window/state"
CURRENT_TAB = "window/tab"
LAST_SPEC = "document/spec"
LAST_PATH = "document/path"
RECENT_FILES = "files/recent"
MAX_RECENT = 8
DIAGRAM_LEVEL = "diagram/level"
DIAGRAM_STYLE = "diagram/style"
DIAGRAM_DIRECTION = "diagram/direction"
DIAGRAM_FOLD = "diagram/fold"
DIAGRAM_WRAP = "diagram/wrap"


@runtime_checkable
class RemembersOptions(Protocol):
    """A tab's panel with options of its own to keep between launches.

    The window hands the panel its settings right after building it, before it is
    first shown; the panel shows what was stored there and stores each later change.
    """

    def use_settings(self, settings: QSettings) -> None: ...


def saved_tab(settings: QSettings) -> int:
    """The index of the tab the window was left on; 0 (the first) if none or not a number."""
    value: object = settings.value(CURRENT_TAB, 0)
    try:
        return int(str(value or 0))
    except (TypeError, ValueError):  # a settings file edited by hand
        return 0


def saved_window(settings: QSettings, key: str) -> bytes | None:
    """The window's saved geometry or state (``GEOMETRY``, ``WINDOW_STATE``), if it is one."""
    value = settings.value(key)
    if isinstance(value, QByteArray):
        return bytes(value.data())
    return bytes(value) if isinstance(value, (bytes, bytearray)) else None


def user_settings() -> QSettings:
    """The user's settings file (under $XDG_CONFIG_HOME on Linux)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def recent_files(settings: QSettings) -> list[Path]:
    value = settings.value(RECENT_FILES, [])
    if isinstance(value, str):
        value = [value]
    return [Path(item) for item in value or [] if item]


def add_recent_file(settings: QSettings, path: Path) -> None:
    path = path.resolve()
    entries = [path, *(p for p in recent_files(settings) if p != path)][:MAX_RECENT]
    settings.setValue(RECENT_FILES, [str(p) for p in entries])


def forget_recent_file(settings: QSettings, path: Path) -> None:
    path = path.resolve()
    settings.setValue(RECENT_FILES, [str(p) for p in recent_files(settings) if p != path])


def remember_document(settings: QSettings, spec: ArchSpec, path: Path | None) -> None:
    settings.setValue(LAST_SPEC, spec.to_json())
    settings.setValue(LAST_PATH, str(path) if path else "")


def restore_document(settings: QSettings) -> tuple[ArchSpec, Path | None, ArchSpec] | None:
    """The last spec, the file it came from and what that file holds; None if nothing usable."""
    text = settings.value(LAST_SPEC, "")
    if not text:
        return None
    try:
        spec = ArchSpec.from_json(str(text))
    except SpecError:
        return None
    path_text = str(settings.value(LAST_PATH, "") or "")
    if path_text:
        path = Path(path_text)
        try:
            return spec, path, ArchSpec.load(path)
        except SpecError:
            pass
    return spec, None, spec
