"""The File menu's work: new, open, save, recent files, export, the unsaved-changes prompt.

Open takes a spec or a comparison; a comparison goes to the Compare tab (``open_comparison``).
A spec is saved as NAME.resnet.json, which the desktop recognises (one saved as NAME.json
before still opens, and is saved where it is). Every file opened or saved also goes to the
desktop's recent files where the window has been given that list (``recently_used``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from explorer.core.analysis import analyze
from explorer.core.file_kind import (
    COMPARISON_SUFFIX,
    JSON_MIME_TYPE,
    SPEC_SUFFIX,
    checkpoint_type,
    is_comparison_file,
    mime_type_by_name,
    named_as,
    suggested_name,
)
from explorer.core.files import atomic_write_text
from explorer.core.presets import preset
from explorer.core.render.table import format_csv, format_markdown, format_torchsummary
from explorer.core.spec import ArchSpec, SpecError
from explorer.desktop.recent import add_recently_used
from explorer.gui.plain_text import as_written
from explorer.gui.session import Session
from explorer.gui.settings import add_recent_file, forget_recent_file, recent_files

SPEC_FILTER = f"Architecture spec (*{SPEC_SUFFIX} *.json)"
OPEN_FILTER = f"Architecture spec or comparison (*{SPEC_SUFFIX} *{COMPARISON_SUFFIX} *.json)"
UNTITLED = "architecture"
EXPORTS = {
    "csv": ("CSV", "CSV table (*.csv)", ".csv", format_csv),
    "markdown": ("Markdown", "Markdown table (*.md)", ".md", format_markdown),
    "torchsummary": ("torchsummary text", "Text (*.txt)", ".txt", format_torchsummary),
}


class Documents(QObject):
    message = Signal(str)  # what just happened, for the status bar

    def __init__(self, window: QWidget, session: Session, settings: QSettings) -> None:
        super().__init__(window)
        self.window = window
        self.session = session
        self.settings = settings
        self.recent_menu: QMenu | None = None
        # The desktop's list of recent files that opened and saved files join (None: none).
        self.recently_used: Path | None = None
        # Opens a comparison file where comparisons live; True once it is shown.
        self.open_comparison: Callable[[Path], bool] | None = None

    # Prompts (tests replace these)

    def ask_unsaved(self) -> QMessageBox.StandardButton:
        return QMessageBox.StandardButton(self.unsaved_changes_box().exec())

    def unsaved_changes_box(self) -> QMessageBox:
        name = self.session.path.name if self.session.path else "this architecture"
        buttons = QMessageBox.StandardButton
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Unsaved changes",
            as_written(f"Save the changes to {name} first?"),
            buttons.Save | buttons.Discard | buttons.Cancel,
            self.window,
        )
        box.setDefaultButton(buttons.Save)
        # Alt+S and Alt+D, whatever the platform's own words for the buttons (Esc cancels).
        for button, text in ((buttons.Save, "&Save"), (buttons.Discard, "&Discard")):
            box.button(button).setText(text)
        return box

    def report(self, title: str, text: str) -> None:
        QMessageBox.warning(self.window, title, as_written(text))

    def ask_open_path(self) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(self.window, "Open", self._folder(), OPEN_FILTER)
        return Path(name) if name else None

    def ask_save_path(self, title: str, suggestion: str, file_filter: str) -> Path | None:
        start = str(Path(self._folder()) / suggestion)
        name, _ = QFileDialog.getSaveFileName(self.window, title, start, file_filter)
        return Path(name) if name else None

    # Actions

    def may_discard(self) -> bool:
        """True when the current document may be replaced (saved, discarded or unchanged)."""
        if not self.session.is_modified():
            return True
        answer = self.ask_unsaved()
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_from_preset(self, name: str) -> None:
        if self.may_discard():
            self.session.load(preset(name))

    def open(self) -> None:
        path = self.ask_open_path()
        if path is not None:
            self.open_path(path)

    def open_path(self, path: Path, ask: bool = True) -> bool:
        """Open a spec (asking first about unsaved changes, unless ``ask`` is False) or a comparison."""
        if not path.exists() and not path.is_symlink():
            self._forget(path)
            self.report("Cannot open the file", f"{path} no longer exists; it is removed from Open Recent.")
            return False
        checkpoint = checkpoint_type(path)
        if checkpoint is not None:
            self.report(
                "Cannot open a checkpoint yet",
                f"{path} is a {checkpoint.description}. ResNet Explorer does not read a network from a "
                "checkpoint yet: open the spec it was trained from (or build it from a preset), then "
                "File › Export model… puts a PyTorch checkpoint's weights into the exported model.",
            )
            return False
        if is_comparison_file(path):
            return self._open_comparison(path)
        if ask and not self.may_discard():
            return False
        try:
            spec = ArchSpec.load(path)
        except SpecError as exc:
            self.report("Cannot open the spec", str(exc))
            return False
        self.session.load(spec, path)
        self._remember(path)
        self.message.emit(f"Opened {path}")
        return True

    def _open_comparison(self, path: Path) -> bool:
        if self.open_comparison is None or not self.open_comparison(path):
            return False
        self._remember(path)
        self.message.emit(f"Opened the comparison {path}")
        return True

    def save(self) -> bool:
        if self.session.path is None:
            return self.save_as()
        return self._write(self.session.path)

    def save_as(self) -> bool:
        suggestion = suggested_name(self.session.path, SPEC_SUFFIX, UNTITLED)
        path = self.ask_save_path("Save spec as", suggestion, SPEC_FILTER)
        if path is None:
            return False
        return self._write(named_as(path, SPEC_SUFFIX))

    def _write(self, path: Path) -> bool:
        try:
            self.session.spec.save(path)
        except OSError as exc:
            self.report("Cannot save the spec", f"{path}: {exc.strerror or exc}")
            return False
        self.session.mark_saved(path)
        self._remember(path)
        self.message.emit(f"Saved {path}")
        return True

    def export_table(self, kind: str) -> Path | None:
        title, file_filter, suffix, render = EXPORTS[kind]
        stem = self.session.path.stem if self.session.path else "layers"
        path = self.ask_save_path(f"Export table as {title}", stem + suffix, file_filter)
        if path is None:
            return None
        try:
            # The spec being edited (the last valid one), even if its live analysis is still on its way.
            atomic_write_text(path, render(analyze(self.session.spec)))
        except OSError as exc:
            self.report("Cannot export the table", f"{path}: {exc.strerror or exc}")
            return None
        self.message.emit(f"Exported the table as {title} to {path}")
        return path

    # Recent files

    def _remember(self, path: Path) -> None:
        add_recent_file(self.settings, path)
        self.settings.setValue("files/folder", str(path.resolve().parent))
        self.fill_recent_menu()
        if self.recently_used is not None:
            # The desktop's list is a courtesy: one that cannot be written changes nothing here.
            add_recently_used(path, mime_type_by_name(path) or JSON_MIME_TYPE, to=self.recently_used)

    def _forget(self, path: Path) -> None:
        forget_recent_file(self.settings, path)
        self.fill_recent_menu()

    def _folder(self) -> str:
        return str(self.settings.value("files/folder", str(Path.home())))

    def fill_recent_menu(self) -> None:
        menu = self.recent_menu
        if menu is None:
            return
        menu.clear()
        paths = recent_files(self.settings)
        for number, path in enumerate(paths, start=1):
            shown = path.name.replace("&", "&&")  # a single "&" would mark a shortcut key
            action = menu.addAction(f"&{number}  {shown}", lambda p=path: self.open_path(p))
            action.setToolTip(as_written(str(path)))
        if not paths:
            menu.addAction("(no recent files)").setEnabled(False)
        menu.setToolTipsVisible(True)
