"""The Benchmark tab's charts: one run's latency per iteration and its histogram, and a
batch sweep's throughput and latency per batch size.

During a run the latency charts grow batch by batch (``add_samples``); the finished
result then redraws them from its own samples, the median marked."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget

from explorer.core.benchtypes import BenchResult
from explorer.gui.panels.bench_result import format_ms
from explorer.gui.panels.charts import HumanAxis

LATENCY_COLOUR = "#4e79a7"
MEDIAN_COLOUR = "#c62828"
THROUGHPUT_COLOUR = "#59a14f"
HISTOGRAM_BINS = 20
MAX_SYMBOLS = 60  # more points than this are a line only
CHART_HEIGHT = 220
SERIES_TITLE = "Latency per iteration"


def histogram(
    values: Sequence[float] | np.ndarray, bins: int = HISTOGRAM_BINS
) -> tuple[list[float], list[int]]:
    """Bin edges (``bins + 1`` of them, or 2 when every value is the same) and counts."""
    # Counted by numpy: a long run's tens of thousands of samples are binned ten
    # times a second on the GUI thread while it runs.
    array = np.asarray(values, dtype=np.float64)
    low, high = float(array.min()), float(array.max())
    if high <= low:
        return [low - 0.5, low + 0.5], [len(array)]
    count = max(1, min(bins, len(array)))
    width = (high - low) / count
    edges = [low + i * width for i in range(count)] + [high]
    index = np.minimum(((array - low) / width).astype(np.int64), count - 1)
    return edges, [int(n) for n in np.bincount(index, minlength=count)]


class _BatchAxis(pg.AxisItem):
    """Batch sizes on a log2 scale, labelled 1, 2, 4, ... rather than 0, 1, 2."""

    def tickStrings(self, values, scale, spacing):  # type: ignore[no-untyped-def]
        return [f"{2**value:g}" if float(value).is_integer() else "" for value in values]

    def tickValues(self, minVal, maxVal, size):  # type: ignore[no-untyped-def]
        low, high = math.ceil(minVal), math.floor(maxVal)
        return [(1.0, [float(v) for v in range(low, high + 1)])]


class _CountAxis(pg.AxisItem):
    """Counts: whole-number ticks only, however few the iterations."""

    def tickValues(self, minVal, maxVal, size):  # type: ignore[no-untyped-def]
        levels = [
            (spacing, [value for value in values if float(value).is_integer()])
            for spacing, values in super().tickValues(minVal, maxVal, size)
            if spacing >= 1
        ]
        if levels:
            return levels
        return [(1.0, [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)])]


def _title(text: str, note: str = "") -> str:
    title = f"<span style='font-size:10pt; font-weight:600'>{text}</span>"
    if note:
        title += f"<span style='font-size:9pt; color:{MEDIAN_COLOUR}'>&nbsp;&nbsp;{note}</span>"
    return title


def _plot(
    canvas: pg.GraphicsLayoutWidget, column: int, title: str, y_unit: str, x_unit: str, **axes: pg.AxisItem
) -> pg.PlotItem:
    plot = canvas.addPlot(row=0, col=column, axisItems=axes or None)
    plot.setTitle(_title(title))
    plot.setLabel("left", y_unit)
    plot.setLabel("bottom", x_unit)
    plot.showGrid(x=False, y=True, alpha=0.25)
    plot.setMenuEnabled(False)
    plot.getAxis("left").enableAutoSIPrefix(False)
    return plot


def _configure() -> None:
    pg.setConfigOptions(antialias=True, background="w", foreground="#344054")


class _Canvas(pg.GraphicsLayoutWidget):
    # pyqtgraph asks for 600x480; the charts take the room left under the result card
    # instead of making the tab taller than the window (the tab would scroll).
    def sizeHint(self) -> QSize:
        return QSize(480, CHART_HEIGHT)


class ChartPage(QStackedWidget):
    """A chart, or a hint in its place while it has nothing to show."""

    def __init__(self, chart: QWidget, hint: str) -> None:
        super().__init__()
        self.hint = QLabel(hint, objectName="Hint", wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
        self.chart = chart
        self.empty_text = hint
        self.addWidget(self.hint)
        self.addWidget(chart)

    def show_chart(self, shown: bool, waiting: str = "") -> None:
        """The chart, or the hint (``waiting`` in its place while a run is under way)."""
        self.hint.setText(waiting or self.empty_text)
        self.setCurrentWidget(self.chart if shown else self.hint)

    def sizeHint(self) -> QSize:
        return self.chart.sizeHint()


class LatencyCharts(_Canvas):
    """Per-iteration latency with the median marked, and the histogram of the same samples."""

    def __init__(self) -> None:
        _configure()
        super().__init__()
        self.ci.setSpacing(12)
        self.series_plot = _plot(self, 0, SERIES_TITLE, "ms per batch", "timed iteration")
        self.histogram_plot = _plot(
            self, 1, "Latency histogram", "iterations", "ms per batch", left=_CountAxis("left")
        )
        self.samples_ms: list[float] = []
        self.series_curve: pg.PlotDataItem | None = None
        self._histogram_curve: pg.PlotDataItem | None = None

    def show_result(self, result: BenchResult | None) -> None:
        """The finished run's samples, or nothing."""
        stats = None if result is None else result.stats
        self._reset()
        if stats is None:
            return
        self.samples_ms = [s * 1e3 for s in stats.samples_s]
        self._draw_samples()
        median_ms = stats.median_s * 1e3
        # The median is named in the title, in the line's colour: a label on the line
        # would sit on the data, which runs along the median.
        self.series_plot.setTitle(_title(SERIES_TITLE, f"- - median {format_ms(stats.median_s)}"))
        self.series_plot.addItem(
            pg.InfiniteLine(pos=median_ms, angle=0, pen=pg.mkPen(MEDIAN_COLOUR, style=Qt.PenStyle.DashLine))
        )
        self.histogram_plot.addItem(
            pg.InfiniteLine(pos=median_ms, angle=90, pen=pg.mkPen(MEDIAN_COLOUR, style=Qt.PenStyle.DashLine))
        )

    def start_live(self) -> None:
        """Empty charts for a run whose samples are about to arrive."""
        self._reset()

    def add_samples(self, samples_s: Sequence[float]) -> None:
        """The next timed iterations of the running run, in seconds."""
        self.samples_ms.extend(s * 1e3 for s in samples_s)
        if self.samples_ms:
            self._draw_samples()

    def _reset(self) -> None:
        self.series_plot.setTitle(_title(SERIES_TITLE))
        self.series_plot.clear()
        self.histogram_plot.clear()
        self.samples_ms = []
        self.series_curve = None
        self._histogram_curve = None

    def _draw_samples(self) -> None:
        # The curves are made once and then only given new data, so a live run's
        # redraws cost one numpy pass over the samples, not new plot items.
        count = len(self.samples_ms)
        ys = np.asarray(self.samples_ms)
        xs = np.arange(1, count + 1)
        symbol = "o" if count <= MAX_SYMBOLS else None
        if self.series_curve is None:
            self.series_curve = self.series_plot.plot(
                pen=pg.mkPen(LATENCY_COLOUR, width=1.5),
                symbolSize=5,
                symbolBrush=LATENCY_COLOUR,
                symbolPen=None,
            )
        if self.series_curve.opts["symbol"] != symbol:
            self.series_curve.setSymbol(symbol)
        self.series_curve.setData(xs, ys)
        # A few iterations get a tick each; more get pyqtgraph's own spacing.
        ticks = [[(x, str(x)) for x in range(1, count + 1)]] if count <= 12 else None
        self.series_plot.getAxis("bottom").setTicks(ticks)
        self.series_plot.setYRange(0, float(ys.max()) * 1.15, padding=0)
        self.series_plot.setXRange(0.5, count + 0.5, padding=0)
        edges, counts = histogram(ys)
        if self._histogram_curve is None:
            self._histogram_curve = self.histogram_plot.plot(
                stepMode="center", fillLevel=0, brush="#4e79a780", pen=pg.mkPen(LATENCY_COLOUR)
            )
        self._histogram_curve.setData(edges, counts)
        self.histogram_plot.setYRange(0, max(counts) * 1.15, padding=0)


class SweepCharts(_Canvas):
    """Throughput and median latency against the batch size, one point per size that ran."""

    def __init__(self) -> None:
        _configure()
        super().__init__()
        self.ci.setSpacing(12)
        self.throughput_plot = _plot(
            self,
            0,
            "Throughput",
            "images / s",
            "batch size",
            left=HumanAxis("left"),
            bottom=_BatchAxis("bottom"),
        )
        self.latency_plot = _plot(
            self, 1, "Latency (median)", "ms per batch", "batch size", bottom=_BatchAxis("bottom")
        )
        self.points: list[BenchResult] = []

    def clear_points(self) -> None:
        self.points = []
        self._draw()

    def add_point(self, result: BenchResult) -> None:
        if result.ok and result.stats is not None:
            self.points.append(result)
            self._draw()

    def _draw(self) -> None:
        self.throughput_plot.clear()
        self.latency_plot.clear()
        if not self.points:
            return
        xs = [math.log2(point.batch_size) for point in self.points]
        throughput = [point.images_per_s or 0.0 for point in self.points]
        latency = [point.latency_ms or 0.0 for point in self.points]
        for plot, ys, colour in (
            (self.throughput_plot, throughput, THROUGHPUT_COLOUR),
            (self.latency_plot, latency, LATENCY_COLOUR),
        ):
            plot.plot(
                xs,
                ys,
                pen=pg.mkPen(colour, width=2),
                symbol="o",
                symbolSize=7,
                symbolBrush=colour,
                symbolPen=None,
            )
            plot.setYRange(0, max(ys) * 1.15 or 1, padding=0)
            plot.setXRange(min(xs) - 0.3, max(xs) + 0.3, padding=0)
