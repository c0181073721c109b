"""The comparison workspace of a window: one Comparison, saved after every change.

Every change is written at once (atomically) to a file beside the user's settings, so
a crash or a kill loses nothing; the next launch opens the same variants.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from explorer.core.compare import Comparison, ComparisonError
from explorer.gui.settings import user_settings

WORKSPACE_OBJECT = "ComparisonWorkspace"


def default_workspace_path() -> Path:
    return Path(user_settings().fileName()).parent / "comparison-workspace.json"


class Workspace(QObject):
    changed = Signal(object)  # Comparison
    problem = Signal(str)  # a file could not be read or written: shown inline

    def __init__(self, path: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(WORKSPACE_OBJECT)
        self.path = path or default_workspace_path()
        self._comparison = Comparison()
        self.restore_problem: str | None = None
        if self.path.exists():
            try:
                self._comparison = Comparison.load(self.path)
            except ComparisonError as exc:
                # Keep the unreadable file for the user; start empty beside it.
                self.restore_problem = (
                    f"the saved comparison could not be opened ({exc}); it is kept as {self._set_aside()}"
                )

    def _set_aside(self) -> Path:
        aside = self.path.with_suffix(".unreadable.json")
        try:
            self.path.replace(aside)
        except OSError:
            return self.path
        return aside

    @property
    def comparison(self) -> Comparison:
        return self._comparison

    def set(self, comparison: Comparison) -> None:
        if comparison == self._comparison:
            return
        self._comparison = comparison
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            comparison.save(self.path)
        except OSError as exc:
            self.problem.emit(f"the comparison could not be saved to {self.path}: {exc}")
        self.changed.emit(comparison)


def workspace_of(owner: QObject) -> Workspace:
    """The workspace shared by the panels of one window (a child of ``owner``)."""
    found = owner.findChild(Workspace, WORKSPACE_OBJECT)
    if found is None:
        found = Workspace(parent=owner)
    return found
