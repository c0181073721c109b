"""The Memory tab: what one training step of the spec needs, predicted as it is edited.

The prediction walks every layer of the plan and the largest-batch searches repeat it
a few dozen times, so it runs on a worker thread (the newest request wins). The devices
come from the window's one device discovery (the Benchmark tab's, which loads torch);
their free memory is read on the worker thread with each prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.core.analysis import Analysis
from explorer.core.spec import ArchSpec
from explorer.core.training_memory import (
    NOT_COUNTED,
    OPTIMIZERS,
    PRECISIONS,
    TrainingMemory,
    TrainingMemoryError,
    largest_batch_that_fits,
    parse_memory_size,
    predict_training_memory,
)
from explorer.core.units import byte_unit, format_bytes
from explorer.gui.bench_runner import Machine, shared_runner
from explorer.gui.flow_layout import FlowLayout
from explorer.gui.latest import latest_in_thread
from explorer.gui.session import Session

MAX_BATCH_CONTROL = 1_000_000
BAR_COLOUR = "#5f8fc9"
PART_COLOURS = {
    "Parameters": "#5f8fc9",
    "Gradients": "#e0a03a",
    "Optimizer state": "#9b7fd1",
    "Activations": "#4fae8b",
}
ERROR_STYLE = "color: #b42318"
# What a size the fit box cannot read shows beside it (the reason in full is its tooltip).
NOT_A_SIZE = "⚠ not a size: type e.g. 24 GiB, 512 MiB or 8 GB"


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    key: str
    kind: str
    label: str


@dataclass(frozen=True, slots=True)
class MemoryRequest:
    spec: ArchSpec
    batch: int
    optimizer: str
    precision: str
    typed_bytes: int | None
    devices: tuple[DeviceEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class DeviceFit:
    label: str
    memory_bytes: int | None
    max_batch: int | None
    memory_kind: str
    """What ``memory_bytes`` is: the device's free memory, or the system's available memory."""


@dataclass(frozen=True, slots=True)
class MemoryOutcome:
    request: MemoryRequest
    prediction: TrainingMemory
    devices: tuple[DeviceFit, ...]
    typed_batch: int | None


def stacked_parts(memory: TrainingMemory) -> list[tuple[str, int]]:
    """The four parts of the stacked bar; activations hold everything the batch brings."""
    activations = (
        memory.saved_activation_bytes
        + memory.weight_copy_bytes
        + memory.input_bytes
        + memory.backward_peak_bytes
    )
    return [
        ("Parameters", memory.param_bytes + memory.buffer_bytes),
        ("Gradients", memory.grad_bytes),
        ("Optimizer state", memory.optimizer_state_bytes),
        ("Activations", activations),
    ]


def compute(request: MemoryRequest) -> MemoryOutcome:
    """The prediction and the largest batch per device (runs on a worker thread)."""
    spec, optimizer, precision = request.spec, request.optimizer, request.precision
    prediction = predict_training_memory(spec, request.batch, optimizer, precision)
    fits = []
    if request.devices:
        from explorer.core.devices import free_memory  # torch is loaded: the devices were found

        for device in request.devices:
            on_cpu = device.kind == "cpu"
            memory = free_memory(device.key)
            best = None
            if memory is not None:
                rules = "cpu" if on_cpu else "cuda"
                best = largest_batch_that_fits(spec, memory, optimizer, precision, rules)
            kind = "available system memory" if on_cpu else "free memory"
            fits.append(DeviceFit(device.label, memory, best, kind))
    typed = None
    if request.typed_bytes is not None:
        typed = largest_batch_that_fits(spec, request.typed_bytes, optimizer, precision)
    return MemoryOutcome(request, prediction, tuple(fits), typed)


class StackedBar(QWidget):
    """One horizontal bar split into parts, each as wide as its share of the total."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.parts: list[tuple[str, int]] = []
        self.setMinimumHeight(28)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(400, 32)

    def set_parts(self, parts: list[tuple[str, int]]) -> None:
        self.parts = parts
        self.setToolTip(
            "\n".join(f"{name}: {format_bytes(value)} ({value:,} bytes)" for name, value in parts)
        )
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        total = sum(value for _, value in self.parts)
        if total <= 0:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        x = 0.0
        width = float(self.width())
        for name, value in self.parts:
            span = width * value / total
            painter.fillRect(QRectF(x, 0, span, self.height()), QColor(PART_COLOURS[name]))
            x += span
        painter.end()


class MemoryPanel(QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.batch = QSpinBox(minimum=1, maximum=MAX_BATCH_CONTROL, value=32)
        self.optimizer = QComboBox()
        self.optimizer.addItems(OPTIMIZERS)
        self.optimizer.setCurrentText("sgd-momentum")
        self.precision = QComboBox()
        self.precision.addItems(PRECISIONS)
        self.precision.setToolTip("float16 and bfloat16: autocast mixed precision (CUDA's rules)")
        self.fit_size = QLineEdit(placeholderText="e.g. 24 GiB")
        self.fit_size.setToolTip("A memory size: 24 GiB, 512 MiB, 8 GB or a number of bytes")
        # One line beside the field, which never takes more room than the row leaves it:
        # an explanation that wraps pushes the whole page down.
        self.size_result = QLabel("")
        self.size_result.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        # Rows that wrap in a narrow window instead of widening the page.
        controls = FlowLayout(spacing=16)
        for title, control in (
            ("Batch", self.batch),
            ("Optimizer", self.optimizer),
            ("Precision", self.precision),
        ):
            pair = QHBoxLayout()
            pair.setContentsMargins(0, 0, 0, 0)
            pair.addWidget(QLabel(title))
            pair.addWidget(control)
            controls.addWidget(QWidget(layout=pair))
        # A row of its own, as high with or without a result: the page never moves.
        fit_row = QHBoxLayout()
        fit_row.addWidget(QLabel("Fit in"))
        fit_row.addWidget(self.fit_size)
        fit_row.addSpacing(6)
        fit_row.addWidget(self.size_result, 1)
        self.fit_size.setMaximumWidth(120)

        self.bar = StackedBar()
        self.legend = {name: QLabel("") for name in PART_COLOURS}
        legend_row = FlowLayout(spacing=12)
        for label in self.legend.values():
            label.setTextFormat(Qt.TextFormat.RichText)
            legend_row.addWidget(label)
        self.total = QLabel("", wordWrap=True)
        self.total.setObjectName("CardValue")
        self.status = QLabel("")
        self.status.setWordWrap(True)

        pg.setConfigOptions(antialias=True, background="w", foreground="#344054")
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setMinimumHeight(220)
        self.canvas.setMaximumHeight(340)
        self.stage_plot = self.canvas.addPlot()
        self.stage_plot.setTitle(
            "<span style='font-size:11pt; font-weight:600'>Saved activations per stage</span>"
        )
        self.stage_plot.setMenuEnabled(False)
        self.stage_plot.showGrid(x=False, y=True, alpha=0.25)

        devices_box = QGroupBox("Largest batch that fits")
        self.devices = QLabel("Looking for devices…")
        self.devices.setWordWrap(True)
        QVBoxLayout(devices_box).addWidget(self.devices)
        notes = QLabel(NOT_COUNTED)
        notes.setWordWrap(True)
        notes.setObjectName("CardDetail")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addLayout(controls)
        layout.addLayout(fit_row)
        layout.addWidget(self.total)
        layout.addWidget(self.bar)
        layout.addLayout(legend_row)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(devices_box)
        layout.addWidget(notes)
        layout.addWidget(self.status)

        self.shown: MemoryOutcome | None = None
        self._typed_error: str | None = None
        self._latest = latest_in_thread(compute, self._show, self._failed, self, one_at_a_time=True)
        self.batch.valueChanged.connect(self.refresh)
        self.optimizer.currentTextChanged.connect(self.refresh)
        self.precision.currentTextChanged.connect(self.refresh)
        self.fit_size.textChanged.connect(self.refresh)
        session.analysis_changed.connect(self._analysis_changed)
        self._devices: tuple[DeviceEntry, ...] = ()
        self.runner = shared_runner(session)
        self.runner.machine_found.connect(self._machine_found)
        self.runner.discovery_failed.connect(self._discovery_failed)
        if self.runner.machine is not None:
            self._machine_found(self.runner.machine)
        elif self.runner.discovery_problem:
            self._discovery_failed(self.runner.discovery_problem)
        else:
            self.runner.discover()
        self.refresh()

    def _machine_found(self, machine: Machine) -> None:
        self._devices = tuple(DeviceEntry(d.key, d.kind, f"{d.key} ({d.name})") for d in machine.devices)
        self.refresh()

    def _discovery_failed(self, message: str) -> None:
        self.devices.setText(f"No devices found: {message}")

    def _analysis_changed(self, _analysis: Analysis) -> None:
        self.refresh()

    def is_ready(self) -> bool:
        """The figures shown are those of the current spec and controls."""
        return self.shown is not None and not self._latest.busy and self.shown.request == self._request()

    def _typed_size(self) -> tuple[int | None, str | None]:
        """The size typed in the fit box, in bytes, or why it is not a size."""
        text = self.fit_size.text().strip()
        if not text:
            return None, None
        try:
            return parse_memory_size(text), None
        except TrainingMemoryError as exc:
            return None, str(exc)

    def _request(self) -> MemoryRequest:
        return MemoryRequest(
            self.session.spec,
            self.batch.value(),
            self.optimizer.currentText(),
            self.precision.currentText(),
            self._typed_size()[0],
            self._devices,
        )

    def refresh(self) -> None:
        typed, error = self._typed_size()
        self._typed_error = error
        if error is not None:
            self.size_result.setStyleSheet(ERROR_STYLE)
            self.size_result.setText(NOT_A_SIZE)
            self.size_result.setToolTip(error)
        elif typed is None:
            self.size_result.setText("")
            self.size_result.setToolTip("")
        self._latest.request(self._request())

    def _failed(self, message: str) -> None:
        self.status.setStyleSheet(ERROR_STYLE)
        self.status.setText(f"Cannot predict the memory: {message}")

    def _show(self, outcome: MemoryOutcome) -> None:
        self.shown = outcome
        memory = outcome.prediction
        self.status.setText("")
        parts = stacked_parts(memory)
        self.bar.set_parts(parts)
        for name, value in parts:
            colour = PART_COLOURS[name]
            self.legend[name].setText(f"<span style='color:{colour}'>■</span> {name} {format_bytes(value)}")
        mixed = "" if memory.precision == "float32" else " (autocast)"
        self.total.setText(
            f"{format_bytes(memory.total_bytes)} for a training step at batch {memory.batch}, "
            f"{memory.optimizer}, {memory.precision}{mixed}"
        )
        self._draw_stages(memory)
        lines = []
        for fit in outcome.devices:
            if fit.memory_bytes is None:
                lines.append(f"{fit.label}: memory unknown")
                continue
            batch = str(fit.max_batch) if fit.max_batch else "none (batch 1 needs more)"
            lines.append(f"{fit.label}: {batch} in {format_bytes(fit.memory_bytes)} of {fit.memory_kind}")
        if outcome.request.devices:
            self.devices.setText("\n".join(lines))
        typed = outcome.request.typed_bytes
        if typed is not None and self._typed_error is None:
            self.size_result.setStyleSheet("")
            best = str(outcome.typed_batch) if outcome.typed_batch else "none (batch 1 needs more)"
            self.size_result.setText(f"largest batch in {format_bytes(typed)}: {best}")
            self.size_result.setToolTip("")

    def _draw_stages(self, memory: TrainingMemory) -> None:
        plot = self.stage_plot
        plot.clear()
        names = [group.name for group in memory.stages]
        # The axis in the unit of the largest bar, as the bars' own labels scale.
        unit_bytes, unit = byte_unit(max((group.saved_bytes for group in memory.stages), default=0))
        plot.setLabel("left", unit)
        values = [group.saved_bytes / unit_bytes for group in memory.stages]
        xs = list(range(len(values)))
        plot.addItem(
            pg.BarGraphItem(x=xs, height=values, width=0.62, brush=BAR_COLOUR, pen=pg.mkPen(BAR_COLOUR))
        )
        top = max(values) if values and max(values) > 0 else 1.0
        for x, group in zip(xs, memory.stages, strict=True):
            label = pg.TextItem(format_bytes(group.saved_bytes), color="#344054", anchor=(0.5, 1.0))
            label.setPos(x, group.saved_bytes / unit_bytes + 0.02 * top)
            plot.addItem(label)
        plot.getAxis("bottom").setTicks([list(enumerate(names))])
        plot.setXRange(-0.6, len(values) - 0.4, padding=0)
        plot.setYRange(0, top * 1.15, padding=0)
