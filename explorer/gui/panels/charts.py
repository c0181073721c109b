"""The Charts tab: where the parameters and MACs sit, and how the feature maps change.

pyqtgraph is imported here, and this module is loaded only when the tab is first
shown, so it stays off the path to the first picture.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from explorer.core.analysis import Analysis, LayerRow
from explorer.gui import icons
from explorer.gui.session import Session

BAR_COLOUR = "#5f8fc9"
MACS_COLOUR = "#e0a03a"
SPATIAL_COLOUR = icons.STAGE_COLOUR.name()
CHANNEL_COLOUR = icons.RESIDUAL_COLOUR.name()
AXIS_TEXT_FILL_LIMITS = [(0, 0.8), (2, 0.25)]


def part_totals(analysis: Analysis) -> list[tuple[str, int, int]]:
    """(name, params, MACs) for the stem, each stage and the head, in order.

    From the stage summaries: an edit costs the stages, not the rows."""
    stem, head = _outside_stages(analysis)
    parts = [("stem", sum(row.params for row in stem), sum(row.macs for row in stem))]
    parts.extend((stage.name, stage.params, stage.macs) for stage in analysis.stages)
    if head:
        parts.append(("head", sum(row.params for row in head), sum(row.macs for row in head)))
    return parts


def feature_path(analysis: Analysis) -> list[tuple[int, int, int, str]]:
    """(step, channels, spatial side, stage name): the stem's layers, then each block's output."""
    stem, head = _outside_stages(analysis)
    points: list[tuple[int, int, int, str]] = []

    def outside(rows: tuple[LayerRow, ...]) -> None:
        for row in rows:
            shape = row.output_shape
            if len(shape) == 3 and row.summary_id is not None and row.op != "avgpool":
                points.append((len(points), shape[0], shape[1], "stem"))

    outside(stem)
    for stage in analysis.stages:
        for block in stage.blocks:
            shape = block.output_shape
            if len(shape) == 3:
                points.append((len(points), shape[0], shape[1], stage.name))
    outside(head)
    return points


def _outside_stages(analysis: Analysis) -> tuple[tuple[LayerRow, ...], tuple[LayerRow, ...]]:
    """The rows before the first stage and after the last."""
    first = analysis.stages[0].blocks[0].first_row
    last = analysis.stages[-1].blocks[-1].last_row
    return analysis.rows[:first], analysis.rows[last + 1 :]


class HumanAxis(pg.AxisItem):
    """Tick labels such as 1.5M and 2G instead of 1.5e+06."""

    def tickStrings(self, values, scale, spacing):  # type: ignore[no-untyped-def]
        return [_tick(value * scale) for value in values]


def _tick(value: float) -> str:
    for limit, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def _small_font() -> QFont:
    font = QFont()
    font.setPointSizeF(8.5)
    return font


def _text_width(label: pg.GraphicsObject) -> float:
    """A label's width in pixels (pyqtgraph's text labels ignore the view's scaling)."""
    text = getattr(label, "textItem", label)
    return float(text.boundingRect().width() - 2 * text.document().documentMargin())


class ChartsPanel(QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=True, background="w", foreground="#344054")
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.ci.setSpacing(14)
        self.params_plot = self._plot(0, 0, "Parameters per stage", "parameters", human=True)
        self.macs_plot = self._plot(0, 1, "MACs per stage", "MACs / image", human=True)
        self.spatial_plot = self._plot(1, 0, "Feature map side", "pixels")
        self.channel_plot = self._plot(1, 1, "Channels", "channels")
        for plot in (self.spatial_plot, self.channel_plot):
            plot.setLabel("bottom", "stem, then each block")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.canvas)
        self._shown: Analysis | None = None
        self._latest: Analysis | None = None
        self._drawn: dict[pg.PlotItem, object] = {}  # what each plot shows: one redrawn only if it changes
        # Labels shown only where they fit: a bar's value within its slot, a stage's name
        # before the next stage begins (in a small window they would run into each other).
        self._fitted: dict[pg.PlotItem, list[tuple[pg.GraphicsObject, float]]] = {}
        for plot in (self.params_plot, self.macs_plot, self.spatial_plot, self.channel_plot):
            plot.getViewBox().sigResized.connect(lambda _box, p=plot: self._fit_labels(p))
        session.analysis_changed.connect(self.show_analysis)
        self.show_analysis(session.analysis)

    def _plot(self, row: int, column: int, title: str, unit: str, human: bool = False) -> pg.PlotItem:
        axes = {"left": HumanAxis("left")} if human else None
        plot = self.canvas.addPlot(row=row, col=column, axisItems=axes)
        plot.setTitle(f"<span style='font-size:11pt; font-weight:600'>{title}</span>")
        plot.setLabel("left", unit)
        plot.showGrid(x=False, y=True, alpha=0.25)
        plot.setMenuEnabled(False)
        plot.getAxis("left").enableAutoSIPrefix(False)
        # On a tall chart pyqtgraph would label every minor tick too (1M, 2M, … 16M): label the
        # minor ticks only while their text fills a small part of the axis.
        plot.getAxis("left").setStyle(textFillLimits=AXIS_TEXT_FILL_LIMITS)
        return plot

    def is_ready(self) -> bool:
        return self._shown is not None and self._shown is self._latest

    def show_analysis(self, analysis: Analysis) -> None:
        # A hidden tab only remembers the analysis: redrawing plots nobody sees would
        # slow every edit down. It draws the newest one when it is shown.
        self._latest = analysis
        if self.isVisible() or self._shown is None:
            self._draw(analysis)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._latest is not None and self._latest is not self._shown:
            self._draw(self._latest)

    def _draw(self, analysis: Analysis) -> None:
        parts = part_totals(analysis)
        names = [name for name, _, _ in parts]
        params = [p for _, p, _ in parts]
        macs = [m for _, _, m in parts]
        path = feature_path(analysis)
        sides = [side for _, _, side, _ in path]
        channels = [channels for _, channels, _, _ in path]
        redrawn = []
        for plot, series, draw in (
            (
                self.params_plot,
                (names, params),
                lambda: self._bars(self.params_plot, names, params, BAR_COLOUR, _tick),
            ),
            (
                self.macs_plot,
                (names, macs),
                lambda: self._bars(self.macs_plot, names, macs, MACS_COLOUR, _tick),
            ),
            (
                self.spatial_plot,
                (path, sides),
                lambda: self._steps(self.spatial_plot, path, sides, SPATIAL_COLOUR),
            ),
            (
                self.channel_plot,
                (path, channels),
                lambda: self._steps(self.channel_plot, path, channels, CHANNEL_COLOUR),
            ),
        ):
            if self._drawn.get(plot) != series:
                draw()  # type: ignore[no-untyped-call]
                self._drawn[plot] = series
                redrawn.append(plot)
        self._shown = analysis
        for plot in redrawn:
            self._fit_labels(plot)

    def _fit_labels(self, plot: pg.PlotItem) -> None:
        x_per_px = plot.getViewBox().viewPixelSize()[0]
        if not x_per_px:
            return
        for label, room in self._fitted.get(plot, ()):
            label.setVisible(_text_width(label) <= room / x_per_px)

    def _bars(self, plot: pg.PlotItem, names: list[str], values: list[int], colour: str, fmt) -> None:  # type: ignore[no-untyped-def]
        plot.clear()
        self._fitted[plot] = []
        xs = list(range(len(values)))
        plot.addItem(pg.BarGraphItem(x=xs, height=values, width=0.62, brush=colour, pen=pg.mkPen(colour)))
        top = max(values) if values and max(values) > 0 else 1
        for x, value in zip(xs, values, strict=True):
            label = pg.TextItem(fmt(value), color="#344054", anchor=(0.5, 1.0))
            label.setFont(_small_font())
            label.setPos(x, value + 0.02 * top)
            plot.addItem(label)
            self._fitted[plot].append((label, 0.95))
        plot.getAxis("bottom").setTicks([list(enumerate(names))])
        plot.setXRange(-0.6, len(values) - 0.4, padding=0)
        plot.setYRange(0, top * 1.15, padding=0)

    def _steps(
        self, plot: pg.PlotItem, path: list[tuple[int, int, int, str]], values: list[int], colour: str
    ) -> None:
        plot.clear()
        self._fitted[plot] = []
        if not path:
            return
        xs = [step for step, *_ in path] + [len(path)]
        plot.plot(xs, values, stepMode="center", pen=pg.mkPen(colour, width=2.5))
        # Where each stage begins, and so how much room its name has before the next.
        starts = [step for step, _, _, stage in path if step > 0 and stage != path[step - 1][3]]
        for start, end in zip(starts, [*starts[1:], len(path)], strict=True):
            line = pg.InfiniteLine(
                pos=start,
                angle=90,
                pen=pg.mkPen("#98a2b3", style=pg.QtCore.Qt.PenStyle.DashLine),
                label=path[start][3],
                labelOpts={"position": 0.93, "color": "#475467", "anchors": [(0, 0.5), (0, 0.5)]},
            )
            line.label.setFont(_small_font())
            plot.addItem(line)
            self._fitted[plot].append((line.label, end - start))
        plot.setYRange(0, max(values) * 1.12, padding=0)
        plot.setXRange(0, len(path), padding=0.01)
