"""Charts of a Comparison: per-stage params and MACs as grouped bars, and the cost of
each variant against its measured latency with the Pareto front marked."""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters as exporters
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QResizeEvent
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from explorer.core.analysis import analyze
from explorer.core.compare import Comparison, pareto_front
from explorer.core.units import format_count
from explorer.gui.panels.charts import HumanAxis
from explorer.gui.plain_text import as_written, plain, rich_text

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
FRONT_COLOUR = "#c62828"
# Below this height the three charts would be squeezed flat: the pane scrolls instead.
MIN_CANVAS_HEIGHT = 560
LEGEND_NAME_CHARS = 28  # longer names are cut in the legend (the scatter shows them whole)
LABEL_GAP_PX = 9.0  # between a marker's centre and its label
LABEL_RINGS = 8  # how far (in label heights) a label may move away from a crowd
LEADER_COLOUR = "#98a2b3"

Box = tuple[float, float, float, float]  # left, bottom, right, top in view units


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def label_spots(width: float, height: float, gap: float) -> list[tuple[float, float]]:
    """Where a label's top-left corner may go, relative to its point (pixels, y up), the
    nearest first: beside the point, above or below it, then further out on every side."""
    columns = (gap, -gap - width, -width / 2, 2 * gap + width, -2 * gap - 2 * width)
    rows = [height / 2 + ring * height for ring in range(-LABEL_RINGS, LABEL_RINGS + 1)]
    rows += [gap + height, -gap]  # just above, just below

    def distance(spot: tuple[float, float]) -> float:
        centre_x, centre_y = spot[0] + width / 2, spot[1] - height / 2
        return max(abs(centre_x) - width / 2, 0) ** 2 + max(abs(centre_y) - height / 2, 0) ** 2

    return sorted(((x, y) for x in columns for y in rows), key=distance)


def legend_name(name: str) -> str:
    return name if len(name) <= LEGEND_NAME_CHARS else name[: LEGEND_NAME_CHARS - 1] + "…"


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


class ComparisonCharts(QWidget):
    def __init__(self) -> None:
        super().__init__()
        pg.setConfigOptions(antialias=True, background="w", foreground="#344054")
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.ci.setSpacing(16)
        self.params_plot = self._plot(0, 0, "Parameters per stage", "parameters")
        self.macs_plot = self._plot(0, 1, "MACs per stage (per image)", "MACs")
        # One legend for every chart, in a row of its own so it never covers the bars.
        self.legend = pg.LegendItem(colCount=5, labelTextSize="9pt", horSpacing=18)
        self.canvas.addItem(self.legend, row=1, col=0, colspan=2)
        self.scatter_plot = self._plot(2, 0, "Compute against measured latency", "latency (ms)", colspan=2)
        self.canvas.ci.layout.setRowStretchFactor(0, 2)
        self.canvas.ci.layout.setRowStretchFactor(2, 3)
        self.x_metric = QComboBox(toolTip="What the scatter plots on its horizontal axis")
        self.x_metric.addItems(["MACs", "Params"])
        self.x_metric.currentTextChanged.connect(lambda _text: self.set_comparison(self._comparison))
        self.hint = plain(QLabel(objectName="Hint", wordWrap=True))
        export_png = QPushButton("Export PNG…")
        export_png.clicked.connect(lambda: self.export("png"))
        export_svg = QPushButton("Export SVG…")
        export_svg.clicked.connect(lambda: self.export("svg"))
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Scatter against"))
        controls.addWidget(self.x_metric)
        controls.addStretch(1)
        controls.addWidget(export_png)
        controls.addWidget(export_svg)
        self.canvas.setMinimumHeight(MIN_CANVAS_HEIGHT)
        scroller = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroller.setWidget(self.canvas)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.hint)
        layout.addWidget(scroller, 1)
        self._comparison = Comparison()
        self.front: list[str] = []
        self._labels: list[tuple[pg.TextItem, float, float]] = []
        self._leaders: list[pg.PlotDataItem] = []
        self.scatter_plot.getViewBox().sigResized.connect(self._place_labels)

    def _fit_legend(self) -> None:
        longest = max((len(legend_name(v.name)) for v in self._comparison.variants), default=10)
        column_width = 40 + 7 * longest
        self.legend.setColumnCount(max(1, min(5, (self.canvas.width() - 40) // column_width)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_legend()

    def _plot(self, row: int, column: int, title: str, unit: str, colspan: int = 1) -> pg.PlotItem:
        axes = (
            {"left": HumanAxis("left"), "bottom": HumanAxis("bottom")}
            if colspan > 1
            else {"left": HumanAxis("left")}
        )
        plot = self.canvas.addPlot(row=row, col=column, colspan=colspan, axisItems=axes)
        plot.setTitle(f"<span style='font-size:11pt; font-weight:600'>{title}</span>")
        plot.setLabel("left", unit)
        plot.showGrid(x=False, y=True, alpha=0.25)
        plot.setMenuEnabled(False)
        for side in ("left", "bottom"):
            plot.getAxis(side).enableAutoSIPrefix(False)
        return plot

    def set_comparison(self, comparison: Comparison) -> None:
        self._comparison = comparison
        self.legend.clear()
        self._fit_legend()
        self._grouped_bars(self.params_plot, comparison.stage_series("params"), with_legend=True)
        self._grouped_bars(self.macs_plot, comparison.stage_series("macs"), with_legend=False)
        self._scatter(comparison)

    def _grouped_bars(
        self, plot: pg.PlotItem, series: list[tuple[str, list[int]]], with_legend: bool
    ) -> None:
        plot.clear()
        if not series:
            return
        stages = len(series[0][1])
        width = 0.8 / len(series)
        for i, (name, values) in enumerate(series):
            xs = [stage - 0.4 + width * (i + 0.5) for stage in range(stages)]
            bars = pg.BarGraphItem(
                x=xs, height=values, width=width * 0.92, brush=colour(i), pen=pg.mkPen(colour(i))
            )
            plot.addItem(bars)
            if with_legend:
                self.legend.addItem(bars, rich_text(legend_name(name)))  # the legend's labels are HTML
        plot.getAxis("bottom").setTicks([[(s, f"layer{s + 1}") for s in range(stages)]])
        top = max((max(values) for _, values in series if values), default=1) or 1
        plot.setXRange(-0.6, stages - 0.4, padding=0)
        plot.setYRange(0, top * 1.1, padding=0)

    def _scatter(self, comparison: Comparison) -> None:
        plot = self.scatter_plot
        plot.clear()
        use_macs = self.x_metric.currentText() == "MACs"
        plot.setLabel("bottom", "MACs per image" if use_macs else "parameters")
        timed = [(i, v) for i, v in enumerate(comparison.variants) if v.bench is not None]
        self.front = []
        if not timed:
            self.hint.setText("Run 'Benchmark all' to place the variants against their latency.")
            return
        self.hint.setText(
            "Red: the Pareto front, where no other variant offers more compute at a lower latency."
        )
        points = []
        for _, variant in timed:
            totals = analyze(variant.spec).totals
            cost = totals.macs if use_macs else totals.total_params
            points.append((float(cost), variant.bench.median_ms))  # type: ignore[union-attr]
        front = sorted(pareto_front(points, higher_x_is_better=True), key=lambda k: points[k][0])
        self.front = [timed[k][1].name for k in front]
        # Drawn first so the markers sit on top of it.
        plot.plot(
            [points[k][0] for k in front],
            [points[k][1] for k in front],
            pen=pg.mkPen(FRONT_COLOUR, width=2),
        )
        self._labels = []
        self._leaders = []  # cleared with the plot
        for k, ((i, variant), (x, y)) in enumerate(zip(timed, points, strict=True)):
            outline = pg.mkPen(FRONT_COLOUR, width=2.5) if k in front else pg.mkPen("#1d2939")
            point = pg.ScatterPlotItem([x], [y], size=13, brush=colour(i), pen=outline)
            conditions = variant.bench.conditions()  # type: ignore[union-attr]
            point.setToolTip(
                as_written(f"{variant.name}: {format_count(x)}, {y:.2f} ms\ntimed under: {conditions}")
            )
            plot.addItem(point)
            label = pg.TextItem(variant.name, color="#1d2939")
            label.setPos(x, y)
            plot.addItem(label)
            self._labels.append((label, x, y))
        xs = [x for x, _ in points]
        ys = [y for _, y in points]
        plot.setXRange(-0.04 * max(xs), max(xs) * 1.08 + 1, padding=0)
        plot.setYRange(0, max(ys) * 1.3, padding=0)
        self._place_labels()

    def _place_labels(self) -> None:
        """Each label, left to right, takes the nearest spot by its point that covers no
        marker and no label placed before it; one moved away from its point gets a line."""
        plot = self.scatter_plot
        for leader in self._leaders:
            plot.removeItem(leader)
        self._leaders = []
        x_per_px, y_per_px = plot.getViewBox().viewPixelSize()
        if not x_per_px or not y_per_px:
            return
        (x_low, x_high), (y_low, y_high) = plot.getViewBox().viewRange()
        dot_x, dot_y = 7 * x_per_px, 7 * y_per_px
        # The markers are obstacles too.
        taken: list[Box] = [(x - dot_x, y - dot_y, x + dot_x, y + dot_y) for _, x, y in self._labels]
        for label, x, y in sorted(self._labels, key=lambda item: (item[1], item[2])):
            size = label.textItem.boundingRect()  # pixels: labels ignore the view's scaling
            width, height = size.width() * x_per_px, size.height() * y_per_px
            best: tuple[int, Box] | None = None
            for dx, dy in label_spots(size.width(), size.height(), LABEL_GAP_PX):
                left, top = x + dx * x_per_px, y + dy * y_per_px
                box = (left, top - height, left + width, top)
                inside = x_low <= box[0] and box[2] <= x_high and y_low <= box[1] and box[3] <= y_high
                collisions = sum(_overlap(box, other) for other in taken) + (0 if inside else 100)
                if best is None or collisions < best[0]:
                    best = (collisions, box)
                if collisions == 0:
                    break
            assert best is not None
            collisions, box = best
            taken.append(box)
            label.setAnchor((0, 0))
            label.setPos(box[0], box[3])
            gap_x = max(box[0] - x, x - box[2], 0) / x_per_px
            gap_y = max(box[1] - y, y - box[3], 0) / y_per_px
            if collisions or max(gap_x, gap_y) > 2 * LABEL_GAP_PX:  # away from its point
                self._leaders.append(self._leader(x, y, box))

    def _leader(self, x: float, y: float, box: Box) -> pg.PlotDataItem:
        """A thin line from a point to its label, drawn under the markers."""
        end_x = min(max(x, box[0]), box[2])
        end_y = min(max(y, box[1]), box[3])
        line = pg.PlotDataItem([x, end_x], [y, end_y], pen=pg.mkPen(LEADER_COLOUR, width=1))
        line.setZValue(-1)
        self.scatter_plot.addItem(line)
        return line

    def export(self, fmt: str, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export charts", f"comparison-charts.{fmt}", f"*.{fmt}"
            )
            if not path:
                return
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if fmt == "png":
            exporter = exporters.ImageExporter(self.canvas.scene())
            exporter.parameters()["width"] = max(1200, int(self.canvas.width() * 1.5))
            exporter.export(str(path))
        else:
            # pyqtgraph's own SVG exporter cannot parse the paths recent Qt writes; Qt's generator can.
            self._export_svg(Path(path))

    def _export_svg(self, path: Path) -> None:
        scene = self.canvas.scene()
        rect = scene.sceneRect()
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(rect.size().toSize())
        generator.setViewBox(rect)
        generator.setTitle("resnet-explorer comparison")
        painter = QPainter(generator)
        try:
            scene.render(painter, rect, rect)
        finally:
            painter.end()
