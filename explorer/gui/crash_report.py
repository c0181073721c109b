"""How a run's worker process ended, shown where the run's results would be: what was running,
how it ended in words, and, behind a toggle, the last lines the process wrote."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QToolButton, QVBoxLayout, QWidget

from explorer.core.worker import WorkerCrashed

DETAILS_LINES = 8  # the box's height in lines; the rest scrolls
LAST_WORDS = 5  # the worker's lines a message box quotes


def crash_message(failed: str, crash: WorkerCrashed) -> str:
    """A crash said in a message: "The export could not finish: torch crashed: …", and the
    worker's last lines of output."""
    tail = "\n".join(crash.stderr_tail[-LAST_WORDS:])
    return f"{failed}: {crash.how}." + (f"\n\nThe worker's last output:\n{tail}" if tail else "")


class CrashReport(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel(wordWrap=True, textFormat=Qt.TextFormat.PlainText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setProperty("role", "error")
        self.summary.setStyleSheet("color: #8c1d18;")
        self.toggle = QToolButton(checkable=True, text="Show the worker's last output")
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.toggled.connect(self._show_details)
        self.details = QPlainTextEdit(readOnly=True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setMaximumHeight(self.details.fontMetrics().lineSpacing() * DETAILS_LINES + 12)
        self.details.hide()
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.summary)
        column.addWidget(self.toggle)
        column.addWidget(self.details)
        self.crash: WorkerCrashed | None = None
        self.hide()

    def show_crash(self, crash: WorkerCrashed | None) -> None:
        """Show ``crash`` (None hides the report)."""
        self.crash = crash
        if crash is None:
            self.hide()
            return
        how = crash.how[:1].upper() + crash.how[1:]
        self.summary.setText(
            f"{how}.\nWhile running: {crash.what}.\n"
            "Nothing else was affected; the next run starts a fresh worker process."
        )
        lines = crash.stderr_tail
        self.details.setPlainText("\n".join(lines) if lines else "(the process wrote nothing on stderr)")
        self.toggle.setChecked(False)
        self.show()

    def _show_details(self, shown: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.toggle.setText("Hide the worker's last output" if shown else "Show the worker's last output")
        self.details.setVisible(shown)
