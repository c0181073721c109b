"""The Benchmark tab: time the forward pass of the architecture being edited.

The devices are found on a worker thread the first time the tab is shown (that is
when torch is imported, never on the GUI thread). Runs and sweeps run on a worker
too; Cancel is honoured before the next iteration, and closing the window cancels.
A run's latency chart fills as its iterations are timed, twice a second.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, Qt
from PySide6.QtGui import QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from explorer.core.benchtypes import NOISY_SPREAD, BenchError, BenchResult, SweepResult
from explorer.core.compare import BenchFigures
from explorer.core.files import atomic_write_text
from explorer.core.presets import preset_name_of, spec_title
from explorer.core.render.bench_text import noise_text, result_text, sweep_text
from explorer.core.units import format_shape
from explorer.core.wording import counted
from explorer.gui.bench_runner import STARTING_TEXT, BenchJob, Machine, shared_runner
from explorer.gui.crash_report import CrashReport
from explorer.gui.panels.bench_charts import CHART_HEIGHT, ChartPage, LatencyCharts, SweepCharts
from explorer.gui.panels.bench_options import BenchOptions
from explorer.gui.panels.bench_result import ResultCard
from explorer.gui.plain_text import plain
from explorer.gui.session import Session
from explorer.gui.style import repolish
from explorer.gui.workers import describe_error
from explorer.gui.workspace import Workspace, workspace_of

ERROR_TITLES = {
    "insufficient-memory": "Not enough memory",
    "out-of-memory": "Out of memory",
    "device": "Device error",
}
PANEL_STYLE = """
QLabel#BenchMessage { padding: 6px 10px; border-radius: 6px; }
QLabel#BenchMessage[level="error"] { background: #fdecea; border: 1px solid #d93025; color: #8c1d18; }
QLabel#BenchMessage[level="notice"] { background: #fff4e5; border: 1px solid #f0b429; color: #5f370e; }
QLabel#BenchTitle { font-size: 13px; font-weight: 600; color: #101828; }
QLabel#ReproCard { background: #f7f9fc; color: #344054; padding: 6px 8px; font-size: 11px; }
"""


class BenchmarkPanel(QWidget):
    def __init__(self, session: Session, workspace: Workspace | None = None) -> None:
        super().__init__()
        self.session = session
        self._workspace = workspace
        self.setStyleSheet(PANEL_STYLE)
        self.runner = shared_runner(session)
        self.runner.machine_found.connect(self._show_machine)
        self.runner.discovery_failed.connect(self._discovery_failed)
        self.job: BenchJob | None = None  # this tab's, queued or running
        self.result: BenchResult | None = None
        self.sweep_result: SweepResult | None = None
        self._watching_window: QWidget | None = None
        self._live = False  # the latency charts show the running run's samples
        self.timing = False  # a run or sweep was asked for and has not ended

        self.title = QLabel(objectName="BenchTitle", wordWrap=True)
        self.error = plain(QLabel(objectName="BenchMessage", wordWrap=True))
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        self.crash_report = CrashReport()
        # Apart from errors: a noisy run still has its figures, and they stay on show.
        self.noise = QLabel(objectName="BenchMessage", wordWrap=True, visible=False)
        self.noise.setProperty("level", "notice")
        self.status = plain(QLabel(objectName="Hint", wordWrap=True))
        self.card = ResultCard()
        self.latency_charts = LatencyCharts()
        self.sweep_charts = SweepCharts()
        self.latency_page = ChartPage(
            self.latency_charts, "Run to see the latency of every timed iteration and their histogram."
        )
        self.sweep_page = ChartPage(
            self.sweep_charts,
            "Sweep to see throughput and latency at batch sizes 1, 2, 4, … up to the limit.",
        )
        self.charts = QTabWidget(objectName="BenchCharts")
        self.charts.addTab(self.latency_page, "Latency")
        self.charts.addTab(self.sweep_page, "Batch sweep")
        self.charts.setMinimumHeight(CHART_HEIGHT)

        right = QVBoxLayout()
        right.setSpacing(6)
        right.addWidget(self.title)
        right.addWidget(self.error)
        right.addWidget(self.crash_report)
        right.addWidget(self.noise)
        right.addWidget(self.card)
        right.addLayout(self._result_actions())
        right.addWidget(self.charts, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(10)
        layout.addWidget(self._options(), 0)
        layout.addLayout(right, 1)

        session.spec_changed.connect(lambda _spec: self._update_title())
        self._update_title()
        self._show_result(None)
        self._update_buttons()
        if self.runner.machine is not None:  # found already, for another tab
            self._show_machine(self.runner.machine)
        elif self.runner.discovery_problem:
            self._discovery_failed(self.runner.discovery_problem)

    # Building

    def _options(self) -> QWidget:
        box = QGroupBox("Run")
        box.setFixedWidth(256)
        self.options = BenchOptions()
        self.run_button = QPushButton(
            "Run", toolTip="Time a forward pass or a training step (Ctrl+Return)", default=True
        )
        self.run_button.setShortcut("Ctrl+Return")
        self.run_button.clicked.connect(self.run)
        self.sweep_button = QPushButton("Sweep", toolTip="Time batch sizes 1, 2, 4, ... up to the limit")
        self.sweep_button.clicked.connect(self.sweep)
        self.cancel_button = QPushButton("Cancel", toolTip="Stop after the current iteration")
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        for button in (self.run_button, self.sweep_button, self.cancel_button):
            buttons.addWidget(button)
        self.progress = QProgressBar(textVisible=True)
        self.progress.setFormat("%v / %m")
        self.progress.hide()
        # The buttons and what they are doing first: in a low window, where the options
        # scroll, they stay in sight.
        column = QVBoxLayout(box)
        column.addLayout(buttons)
        column.addWidget(self.progress)
        column.addWidget(self.status)
        column.addWidget(self.options)
        column.addStretch(1)
        return box

    def _result_actions(self) -> QHBoxLayout:
        self.add_button = QPushButton(
            "Add to comparison", toolTip="Put this spec and its timing in the Compare tab"
        )
        self.add_button.clicked.connect(self.add_to_comparison)
        self.export_button = QToolButton(
            text="Copy / export", popupMode=QToolButton.ToolButtonPopupMode.InstantPopup
        )
        menu = QMenu(self.export_button)
        menu.addAction("Copy result as text", lambda: self.copy_result("text"))
        menu.addAction("Copy result as JSON", lambda: self.copy_result("json"))
        menu.addAction("Save result as JSON…", lambda: self.save_result("json"))
        menu.addAction("Save result as text…", lambda: self.save_result("text"))
        menu.addSeparator()
        self.sweep_actions = [
            menu.addAction("Copy sweep as text", lambda: self.copy_sweep()),
            menu.addAction("Save sweep as JSON…", lambda: self.save_sweep()),
        ]
        self.export_button.setMenu(menu)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.export_button)
        row.addStretch(1)
        return row

    # Devices

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.runner.discover()
        if self.runner.discovering and self.job is None:
            self.status.setText(STARTING_TEXT[:1].upper() + STARTING_TEXT[1:])
        window = self.window()
        if window is not self and window is not self._watching_window:
            window.installEventFilter(self)
            self._watching_window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Closing the window cancels a run, so its workers end within one iteration.
        if watched is self._watching_window and event.type() == QEvent.Type.Close:
            self.runner.cancel_all()
        return False

    @property
    def busy(self) -> bool:
        """A run or sweep of this tab is running or waiting its turn."""
        return self.job is not None

    def is_ready(self) -> bool:
        """The devices are known (or known to be unavailable) and nothing of this tab's is running."""
        found = self.runner.machine is not None or bool(self.runner.discovery_problem)
        return found and not self.busy

    def use_settings(self, settings: QSettings) -> None:
        """Show the run options stored in ``settings`` and store every later change there."""
        self.options.use_settings(settings)

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = workspace_of(self.session)
        return self._workspace

    def _show_machine(self, machine: Machine) -> None:
        self.options.show_machine(machine)
        self.show_error("")  # an earlier try's failure to find them
        found = counted(len(machine.devices), "device")
        self.status.setText(f"torch {machine.torch_version}; {found} found.")
        self._update_buttons()

    def _discovery_failed(self, message: str) -> None:
        self.options.show_no_devices()
        self.show_error(f"torch could not be loaded, so nothing can be timed: {message}")
        self._update_buttons()

    # Running

    def run(self) -> None:
        self._start(sweep=False)

    def sweep(self) -> None:
        self._start(sweep=True)

    def _start(self, sweep: bool) -> None:
        if self.busy or self.options.device() is None:
            return
        try:
            config = self.options.config()
        except BenchError as exc:
            self.show_error(str(exc))
            return
        spec = self.session.spec
        self.show_error("")
        self.show_noise("")
        self.crash_report.show_crash(None)
        # The last run's figures go: next to a run being timed they would pass for its own.
        self._show_result(None)
        self.timing = True
        if sweep:
            self.sweep_result = None
            self.sweep_charts.clear_points()
            self.sweep_page.show_chart(False, "Sweeping… each batch size appears here as it is timed.")
            self.charts.setCurrentWidget(self.sweep_page)
            job = self.runner.sweep(spec, config, self.options.sweep_sizes())
        else:
            self.charts.setCurrentWidget(self.latency_page)
            self._live = False
            self.latency_page.show_chart(False, "Timing… each iteration appears here as it is timed.")
            job = self.runner.run(spec, config)
        self.job = job
        job.started.connect(lambda: self._job_started(sweep))
        job.status_changed.connect(self._show_status)
        job.progressed.connect(self._show_progress)
        job.samples_timed.connect(self._take_samples)
        job.partial_result.connect(self._take_sweep_point)
        job.finished.connect(self._finished)
        job.failed.connect(self._job_failed)
        job.withdrawn.connect(self._withdrawn)
        self.progress.setRange(0, 0)  # busy until the model is built and the first pass is done
        self.progress.show()
        if job.state == "running":
            self._job_started(sweep)
        else:
            self.status.setText("Waiting for the Compare tab's timing to end; this one starts after it.")
        self._update_title()
        self._update_buttons()

    def _show_status(self, text: str) -> None:
        self.status.setText(text[:1].upper() + text[1:])

    def _job_started(self, sweep: bool) -> None:
        self.status.setText("Building the model…" if not sweep else "Sweeping batch sizes…")

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            if self.job is not None:
                self.status.setText("Cancelling after the current iteration…")
            self._update_buttons()

    def _withdrawn(self) -> None:
        self._job_over()
        self.progress.hide()
        self.latency_page.show_chart(False)
        self.sweep_page.show_chart(bool(self.sweep_charts.points))
        self.status.setText("Cancelled before it started; nothing was timed.")
        self._update_title()
        self._update_buttons()

    def _job_over(self) -> None:
        self.job = None
        self.timing = False

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(min(done, total))
        if self.job is not None and not self.job.cancelling:
            self.status.setText("Timing…")

    def _take_samples(self, samples: list[float]) -> None:
        if not self._live:
            self._live = True
            self.latency_charts.start_live()
            self.latency_page.show_chart(True)
        self.latency_charts.add_samples(samples)

    def _take_sweep_point(self, result: BenchResult) -> None:
        self.sweep_charts.add_point(result)
        self.sweep_page.show_chart(bool(self.sweep_charts.points))
        if result.ok:
            self._show_result(result)

    def _finished(self, outcome: object) -> None:
        self._job_over()
        self.progress.hide()
        if isinstance(outcome, SweepResult):
            self.sweep_result = outcome
            self._sweep_finished(outcome)
        elif isinstance(outcome, BenchResult):
            self._run_finished(outcome)
        else:  # cancelled mid-pass: the worker process was ended with it
            self.latency_page.show_chart(False)
            self.sweep_page.show_chart(bool(self.sweep_charts.points))
            self.status.setText("Cancelled; the run was ended mid-pass and nothing was kept.")
            self._update_title()
        self._update_buttons()

    def _run_finished(self, result: BenchResult) -> None:
        if result.status == "error":
            self._show_result(None)
            self.show_error(error_message(result))
            self.status.setText("The run failed; nothing else was affected.")
            return
        self._show_result(result)
        noise = noise_text(result)
        if noise:
            self.show_noise(noise[:1].upper() + noise[1:] + ".")
        timed = len(result.stats.samples_s) if result.stats is not None else 0
        if result.status == "cancelled" and not timed:
            self.status.setText("Cancelled during the warm-up; nothing was timed.")
        elif result.status == "cancelled":
            done = counted(timed, "timed iteration")
            self.status.setText(f"Cancelled after {done}; figures below are partial.")
        else:
            self.status.setText(f"Done: {counted(timed, 'timed iteration')}.")

    def _sweep_finished(self, sweep: SweepResult) -> None:
        stopped = sweep.stopped_by
        sizes = ", ".join(str(point.batch_size) for point in sweep.points) or "none"
        noisy = [str(point.batch_size) for point in sweep.points if noise_text(point)]
        if noisy:
            self.show_noise(
                f"Noisy timings at batch {', '.join(noisy)}: an IQR above {NOISY_SPREAD:.0%} of the median; "
                "other work was running. Sweep again for figures to trust."
            )
        if stopped is None:
            self.status.setText(f"Sweep done: batch sizes {sizes}.")
        elif stopped.status == "cancelled":
            self.status.setText(f"Sweep cancelled at batch {stopped.batch_size}; timed: {sizes}.")
        else:
            self.show_error(
                f"Sweep stopped at batch {stopped.batch_size}. {error_message(stopped)}", notice=True
            )
            self.status.setText(f"Sweep timed batch sizes {sizes}.")

    def _job_failed(self, message: str) -> None:
        crash = self.job.crash if self.job is not None else None
        self._job_over()
        self.progress.hide()
        self.crash_report.show_crash(crash)
        self.show_error("" if crash is not None else message)
        self.status.setText("")
        self.latency_page.show_chart(False)
        self.sweep_page.show_chart(bool(self.sweep_charts.points))
        self._update_title()
        self._update_buttons()

    # Showing

    def show_noise(self, text: str) -> None:
        self.noise.setText(text)
        self.noise.setVisible(bool(text))

    def show_error(self, text: str, notice: bool = False) -> None:
        self.error.setProperty("level", "notice" if notice else "error")
        repolish(self.error)
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _show_result(self, result: BenchResult | None) -> None:
        self.result = result
        self.card.show_result(result)
        self.latency_charts.show_result(result)
        self.latency_page.show_chart(result is not None and result.stats is not None)
        self._update_title()
        self._update_buttons()

    def _update_title(self) -> None:
        shown = self.result.spec if self.result is not None else self.session.spec
        text = f"{spec_title(shown)}, input {format_shape(shown.input_shape)}"
        if self.result is None:
            text += " — timing…" if self.timing else " — not timed yet"
        elif self.result.status == "cancelled" and self.result.stats is None:
            text += " — cancelled during the warm-up"
        elif self.result.status == "cancelled":
            text += " — cancelled"
        if self.result is not None and self.result.spec != self.session.spec:
            text += " (the architecture has changed since)"
        self.title.setText(text)

    def _update_buttons(self) -> None:
        busy = self.busy
        can_run = not busy and self.options.device() is not None
        self.run_button.setEnabled(can_run)
        self.sweep_button.setEnabled(can_run)
        self.cancel_button.setEnabled(self.job is not None and not self.job.cancelling)
        has_result = self.result is not None
        self.add_button.setEnabled(has_result and self.result is not None and self.result.ok)
        self.export_button.setEnabled(has_result or self.sweep_result is not None)
        for action in self.sweep_actions:
            action.setEnabled(self.sweep_result is not None)
        self.options.set_running(busy)

    # Results elsewhere

    def add_to_comparison(self) -> None:
        result = self.result
        if result is None or not result.ok:
            return
        figures = BenchFigures.from_result(result)
        comparison = self.workspace.comparison
        same = [i for i, variant in enumerate(comparison.variants) if variant.spec == result.spec]
        if same:
            index = same[0]
            verb = "updated"
        else:
            comparison = comparison.add(preset_name_of(result.spec) or "custom", result.spec)
            index = len(comparison.variants) - 1
            verb = "added"
        # A training step's time goes to its own column, beside the forward pass's latency.
        if result.training:
            updated = comparison.with_train_bench(index, figures)
        else:
            updated = comparison.with_bench(index, figures)
        self.workspace.set(updated)
        what = "Training step time" if result.training else "Timing"
        self.status.setText(f"{what} {verb} in the Compare tab as “{updated.variants[index].name}”.")

    def copy_result(self, fmt: str) -> None:
        if self.result is not None:
            text = self.result.to_json() + "\n" if fmt == "json" else result_text(self.result)
            QGuiApplication.clipboard().setText(text)
            self.status.setText(f"Result copied as {fmt}, with its reproducibility card.")

    def copy_sweep(self) -> None:
        if self.sweep_result is not None:
            QGuiApplication.clipboard().setText(sweep_text(self.sweep_result))
            self.status.setText("Sweep copied as text.")

    def save_result(self, fmt: str, path: str | None = None) -> None:
        if self.result is None:
            return
        text = self.result.to_json() + "\n" if fmt == "json" else result_text(self.result)
        self._save(text, path, "benchmark.json" if fmt == "json" else "benchmark.txt")

    def save_sweep(self, path: str | None = None) -> None:
        if self.sweep_result is not None:
            import json

            self._save(json.dumps(self.sweep_result.to_dict(), indent=2) + "\n", path, "sweep.json")

    def _save(self, text: str, path: str | None, suggested: str) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save benchmark", suggested)
            if not path:
                return
        try:
            atomic_write_text(Path(path), text)
        except OSError as exc:
            self.show_error(f"Could not save {path}: {describe_error(exc)}")
            return
        self.status.setText(f"Saved {path}.")


def error_message(result: BenchResult) -> str:
    text = result.error or result.status
    if result.error_kind == "out-of-memory":
        return text[:1].upper() + text[1:]  # it already begins "out of memory on …"
    return f"{ERROR_TITLES.get(result.error_kind or '', 'Error')}: {text}"
