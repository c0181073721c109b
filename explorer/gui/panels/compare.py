"""The Compare tab: variants side by side, with charts, a structural diff and timings.

The variants live in the window's Workspace, which saves itself after every change.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QSettings, Qt
from PySide6.QtGui import QAction, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from explorer.core.benchtypes import BenchConfig, BenchResult
from explorer.core.compare import BenchFigures, Comparison, ComparisonError, Variant
from explorer.core.file_kind import COMPARISON_SUFFIX, named_as, suggested_name
from explorer.core.files import atomic_write_text
from explorer.core.presets import FAMILIES, preset, preset_name_of, presets_in
from explorer.core.render.compare_text import COMPARISON_FORMATTERS
from explorer.gui.bench_runner import BenchJob, Machine, shared_runner
from explorer.gui.crash_report import CrashReport
from explorer.gui.flow_layout import FlowLayout
from explorer.gui.models.comparison_table import ComparisonTableModel, timing_warning
from explorer.gui.panels.compare_stage_time import StageTimeView
from explorer.gui.plain_text import plain
from explorer.gui.profile_store import profile_store
from explorer.gui.session import Session
from explorer.gui.workers import describe_error
from explorer.gui.workspace import Workspace, workspace_of

COMPARISON_FILTER = f"Comparison (*{COMPARISON_SUFFIX} *.json)"

TIP = Qt.ItemDataRole.ToolTipRole
SETTINGS_GROUP = "compare/"


class ComparePanel(QWidget):
    def __init__(self, session: Session, workspace: Workspace | None = None) -> None:
        super().__init__()
        self.session = session
        self.workspace = workspace or workspace_of(session)
        # The window's one runner: it finds the devices (torch loaded on a worker, once a
        # timing tab is first shown) and times the jobs of every tab one after the other.
        self.runner = shared_runner(session)
        self.runner.machine_found.connect(self._list_devices)
        self.job: BenchJob | None = None
        self._timing: list[Variant] = []  # the variants being timed, in the order results come
        self._timed: list[Variant] = []  # those that got figures in this round
        self._cancelled = False
        self._settings: QSettings | None = None
        self._wanted_device = ""  # a remembered device, chosen once the devices are listed

        self.variants = QListWidget(objectName="CompareVariants")
        self.variants.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.variants.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.variants.itemChanged.connect(self._renamed)
        self.variants.currentRowChanged.connect(lambda _row: self._update_buttons())

        self.table_model = ComparisonTableModel()
        self.table = QTableView(objectName="CompareTable")
        self.table.setModel(self.table_model)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.clicked.connect(lambda index: self.variants.setCurrentRow(index.row()))

        self.views = QTabWidget(objectName="CompareViews")
        self.views.addTab(self.table, "Table")
        self._charts: QWidget | None = None
        self._diff: QWidget | None = None
        self.views.addTab(QWidget(), "Charts")
        self.views.addTab(QWidget(), "Diff")
        # The last profile of each variant's spec, from the Profile tab.
        self.stage_times = StageTimeView(profile_store(session))
        self.views.addTab(self.stage_times, "Stage time")
        self.views.currentChanged.connect(self._ensure_view)

        self.message = plain(QLabel(objectName="InlineError", wordWrap=True))
        self.message.hide()
        self.crash_report = CrashReport()
        self.empty_hint = QLabel(
            "Nothing to compare yet: <b>Add current</b> puts the architecture you are editing here, "
            "<b>Add preset</b> any preset. The first variant is the baseline; every figure shows its "
            "change against it. The comparison is saved as you go.",
            objectName="Hint",
            wordWrap=True,
        )
        self.progress = QProgressBar(textVisible=True, maximumWidth=220)
        self.progress.hide()

        left = QWidget(maximumWidth=240)
        left_column = QVBoxLayout(left)
        left_column.setContentsMargins(0, 0, 0, 0)
        left_column.addWidget(QLabel("<b>Variants</b> (double-click to rename)", wordWrap=True))
        left_column.addWidget(self.variants, 1)
        left_column.addLayout(self._variant_buttons())
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.views)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([180, 900])  # the table, many columns wide, first

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(self._toolbar())
        layout.addWidget(self.message)
        layout.addWidget(self.crash_report)
        layout.addWidget(self.empty_hint)
        layout.addWidget(splitter, 1)

        self.workspace.changed.connect(self._refresh)
        self.workspace.problem.connect(self.show_message)
        if self.workspace.restore_problem:
            self.show_message(self.workspace.restore_problem)
        self._refresh(self.workspace.comparison)
        if self.runner.machine is not None:  # found already, for another tab
            self._list_devices(self.runner.machine)
        for key, box in self._remembered().items():
            box.valueChanged.connect(lambda _value, key=key, box=box: self._store(key, box.value()))
        self.device_box.currentIndexChanged.connect(
            lambda _index: self._store("device", self.device_box.currentData())
        )

    def _remembered(self) -> dict[str, QSpinBox]:
        return {"batch_size": self.batch_box, "iterations": self.iterations_box, "threads": self.threads_box}

    def use_settings(self, settings: QSettings) -> None:
        """Show the timing options stored in ``settings`` and store every later change there."""
        self._settings = None  # what is read back is not written again
        for key, box in self._remembered().items():
            with contextlib.suppress(TypeError, ValueError):  # missing or hand-edited: keep the default
                box.setValue(int(str(settings.value(SETTINGS_GROUP + key))))
        self._wanted_device = str(settings.value(SETTINGS_GROUP + "device", "") or "")
        self._choose_wanted_device()
        self._settings = settings

    def _choose_wanted_device(self) -> None:
        index = self.device_box.findData(self._wanted_device)
        if self._wanted_device and index >= 0:
            self.device_box.setCurrentIndex(index)
            self._wanted_device = ""

    def _store(self, key: str, value: object) -> None:
        if self._settings is not None and value is not None:
            self._settings.setValue(SETTINGS_GROUP + key, value)

    # Building

    def _button(self, text: str, tip: str, slot: Any, name: str = "") -> QPushButton:
        button = QPushButton(text, toolTip=tip, objectName=name)
        button.clicked.connect(slot)
        return button

    def _variant_buttons(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setSpacing(4)
        self.duplicate_button = self._button(
            "Duplicate", "Copy the selected variant", self.duplicate_selected
        )
        self.remove_button = self._button("Remove", "Remove the selected variant", self.remove_selected)
        self.baseline_button = self._button(
            "Make baseline", "Measure every delta against the selected variant", self.baseline_selected
        )
        self.up_button = self._button(
            "Move up", "Move the selected variant up", lambda: self.move_selected(-1)
        )
        self.down_button = self._button(
            "Move down", "Move the selected variant down", lambda: self.move_selected(1)
        )
        grid.addWidget(self.duplicate_button, 0, 0)
        grid.addWidget(self.remove_button, 0, 1)
        grid.addWidget(self.up_button, 1, 0)
        grid.addWidget(self.down_button, 1, 1)
        grid.addWidget(self.baseline_button, 2, 0, 1, 2)
        return grid

    def _toolbar(self) -> QVBoxLayout:
        """Editing, timing and files on the first row, the timing's options on the second:
        a single row would be cut off in a narrow window."""
        actions = QHBoxLayout()
        self.add_current_button = self._button(
            "Add current", "Add the architecture being edited", self.add_current, "AddCurrent"
        )
        # Only this button takes the spec being edited: it waits while the fields are invalid.
        self.add_current_button.setEnabled(self.session.spec_error is None)
        self.session.spec_error_changed.connect(self._spec_error_changed)
        actions.addWidget(self.add_current_button)
        presets = QToolButton(text="Add preset", popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(presets)
        for family in FAMILIES:
            sub = menu.addMenu(family.title)
            for name in presets_in(family.key):
                action = QAction(name, sub)
                action.triggered.connect(lambda _checked=False, n=name: self.add_preset(n))
                sub.addAction(action)
        presets.setMenu(menu)
        actions.addWidget(presets)
        actions.addSpacing(16)
        self.bench_button = self._button(
            "Benchmark all", "Time a forward pass of every variant", self.benchmark_all
        )
        self.cancel_button = self._button("Cancel", "Stop the timings", self.cancel_benchmark)
        self.cancel_button.setEnabled(False)
        actions.addWidget(self.bench_button)
        actions.addWidget(self.cancel_button)
        actions.addWidget(self.progress)
        actions.addStretch(1)
        files = QToolButton(text="File", popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        file_menu = QMenu(files)
        file_menu.addAction("Open comparison…", self.open_file)
        file_menu.addAction("Save comparison as…", self.save_file)
        file_menu.addSeparator()
        for fmt, label in (("csv", "CSV"), ("markdown", "Markdown"), ("json", "JSON")):
            file_menu.addAction(f"Export table as {label}…", lambda f=fmt: self.export_table(f))
        files.setMenu(file_menu)
        actions.addWidget(files)

        self.device_box = QComboBox(
            toolTip="Device for the timings (the devices are found when the tab opens)"
        )
        self.device_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.device_box.setMinimumContentsLength(16)
        self.device_box.currentIndexChanged.connect(lambda _index: self._show_device_tip())
        self.device_box.addItem("auto", "auto")
        self.device_box.addItem("cpu", "cpu")
        self.batch_box = QSpinBox(
            minimum=1, maximum=4096, value=1, prefix="batch ", toolTip="Images per forward pass"
        )
        self.iterations_box = QSpinBox(
            minimum=1, maximum=1000, value=10, suffix=" iters", toolTip="Timed passes"
        )
        self.threads_box = QSpinBox(
            minimum=0,
            maximum=1024,
            value=0,
            prefix="threads ",
            toolTip="torch's CPU thread count for the timings",
        )
        self.threads_box.setSpecialValueText("threads: default")
        # Wraps in a narrow window instead of widening the page.
        options = FlowLayout()
        device = QHBoxLayout()
        device.setContentsMargins(0, 0, 0, 0)
        device.addWidget(QLabel("Timing on"))
        device.addWidget(self.device_box)
        options.addWidget(QWidget(layout=device))
        for widget in (self.batch_box, self.iterations_box, self.threads_box):
            options.addWidget(widget)
        rows = QVBoxLayout()
        rows.setSpacing(4)
        rows.addLayout(actions)
        rows.addLayout(options)
        return rows

    def _spec_error_changed(self, error: object) -> None:
        self.add_current_button.setEnabled(error is None)

    # Showing

    def event(self, event: QEvent) -> bool:
        # Another window may have saved the shared comparison meanwhile.
        if event.type() == QEvent.Type.WindowActivate:
            self.workspace.reload()
        return super().event(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.runner.discover()

    def _list_devices(self, machine: Machine) -> None:
        # Filling the list in is not the person's choice: nothing is stored meanwhile.
        settings, self._settings = self._settings, None
        chosen = self.device_box.currentData()
        self.device_box.clear()
        self.device_box.addItem(f"auto ({machine.devices[0].key})", "auto")
        self.device_box.setItemData(0, f"the fastest found: {machine.devices[0].full_label}", TIP)
        for device in machine.devices:
            self.device_box.addItem(device.label, device.key)
            self.device_box.setItemData(self.device_box.count() - 1, device.full_label, TIP)
        self.device_box.view().setMinimumWidth(self.device_box.view().sizeHintForColumn(0) + 24)
        index = self.device_box.findData(chosen)
        self.device_box.setCurrentIndex(max(index, 0))
        self.threads_box.setMaximum(max(machine.cpu_count, machine.default_threads))
        self.threads_box.setToolTip(
            f"torch's CPU thread count for the timings (its default here: {machine.default_threads})"
        )
        self._choose_wanted_device()
        self._settings = settings

    def _show_device_tip(self) -> None:
        full = self.device_box.currentData(TIP)
        self.device_box.setToolTip(f"Device for the timings: {full or self.device_box.currentText()}")

    @property
    def comparison(self) -> Comparison:
        return self.workspace.comparison

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _refresh(self, comparison: Comparison) -> None:
        current = self.variants.currentRow()
        self.variants.blockSignals(True)
        self.variants.clear()
        for i, variant in enumerate(comparison.variants):
            item = QListWidgetItem(variant.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            if i == comparison.baseline:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
                item.setToolTip("the baseline: every delta is measured against it")
            self.variants.addItem(item)
        self.variants.blockSignals(False)
        if comparison.variants:
            self.variants.setCurrentRow(min(max(current, 0), len(comparison.variants) - 1))
        self.table_model.set_comparison(comparison)
        self.empty_hint.setVisible(not comparison.variants)
        for view in (self._charts, self._diff):
            if view is not None:
                view.set_comparison(comparison)  # type: ignore[attr-defined]
        self.stage_times.set_comparison(comparison)
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.variants.currentRow()
        count = len(self.comparison.variants)
        chosen = 0 <= row < count
        for button in (self.duplicate_button, self.remove_button, self.baseline_button):
            button.setEnabled(chosen)
        self.up_button.setEnabled(chosen and row > 0)
        self.down_button.setEnabled(chosen and row < count - 1)
        self.bench_button.setEnabled(count > 0 and not self.busy)

    def _ensure_view(self, tab: int) -> None:
        # The charts (pyqtgraph) and the diff (graphviz) load only when first opened.
        if tab == 1 and self._charts is None:
            from explorer.gui.panels.compare_charts import ComparisonCharts

            self._charts = ComparisonCharts()
            self._replace_tab(1, self._charts, "Charts")
        elif tab == 2 and self._diff is None:
            from explorer.gui.panels.compare_diff import DiffView

            self._diff = DiffView()
            self._replace_tab(2, self._diff, "Diff")
        view = self._charts if tab == 1 else self._diff if tab == 2 else None
        if view is not None:
            view.set_comparison(self.comparison)  # type: ignore[attr-defined]

    def _replace_tab(self, index: int, widget: QWidget, title: str) -> None:
        self.views.blockSignals(True)
        self.views.removeTab(index)
        self.views.insertTab(index, widget, title)
        self.views.setCurrentIndex(index)
        self.views.blockSignals(False)

    # Editing

    def _apply(self, change: Any) -> None:
        try:
            self.workspace.set(change())
            self.show_message("")
        except ComparisonError as exc:
            self.show_message(str(exc))

    def add_current(self) -> None:
        spec = self.session.spec
        name = preset_name_of(spec) or (self.session.path.stem if self.session.path else "custom")
        self._apply(lambda: self.comparison.add(name, spec))
        self.variants.setCurrentRow(len(self.comparison.variants) - 1)

    def add_preset(self, name: str) -> None:
        self._apply(lambda: self.comparison.add(name, preset(name)))
        self.variants.setCurrentRow(len(self.comparison.variants) - 1)

    def duplicate_selected(self) -> None:
        row = self.variants.currentRow()
        self._apply(lambda: self.comparison.duplicate(row))
        self.variants.setCurrentRow(row + 1)

    def remove_selected(self) -> None:
        row = self.variants.currentRow()
        self._apply(lambda: self.comparison.remove(row))

    def move_selected(self, step: int) -> None:
        row = self.variants.currentRow()
        self._apply(lambda: self.comparison.move(row, row + step))
        self.variants.setCurrentRow(row + step)

    def baseline_selected(self) -> None:
        row = self.variants.currentRow()
        self._apply(lambda: self.comparison.with_baseline(row))

    def rename(self, row: int, name: str) -> None:
        self._apply(lambda: self.comparison.rename(row, name))
        if self.comparison.variants[row].name != name.strip():
            self._refresh(self.comparison)

    def _renamed(self, item: QListWidgetItem) -> None:
        self.rename(self.variants.row(item), item.text())

    # Timing

    @property
    def busy(self) -> bool:
        """This tab's timings are running or waiting their turn."""
        return self.job is not None

    def benchmark_all(self) -> None:
        if not self.comparison.variants or self.busy:
            return
        config = BenchConfig(
            device=self.device_box.currentData() or "auto",
            batch_size=self.batch_box.value(),
            iterations=self.iterations_box.value(),
            warmup=2,
            threads=self.threads_box.value() or None,
        )
        self._timing = list(self.comparison.variants)
        self._timed = []
        self._cancelled = False
        self.crash_report.show_crash(None)
        job = self.runner.run_each(
            [variant.spec for variant in self._timing], config, [variant.name for variant in self._timing]
        )
        self.job = job
        job.status_changed.connect(lambda text: self.show_message(text[:1].upper() + text[1:]))
        job.progressed.connect(self._show_progress)
        job.partial_result.connect(self._take_measurement)
        job.finished.connect(lambda _ran: self._benchmark_finished(""))
        job.failed.connect(self._benchmark_finished)
        job.withdrawn.connect(lambda: self._benchmark_finished(""))
        self.cancel_button.setEnabled(True)
        self.bench_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        waiting = job.state == "queued"
        self.show_message(
            "Waiting for the Benchmark tab's run to end; the timings start after it." if waiting else ""
        )

    def cancel_benchmark(self) -> None:
        if self.job is not None:
            self._cancelled = True
            self.job.cancel()
        self.cancel_button.setEnabled(False)

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        if self.message.text().startswith("Starting"):
            self.show_message("")

    def _take_measurement(self, result: BenchResult) -> None:
        timed = self._timing.pop(0)
        if result.status == "cancelled":
            return
        if not result.ok:
            self.show_message(f"Timing {timed.name} failed: {result.error}")
            return
        # The list may have been edited meanwhile: the figures go to that variant if it is still there.
        for index, variant in enumerate(self.comparison.variants):
            if variant.name == timed.name and variant.spec == timed.spec:
                figures = BenchFigures.from_result(result)
                self._apply(lambda i=index, f=figures: self.comparison.with_bench(i, f))
                self._timed.append(replace(variant, bench=figures))
                return

    def _benchmark_finished(self, error: str) -> None:
        crash = self.job.crash if self.job is not None else None
        cancelled, self._cancelled = self._cancelled, False
        self.job = None
        self._timing = []
        self.progress.hide()
        self.cancel_button.setEnabled(False)
        self._update_buttons()
        self.crash_report.show_crash(crash)
        if crash is not None:
            self.show_message("Timing stopped; the variants timed before the crash keep their figures.")
        elif error:
            self.show_message(f"Timing failed: {error}")
        elif cancelled:
            self.show_message("Timing cancelled; the variants timed so far keep their figures.")
        else:
            self.show_message(timing_warning(self._timed))

    # Files

    def confirm_replace(self, path: str, count: int) -> bool:
        answer = QMessageBox.question(
            self,
            "Replace the comparison?",
            f"Opening {Path(path).name} replaces the {count} variant(s) being compared.",
            QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Open

    def open_file(self, path: str | None = None) -> bool:
        """Show the comparison in ``path``; True once it is shown."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open comparison", "", COMPARISON_FILTER)
            if not path:
                return False
        try:
            comparison = Comparison.load(path)
        except ComparisonError as exc:
            self.show_message(str(exc))
            return False
        if self.comparison.variants and not self.confirm_replace(path, len(self.comparison.variants)):
            return False
        self._apply(lambda: comparison)
        return True

    def save_file(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self,
                "Save comparison",
                suggested_name(None, COMPARISON_SUFFIX, "comparison"),
                COMPARISON_FILTER,
            )
            if not path:
                return
            # A name the desktop recognises as a comparison (NAME.resnet-compare.json).
            path = str(named_as(Path(path), COMPARISON_SUFFIX))
        try:
            self.comparison.save(path)
        except OSError as exc:
            self.show_message(f"Could not save {path}: {describe_error(exc)}")

    def export_table(self, fmt: str, path: str | None = None) -> None:
        suffix = {"csv": "csv", "markdown": "md", "json": "json"}[fmt]
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export comparison", f"comparison.{suffix}", f"*.{suffix}"
            )
            if not path:
                return
        try:
            atomic_write_text(Path(path), COMPARISON_FORMATTERS[fmt](self.comparison))
        except OSError as exc:
            self.show_message(f"Could not export to {path}: {describe_error(exc)}")
