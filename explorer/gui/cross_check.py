"""Tools > Cross-check with torchsummary: the real torchsummary against our table, off the GUI thread."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox, QWidget

from explorer.core.crosscheck import CrossCheck, CrossCheckError, cross_check
from explorer.core.spec import ArchSpec
from explorer.gui.workers import run_in_thread

TITLE = "Cross-check with torchsummary"


def _checked(spec: ArchSpec) -> CrossCheck | str:
    """The check, or why it could not run (said in the message box rather than as an error)."""
    try:
        return cross_check(spec)
    except CrossCheckError as exc:
        return f"The cross-check could not run: {exc}"


class CrossCheckAction(QObject):
    """A menu action that builds the current spec's model in a worker, runs torchsummary on it
    and shows whether its text equals ours; the action is disabled while a check runs."""

    def __init__(self, window: QWidget, current_spec: Callable[[], ArchSpec]) -> None:
        super().__init__(window)
        self._window = window
        self._current_spec = current_spec
        self.action = QAction(f"{TITLE}…", window)
        self.action.setToolTip("Build the model on the CPU and compare torchsummary's text with the table")
        self.action.triggered.connect(lambda _checked=False: self.start())
        self.box: QMessageBox | None = None

    @property
    def running(self) -> bool:
        return not self.action.isEnabled()

    def start(self) -> None:
        if self.running:
            return
        self.action.setEnabled(False)
        run_in_thread(_checked, self._current_spec(), on_result=self._show, on_error=self._show, context=self)

    def _show(self, outcome: CrossCheck | str) -> None:
        self.action.setEnabled(True)
        if isinstance(outcome, CrossCheck):
            icon = QMessageBox.Icon.Information if outcome.agrees else QMessageBox.Icon.Warning
            text = outcome.report()
        else:
            icon, text = QMessageBox.Icon.Warning, outcome
        box = QMessageBox(icon, TITLE, text, QMessageBox.StandardButton.Ok, self._window)
        box.open()  # window-modal, so the app keeps drawing while it is up
        self.box = box
