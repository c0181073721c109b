"""File > Export model…: the current network as PyTorch source, ONNX or a torch.export
program, exported and verified on a worker; the file is written only once verified."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.core.devices import cpu_free_memory
from explorer.core.export.choices import DEFAULT_OPSET, FORMATS, MAX_OPSET, MIN_OPSET, RANDOM, ZERO_INIT
from explorer.core.export.memory_need import export_memory_need
from explorer.core.export.result import ExportResult
from explorer.core.spec import ArchSpec
from explorer.core.units import format_bytes
from explorer.core.worker import WorkerCrashed
from explorer.gui.bench_runner import BenchJob, BenchRunner
from explorer.gui.crash_report import crash_message

TITLE = "Export model"
CHECKPOINT = "checkpoint file…"
_FILTER = "PyTorch source (*.py);;ONNX (*.onnx);;torch.export program (*.pt2)"


def failure_text(message: str, crash: WorkerCrashed | None) -> str:
    """What the dialog says of an export that did not finish."""
    return message if crash is None else crash_message("The export could not finish", crash)


class ModelExportDialog(QDialog):
    """Where to, which weights, which opset; Export runs on a worker and shows what was verified."""

    def __init__(
        self,
        parent: QWidget | None,
        current_spec: Callable[[], ArchSpec],
        runner: BenchRunner,
        folder: str = "",
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self.job: BenchJob | None = None
        self.setWindowTitle(TITLE)
        self.setMinimumWidth(640)  # the result's lines (paths, figures) read whole
        self._current_spec = current_spec
        self.path_edit = QLineEdit(str(Path(folder or Path.home()) / "model.py"))
        self.path_edit.setToolTip("The extension picks the format: .py, .onnx or .pt2")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        self.weights = QComboBox()
        self.weights.addItems([RANDOM, ZERO_INIT, CHECKPOINT])
        self.weights.setToolTip(
            "random: fresh initialisation; zero-init: each block's last norm at zero; "
            "a checkpoint whose keys match the spec (.onnx and .pt2)"
        )
        self.checkpoint_edit = QLineEdit()
        self.checkpoint_edit.setPlaceholderText("model.pth")
        self.opset = QSpinBox()
        self.opset.setRange(MIN_OPSET, MAX_OPSET)
        self.opset.setValue(DEFAULT_OPSET)
        form = QFormLayout()
        form.addRow("File:", path_row)
        form.addRow("Weights:", self.weights)
        form.addRow("Checkpoint:", self.checkpoint_edit)
        form.addRow("ONNX opset:", self.opset)
        self.skip_memory_check = QCheckBox(
            "Skip the memory check",
            toolTip="Export even if the predicted peak is more than the free memory",
        )
        form.addRow("", self.skip_memory_check)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # no measure of progress: a busy bar
        self.busy.setVisible(False)
        self.status = QLabel("The export is checked against the model at batch 1 and 3 before it is written.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.weights.currentTextChanged.connect(lambda _text: self._update_enabled())
        self.path_edit.textChanged.connect(lambda _text: self._update_enabled())
        self._running = False
        self.export_result: ExportResult | None = None
        self._update_enabled()

    def _browse(self) -> None:
        path, _chosen = QFileDialog.getSaveFileName(self, TITLE, self.path_edit.text(), _FILTER)
        if path:
            self.path_edit.setText(path)

    def _update_enabled(self) -> None:
        suffix = Path(self.path_edit.text()).suffix.lower()
        self.opset.setEnabled(suffix == ".onnx" and not self._running)
        self.checkpoint_edit.setEnabled(self.weights.currentText() == CHECKPOINT and not self._running)
        self.export_button.setEnabled(not self._running)

    @property
    def running(self) -> bool:
        return self._running

    def _show(self, text: str, failed: bool) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #b00020;" if failed else "")
        self.adjustSize()  # a longer message grows the dialog rather than being cut

    def start(self) -> None:
        if self._running:
            return
        path = Path(self.path_edit.text().strip())
        if not path.name or path.suffix.lower() not in FORMATS:
            self._show("Name the file .py (PyTorch source), .onnx or .pt2 (torch.export).", failed=True)
            return
        weights = self.weights.currentText()
        if weights == CHECKPOINT:
            weights = self.checkpoint_edit.text().strip()
            if not weights:
                self._show("Give the checkpoint file (.pth) whose weights the export carries.", failed=True)
                return
        spec = self._current_spec()
        if not self.skip_memory_check.isChecked():
            need = export_memory_need(spec, path.suffix.lower())
            free = cpu_free_memory()
            if free is not None and need.total_bytes > free:
                self._show(
                    f"Exporting this network needs about {format_bytes(need.total_bytes)} ({need.parts}) "
                    f"but the computer has {format_bytes(free)} free. Choose a smaller input or fewer, "
                    "narrower stages, or tick “Skip the memory check” to try anyway.",
                    failed=True,
                )
                return
        self._running = True
        self.export_result = None
        self.busy.setVisible(True)
        self._show(f"Exporting to {path.name} and verifying…", failed=False)
        self._update_enabled()
        job = self._runner.export(spec, path, weights, self.opset.value())
        job.status_changed.connect(lambda text: self._show(text, failed=False))
        job.finished.connect(self._finished)
        job.failed.connect(lambda message: self._finished(failure_text(message, job.crash)))
        job.withdrawn.connect(lambda: self._finished("Cancelled before it started."))
        self.job = job

    def _finished(self, outcome: ExportResult | str | None) -> None:
        self.job = None
        self._running = False
        self.busy.setVisible(False)
        self._update_enabled()
        if isinstance(outcome, ExportResult):
            self.export_result = outcome
            self._show("\n".join(outcome.lines()), failed=False)
        else:
            self._show(outcome or "Cancelled; nothing was written.", failed=True)
