"""The Profile tab: where a forward pass's (or a training step's) time goes, by stage and by layer.

The Time choice picks inference or a training step; in training the stage and layer
tables split each time into forward and backward, and the bars stack the two.

A run goes through the window's shared benchmark queue (one timing at a time), on its own
thread; the result lands in the window's profile store, where the Layers and Diagram tabs
find it. Clicking a layer (in the table of the slowest, or a point of the scatter) or a
stage selects its rows in every view. After an edit the figures on show are of another
network: they stay, greyed, until the next run.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from explorer.core.benchtypes import BenchError
from explorer.core.files import atomic_write_text
from explorer.core.profile import GroupTime, LayerTime, Profile
from explorer.core.render.profile_text import check_text, slowest_layers
from explorer.core.spec import ArchSpec
from explorer.core.units import format_macs
from explorer.gui.bench_runner import BenchJob, Machine, shared_runner
from explorer.gui.crash_report import CrashReport
from explorer.gui.panels.bench_options import BenchOptions
from explorer.gui.panels.charts import BAR_COLOUR, MACS_COLOUR
from explorer.gui.plain_text import plain
from explorer.gui.profile_store import profile_store
from explorer.gui.session import Session
from explorer.gui.workers import describe_error

TOP_LAYERS = 12
PROFILE_PASSES = 20
SETTINGS_GROUP = "profile/"
CHART_HEIGHT = 440  # two rows of plots
STAGE_COLUMNS = ("stage", "time ms", "share", "MACs/image", "GMAC/s", "vs avg")
LAYER_COLUMNS = ("layer", "type", "time ms", "share", "MACs/image", "GMAC/s", "vs avg")
SPLIT_COLUMNS = ("forward ms", "backward ms")  # before "time ms", in training
BACKWARD_COLOUR = "#c96f5f"


def _speed(value: float | None) -> str:
    return "–" if value is None else f"{value:,.3g}"


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f}"


def _split(row: GroupTime | LayerTime) -> tuple[str, ...]:
    """The forward and backward cells of a training-step profile; none in inference."""
    return () if row.backward_s is None else (_ms(row.forward_s), _ms(row.backward_s))


def _with_split(columns: tuple[str, ...], training: bool) -> tuple[str, ...]:
    at = columns.index("time ms")
    return (*columns[:at], *SPLIT_COLUMNS, *columns[at:]) if training else columns


def _cells(group: GroupTime) -> tuple[str, ...]:
    return (
        group.name,
        *_split(group),
        _ms(group.time_s),
        f"{group.share:.1%}",
        format_macs(group.macs),
        _speed(group.gmacs_per_s),
        _ratio(group.speed_ratio),
    )


def _layer_cells(layer: LayerTime) -> tuple[str, ...]:
    return (
        layer.name,
        layer.type,
        *_split(layer),
        _ms(layer.time_s),
        f"{layer.share:.1%}",
        format_macs(layer.macs),
        _speed(layer.gmacs_per_s),
        _ratio(layer.speed_ratio),
    )


def _table(columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(
    table: QTableWidget, columns: tuple[str, ...], rows: list[tuple[str, ...]], keys: list[object]
) -> None:
    table.setColumnCount(len(columns))
    # A header's unit under its name: the columns are as narrow as their figures.
    table.setHorizontalHeaderLabels([column.replace(" ", "\n") for column in columns])
    table.setRowCount(len(rows))
    for number, (cells, key) in enumerate(zip(rows, keys, strict=True)):
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, key)
            if (column > 0 and text[:1].isdigit()) or text.startswith("–"):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(number, column, item)


def _fit_rows(table: QTableWidget) -> None:
    """As tall as its header and rows, and a sideways scroll bar should it need one."""
    table.resizeRowsToContents()
    rows = sum(table.rowHeight(row) for row in range(table.rowCount()))
    bar = table.horizontalScrollBar().sizeHint().height()
    table.setFixedHeight(table.horizontalHeader().sizeHint().height() + rows + 2 * table.frameWidth() + bar)


class ProfileCharts(pg.GraphicsLayoutWidget):
    """Time by stage, the slowest layers, and MACs against time per layer (click a point)."""

    def __init__(self, on_row: object) -> None:
        super().__init__()
        self.setBackground("w")
        self.setMinimumHeight(CHART_HEIGHT)
        self._on_row = on_row
        self.stages = self.addPlot(title="time by stage (ms)")
        self.layers = self.addPlot(title="slowest layers (ms)")
        # Under the other two, as wide as both: three plots in a row leave each too narrow
        # for its title in a window of 1280 pixels.
        self.nextRow()
        self.scatter_plot = self.addPlot(title="MACs vs time, per layer", colspan=2)
        self.scatter_plot.setLabel("bottom", "MACs per image")
        self.scatter_plot.setLabel("left", "time (ms)")
        self.scatter_plot.setLogMode(x=True, y=True)
        for side in ("left", "bottom"):
            self.scatter_plot.getAxis(side).enableAutoSIPrefix(False)
        self.scatter_plot.showGrid(x=True, y=True, alpha=0.2)
        # A PlotDataItem, not a bare scatter: only it follows the plot's log axes.
        self.points = pg.PlotDataItem(
            [], [], pen=None, symbol="o", symbolSize=8, symbolBrush=MACS_COLOUR, symbolPen="#7a4f0a"
        )
        self.scatter = self.points.scatter
        self.scatter.sigClicked.connect(self._clicked)
        self.scatter_plot.addItem(self.points)
        self.scatter_plot.setToolTip("Click a point to select its layer; high and left: slow for its work")
        for plot in (self.stages, self.layers):
            plot.invertY(True)
            plot.showGrid(x=True, alpha=0.2)
            plot.setMouseEnabled(x=False, y=False)

    def _clicked(self, _item: object, points: list[pg.SpotItem]) -> None:
        if points:
            self._on_row(int(points[0].data()))  # type: ignore[operator]

    @staticmethod
    def _bars(
        plot: pg.PlotItem,
        names: list[str],
        values: list[float],
        colour: str,
        stacked: list[float] | None = None,
    ) -> None:
        """Horizontal bars of ``values``; with ``stacked``, a second part after each bar."""
        plot.clear()
        if not values:
            return
        positions = list(range(len(values)))
        plot.addItem(pg.BarGraphItem(x0=0, y=positions, height=0.7, width=values, brush=colour))
        ends = values
        if stacked is not None:
            plot.addItem(
                pg.BarGraphItem(x0=values, y=positions, height=0.7, width=stacked, brush=BACKWARD_COLOUR)
            )
            ends = [first + second for first, second in zip(values, stacked, strict=True)]
        plot.getAxis("left").setTicks([list(zip(positions, names, strict=True))])
        plot.setXRange(0, max(max(ends), 1e-9) * 1.05, padding=0)
        plot.setYRange(-0.5, len(values) - 0.5, padding=0)

    @staticmethod
    def _titled(plot: pg.PlotItem, what: str, training: bool) -> None:
        if training:
            what += (
                f": <span style='color:{BAR_COLOUR}'>forward</span> + "
                f"<span style='color:{BACKWARD_COLOUR}'>backward</span>"
            )
        plot.setTitle(what)

    def show_profile(self, result: Profile) -> None:
        training = result.training
        self._titled(self.stages, "time by stage (ms)", training)
        self._titled(self.layers, "slowest layers (ms)", training)
        self._bars(
            self.stages,
            [stage.name for stage in result.stages],
            [stage.forward_s * 1e3 for stage in result.stages],
            BAR_COLOUR,
            [(stage.backward_s or 0.0) * 1e3 for stage in result.stages] if training else None,
        )
        top = slowest_layers(result, TOP_LAYERS)
        names, forward = [layer.name for layer in top], [layer.forward_s * 1e3 for layer in top]
        backward = [(layer.backward_s or 0.0) * 1e3 for layer in top] if training else None
        self._bars(self.layers, names, forward, BAR_COLOUR, backward)
        timed = [layer for layer in result.layers if layer.leaf and layer.macs > 0 and layer.time_s > 0]
        self.points.setData(
            x=[layer.macs for layer in timed],
            y=[layer.time_s * 1e3 for layer in timed],
            data=[layer.index for layer in timed],
        )


def _outside_layers(result: Profile) -> str:
    """A training step's time outside the layers, as a sentence's end (nothing in inference)."""
    parts = result.train
    if parts is None:
        return ""
    return (
        f"; outside the layers: the loss {_ms(parts.loss_s)} ms, the rest of backward "
        f"{_ms(parts.backward_other_s)} ms, the optimizer's step {_ms(parts.optimizer_s)} ms"
    )


class ProfilePanel(QWidget):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.runner = shared_runner(session)
        self.store = profile_store(session)
        self.job: BenchJob | None = None
        self.result: Profile | None = None
        self.runner.machine_found.connect(self._show_machine)
        self.runner.discovery_failed.connect(lambda message: self._say(f"No devices: {message}", error=True))

        # The Benchmark tab's option widgets, remembered apart: a profile's choices (more
        # passes, no compile) must not become the benchmark's.
        self.options = BenchOptions()
        self.options.iterations_box.setValue(PROFILE_PASSES)
        form = self.options.findChild(QFormLayout)
        for hidden in (self.options.compile_box, self.options.min_time_box, self.options.sweep_limit_box):
            if form is not None:
                form.setRowVisible(hidden, False)
        self.options.sweep_hint.hide()
        self.run_button = QPushButton(
            "Profile", toolTip="Time every layer of a forward pass, or of a training step (Time: Training)"
        )
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel", enabled=False)
        self.cancel_button.clicked.connect(self.cancel)
        self.save_button = QPushButton("Save…", enabled=False, toolTip="As JSON or a Chrome trace")
        self.save_button.clicked.connect(self._save_dialog)
        self.progress = QProgressBar(textVisible=False, maximumHeight=8)
        self.progress.hide()
        self.message = plain(QLabel(wordWrap=True, objectName="ProfileMessage"))
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.crash_report = CrashReport()

        # The buttons and what they are doing first: in a low window they stay in sight.
        left = QVBoxLayout()
        buttons = QHBoxLayout()
        for button in (self.run_button, self.cancel_button):
            buttons.addWidget(button)
        left.addLayout(buttons)
        left.addWidget(self.save_button)
        left.addWidget(self.progress)
        left.addWidget(self.message)
        left.addWidget(self.crash_report)
        left.addWidget(self.options)
        left.addStretch(1)

        self.title = QLabel(wordWrap=True)
        self.check = QLabel(wordWrap=True)
        self.check.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stale_note = QLabel("These figures are of an earlier architecture: profile it again.")
        self.stale_note.setWordWrap(True)
        self.stale_note.hide()
        self.stage_table = _table(STAGE_COLUMNS)
        self.stage_table.itemSelectionChanged.connect(self._stage_chosen)
        self.layer_table = _table(LAYER_COLUMNS)
        self.layer_table.itemSelectionChanged.connect(self._layer_chosen)
        self.charts = ProfileCharts(self.select_row)
        # The charts and tables share what width there is instead of widening the tab. The
        # stage table (a few rows) beside the options; the layer table and the charts under
        # both, as wide as the tab: each shows all its columns in a window of 1280 pixels.
        for wide in (self.charts, self.stage_table, self.layer_table):
            wide.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        self.stage_table.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.figures = QWidget()
        right = QVBoxLayout(self.figures)
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.title)
        right.addWidget(self.check)
        right.addWidget(self.stage_table)
        right.addStretch(1)
        self.more_figures = QWidget()
        below = QVBoxLayout(self.more_figures)
        below.setContentsMargins(0, 0, 0, 0)
        below.addWidget(self.layer_table, 1)
        below.addWidget(self.charts, 1)
        top = QHBoxLayout()
        top.addLayout(left)
        column = QVBoxLayout()
        column.addWidget(self.stale_note)
        column.addWidget(self.figures, 1)
        top.addLayout(column, 1)
        outer = QVBoxLayout(self)
        outer.addLayout(top)
        outer.addWidget(self.more_figures, 1)
        self.figures.hide()
        self.more_figures.hide()
        self.empty_note = QLabel(
            "Profile runs the model on the device and times every layer of its forward pass "
            "(or, with Time: Training, of a training step, forward and backward): where the time "
            "goes by stage and by layer, which layers run slowly for their work, and whether the "
            "layers add up to the whole pass.",
            wordWrap=True,
        )
        self.empty_note.setProperty("role", "hint")
        column.insertWidget(0, self.empty_note)
        session.spec_changed.connect(self._spec_changed)
        if self.runner.machine is not None:  # found already, for another tab
            self._show_machine(self.runner.machine)
        elif self.runner.discovery_problem:
            self._say(f"No devices: {self.runner.discovery_problem}", error=True)
        self._update_buttons()

    # Running

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.runner.discover()

    @property
    def busy(self) -> bool:
        return self.job is not None

    def use_settings(self, settings: QSettings) -> None:
        """Show the profile options stored in ``settings`` and store every later change there."""
        self.options.use_settings(settings, SETTINGS_GROUP)

    def is_ready(self) -> bool:
        found = self.runner.machine is not None or bool(self.runner.discovery_problem)
        return found and not self.busy

    def _show_machine(self, machine: Machine) -> None:
        self.options.show_machine(machine)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.run_button.setEnabled(not self.busy and self.runner.machine is not None)
        self.cancel_button.setEnabled(self.busy)
        self.save_button.setEnabled(self.result is not None and not self.busy)
        self.options.set_running(self.busy)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #8c1d18;" if error else "")

    def run(self) -> None:
        if self.busy:
            return
        try:
            config = replace(self.options.config(), compile=False, min_time_s=None)
        except BenchError as exc:
            self._say(str(exc), error=True)
            return
        if config.mode == "train" and self.session.spec.num_classes == 0:
            self._say(
                "Training needs a classifier for its cross-entropy loss: give the architecture "
                "classes (above 0), or choose Inference.",
                error=True,
            )
            return
        self._spec = self.session.spec
        self.crash_report.show_crash(None)
        self.job = self.runner.profile(self._spec, config)
        self.job.status_changed.connect(self._say)
        self.job.progressed.connect(self._progressed)
        self.job.finished.connect(self._finished)
        self.job.failed.connect(self._failed)
        self.job.withdrawn.connect(lambda: self._failed("cancelled"))
        self.job.ended.connect(self._ended)
        self.progress.setRange(0, 0)
        self.progress.show()
        self._say("waiting for the benchmark queue…" if self.runner.running is not self.job else "profiling…")
        self.job.started.connect(lambda: self._say("profiling…"))
        self._update_buttons()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        if self.job is not None and not self.job.cancelling:
            self._say("profiling…")

    def _finished(self, outcome: object) -> None:
        if outcome is None:
            self._say("cancelled; nothing was kept")
            return
        assert isinstance(outcome, Profile)
        self.store.store(outcome)
        self.show_profile(outcome)
        self._say("")

    def _failed(self, message: str) -> None:
        crash = self.job.crash if self.job is not None else None
        self.crash_report.show_crash(crash)
        if crash is not None:
            self._say("")
            return
        self._say(f"The profile failed: {message}" if message != "cancelled" else "cancelled", error=True)

    def _ended(self, _job: object) -> None:
        self.job = None
        self.progress.hide()
        self._update_buttons()

    # Showing

    def show_profile(self, result: Profile) -> None:
        self.result = result
        card = result.card
        kind = f"training step ({card.optimizer}), " if result.training else ""
        self.title.setText(
            f"{kind}<b>{card.device_name}</b> ({card.device}), batch {card.batch_size}, {card.dtype}, "
            f"{card.layout}, {card.threads} thread{'s' if card.threads != 1 else ''}; "
            f"{card.iterations} profiled passes after {card.warmup} warm-up"
        )
        overhead = f"a profiled pass took {result.overhead:+.1%} against a plain one"
        self.check.setText(f"{check_text(result)}; {overhead}{_outside_layers(result)}")
        self.check.setStyleSheet("" if result.agrees else "color: #8c1d18;")
        stages = result.stages
        training = result.training
        _fill(
            self.stage_table,
            _with_split(STAGE_COLUMNS, training),
            [_cells(stage) for stage in stages],
            [stage.name for stage in stages],
        )
        _fit_rows(self.stage_table)
        top = slowest_layers(result, TOP_LAYERS * 2)
        _fill(
            self.layer_table,
            _with_split(LAYER_COLUMNS, training),
            [_layer_cells(layer) for layer in top],
            [layer.index for layer in top],
        )
        self.charts.show_profile(result)
        self.empty_note.hide()
        self.figures.show()
        self.more_figures.show()
        self._mark_stale(result.spec != self.session.spec)
        self._update_buttons()

    def _spec_changed(self, spec: ArchSpec) -> None:
        if self.result is not None:
            self._mark_stale(self.result.spec != spec)

    def _mark_stale(self, stale: bool) -> None:
        self.figures.setEnabled(not stale)
        self.more_figures.setEnabled(not stale)
        self.stale_note.setVisible(stale)

    def select_row(self, index: int) -> None:
        """Select analysis row ``index`` in the Layers tab and the diagram."""
        if self.result is not None and self.result.spec == self.session.spec:
            self.session.select_rows((index,))

    def _layer_chosen(self) -> None:
        items = self.layer_table.selectedItems()
        if items:
            self.select_row(int(items[0].data(Qt.ItemDataRole.UserRole)))

    def _stage_chosen(self) -> None:
        items = self.stage_table.selectedItems()
        if not items or self.result is None or self.result.spec != self.session.spec:
            return
        name = items[0].data(Qt.ItemDataRole.UserRole)
        stage = next(stage for stage in self.result.stages if stage.name == name)
        self.session.select_rows(range(stage.first_row, stage.last_row + 1))

    # Saving

    def _save_dialog(self) -> None:
        if self.result is None:
            return
        path, chosen = QFileDialog.getSaveFileName(
            self, "Save the profile", "profile.json", "Profile (*.json);;Chrome trace (*.trace.json)"
        )
        if path:
            self.save(Path(path), trace="trace" in chosen)

    def save(self, path: Path, trace: bool = False) -> bool:
        """Write the profile (or its Chrome trace) to ``path`` atomically; a failure is said inline."""
        if self.result is None:
            return False
        text = json.dumps(self.result.chrome_trace()) if trace else self.result.to_json()
        try:
            atomic_write_text(path, text + "\n")
        except OSError as exc:
            self._say(f"Could not save {path.name}: {describe_error(exc)}", error=True)
            return False
        self._say(f"saved {path.name}")
        return True
