"""The comparison workspace of a window: one Comparison, saved after every change.

Every change is written at once (atomically) to a file beside the window's settings, so
a crash or a kill loses nothing; the next launch opens the same variants.

Two windows (or two launches) may share the file. Each save first reads the file again,
under a lock: if another window saved meanwhile, this change is merged into theirs
(``merge_comparisons``) rather than written over it, and a file watcher brings the other
window's changes in as they happen. A file that cannot be read is moved aside under a
name of its own, never overwritten, and the user is told where it went.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal

from explorer.core.compare import Comparison
from explorer.core.compare_merge import merge_comparisons
from explorer.gui.settings import user_settings

try:
    import fcntl
except ImportError:  # Windows: two windows there rely on the merge alone
    fcntl = None  # type: ignore[assignment]

WORKSPACE_OBJECT = "ComparisonWorkspace"
WORKSPACE_FILE = "comparison-workspace.json"


def workspace_path(settings: QSettings) -> Path:
    """The workspace file that belongs with ``settings`` (the same folder)."""
    return Path(settings.fileName()).parent / WORKSPACE_FILE


def default_workspace_path() -> Path:
    return workspace_path(user_settings())


class Unreadable(Exception):
    """The workspace file is there but holds no comparison this version can read."""


class Workspace(QObject):
    changed = Signal(object)  # Comparison
    problem = Signal(str)  # a file could not be read or written: shown inline

    def __init__(self, path: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(WORKSPACE_OBJECT)
        self.path = path or default_workspace_path()
        self._comparison = Comparison()
        self.restore_problem: str | None = None
        # Saves replace the file whole, so reading needs no lock (and leaves no lock file behind).
        try:
            self._comparison = self._read() or Comparison()
        except Unreadable as exc:
            self.restore_problem = self._set_aside(exc)

    @property
    def comparison(self) -> Comparison:
        return self._comparison

    def set(self, comparison: Comparison) -> None:
        """Make ``comparison`` the workspace's and save it, merged with any change saved meanwhile."""
        if comparison == self._comparison:
            return
        try:
            with self._locked():
                try:
                    theirs = self._read()
                except Unreadable as exc:
                    self.problem.emit(self._set_aside(exc))
                    theirs = None
                if theirs is not None and theirs != self._comparison:
                    comparison = merge_comparisons(self._comparison, comparison, theirs)
                self._comparison = comparison
                self.path.parent.mkdir(parents=True, exist_ok=True)
                comparison.save(self.path)
        except OSError as exc:
            self.problem.emit(f"the comparison could not be saved to {self.path}: {exc.strerror or exc}")
        self.changed.emit(self._comparison)

    def reload(self) -> None:
        """Take in what another window saved; a file being written or unreadable is left alone.

        Called when the window comes to the front, not by a file watcher: a watcher's socket
        notifier must die on the GUI thread, and a window's objects may be collected elsewhere.
        """
        try:
            theirs = self._read()
        except (Unreadable, OSError):
            return
        if theirs is not None and theirs != self._comparison:
            self._comparison = theirs
            self.changed.emit(theirs)

    # The file

    def _read(self) -> Comparison | None:
        """The comparison in the file; None if there is no file."""
        if not self.path.exists() and not self.path.is_symlink():
            return None
        if not self.path.is_file():
            raise Unreadable("it is not a regular file")
        try:
            return Comparison.load(self.path)
        except Exception as exc:  # whatever is wrong with it, the Compare tab must still open
            raise Unreadable(str(exc) or type(exc).__name__) from None

    def _set_aside(self, reason: Unreadable) -> str:
        """Move the unreadable file to a name of its own; say where it went."""
        for number in range(1, 1000):
            suffix = ".unreadable.json" if number == 1 else f".unreadable-{number}.json"
            aside = self.path.with_suffix(suffix)
            if aside.exists() or aside.is_symlink():
                continue
            try:
                self.path.rename(aside)
            except OSError as exc:
                return (
                    f"the saved comparison could not be opened ({reason}) nor moved aside "
                    f"({exc.strerror or exc}); it is still at {self.path}"
                )
            return f"the saved comparison could not be opened ({reason}); it is kept as {aside}"
        return f"the saved comparison could not be opened ({reason}); it is still at {self.path}"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the workspace's lock file while reading and writing, against another window."""
        if fcntl is None:
            yield
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(lock_path, "a")  # noqa: SIM115 - held for the block below
        except OSError:
            yield  # a folder that cannot hold the lock: the merge alone keeps the work
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def workspace_of(owner: QObject) -> Workspace:
    """The workspace shared by the panels of one window (a child of ``owner``)."""
    found = owner.findChild(Workspace, WORKSPACE_OBJECT)
    if found is None:
        found = Workspace(parent=owner)
    return found
