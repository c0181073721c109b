"""Tools > Cross-check with torchsummary: the real torchsummary against our table, in the worker process."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox, QWidget

from explorer.core.crosscheck import CrossCheck
from explorer.core.spec import ArchSpec
from explorer.gui.bench_runner import BenchJob, BenchRunner
from explorer.gui.crash_report import crash_message

TITLE = "Cross-check with torchsummary"


class CrossCheckAction(QObject):
    """A menu action that builds the current spec's model in the worker process, runs
    torchsummary on it and shows whether its text equals ours; disabled while a check runs."""

    def __init__(self, window: QWidget, current_spec: Callable[[], ArchSpec], runner: BenchRunner) -> None:
        super().__init__(window)
        self._window = window
        self._current_spec = current_spec
        self._runner = runner
        self.action = QAction(f"{TITLE}…", window)
        self.action.setToolTip("Build the model on the CPU and compare torchsummary's text with the table")
        self.action.triggered.connect(lambda _checked=False: self.start())
        self.box: QMessageBox | None = None
        self.job: BenchJob | None = None

    @property
    def running(self) -> bool:
        return not self.action.isEnabled()

    def start(self) -> None:
        if self.running:
            return
        self.action.setEnabled(False)
        job = self._runner.cross_check(self._current_spec())
        job.finished.connect(self.show_outcome)
        job.failed.connect(lambda message: self.show_outcome(self._failure_text(message)))
        job.withdrawn.connect(lambda: self.action.setEnabled(True))
        self.job = job

    def _failure_text(self, message: str) -> str:
        crash = self.job.crash if self.job is not None else None
        if crash is not None:
            return crash_message("The cross-check could not run", crash)
        return f"The cross-check could not run: {message}"

    def show_outcome(self, outcome: CrossCheck | str | None) -> None:
        self.action.setEnabled(True)
        self.job = None
        if outcome is None:  # cancelled: nothing to say
            return
        if isinstance(outcome, CrossCheck):
            icon = QMessageBox.Icon.Information if outcome.agrees else QMessageBox.Icon.Warning
            text = outcome.report()
        else:
            icon, text = QMessageBox.Icon.Warning, outcome
        box = QMessageBox(icon, TITLE, text, QMessageBox.StandardButton.Ok, self._window)
        box.open()  # window-modal, so the app keeps drawing while it is up
        self.box = box
