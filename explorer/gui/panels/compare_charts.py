"""Charts of a Comparison: per-stage params and MACs as grouped bars, and the cost of
each variant against its measured latency with the Pareto front marked."""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters as exporters
from PySide6.QtGui import QPainter, QResizeEvent
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from explorer.core.analysis import analyze
from explorer.core.compare import Comparison, pareto_front
from explorer.core.units import format_count
from explorer.gui.panels.charts import HumanAxis
from explorer.gui.plain_text import as_written, rich_text

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
# Where a label may sit, as TextItem anchors: right of the point, above right, below right,
# then the same on the left, then straight above and below.
_LABEL_ANCHORS = (
    (-0.12, 0.5),
    (-0.05, 1.1),
    (-0.05, -0.1),
    (1.12, 0.5),
    (1.05, 1.1),
    (1.05, -0.1),
    (0.5, 1.4),
    (0.5, -0.4),
)


def _label_box(
    x: float, y: float, anchor: tuple[float, float], width: float, height: float
) -> tuple[float, float, float, float]:
    left = x - anchor[0] * width
    bottom = y - (1 - anchor[1]) * height  # view y grows upwards
    return (left, bottom, left + width, bottom + height)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


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
        self.hint = QLabel(objectName="Hint", wordWrap=True)
        self.hint.setMinimumWidth(120)
        export_png = QPushButton("Export PNG…")
        export_png.clicked.connect(lambda: self.export("png"))
        export_svg = QPushButton("Export SVG…")
        export_svg.clicked.connect(lambda: self.export("svg"))
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Scatter against"))
        controls.addWidget(self.x_metric)
        controls.addWidget(self.hint, 1)
        controls.addWidget(export_png)
        controls.addWidget(export_svg)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.canvas, 1)
        self._comparison = Comparison()
        self.front: list[str] = []
        self._labels: list[tuple[pg.TextItem, float, float]] = []
        self.scatter_plot.getViewBox().sigResized.connect(self._place_labels)

    def _fit_legend(self) -> None:
        longest = max((len(v.name) for v in self._comparison.variants), default=10)
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
                self.legend.addItem(bars, rich_text(name))  # the legend's labels are HTML
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
        for k, ((i, variant), (x, y)) in enumerate(zip(timed, points, strict=True)):
            outline = pg.mkPen(FRONT_COLOUR, width=2.5) if k in front else pg.mkPen("#1d2939")
            point = pg.ScatterPlotItem([x], [y], size=13, brush=colour(i), pen=outline)
            point.setToolTip(as_written(f"{variant.name}: {format_count(x)}, {y:.2f} ms"))
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
        """Greedy placement, left to right: each label takes the spot beside its point that
        collides with the fewest markers and labels placed before it, at the plot's size."""
        view = self.scatter_plot.getViewBox()
        x_per_px, y_per_px = view.viewPixelSize()
        if not x_per_px or not y_per_px:
            return
        (x_low, x_high), (y_low, y_high) = view.viewRange()
        dot_x, dot_y = 8 * x_per_px, 8 * y_per_px
        # The markers are obstacles too.
        taken = [(x - dot_x, y - dot_y, x + dot_x, y + dot_y) for _, x, y in self._labels]
        for label, x, y in sorted(self._labels, key=lambda item: (item[1], item[2])):
            size = label.textItem.boundingRect()  # pixels: labels ignore the view's scaling
            width, height = (size.width() + 4) * x_per_px, size.height() * y_per_px
            # The spot with the fewest collisions; leaving the plot counts as many.
            boxes = [_label_box(x, y, anchor, width, height) for anchor in _LABEL_ANCHORS]
            scores = [
                sum(_overlap(box, other) for other in taken)
                + (0 if x_low <= box[0] and box[2] <= x_high and y_low <= box[1] and box[3] <= y_high else 10)
                for box in boxes
            ]
            best = scores.index(min(scores))
            chosen = _LABEL_ANCHORS[best]
            taken.append(boxes[best])
            label.setAnchor(chosen)

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
