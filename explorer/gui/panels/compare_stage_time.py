"""The Compare tab's stage times: each variant's last profile, one row a variant, a column a stage.

The profiles are those of the Profile tab, kept by the window's profile store for the exact
spec profiled: a variant whose spec was never profiled (or was edited since) shows as such.
A train-mode profile's cells hold forward plus backward; the tip of each cell splits them.
Under the table, grouped bars of the same times (a group a stage, a bar a profiled variant),
drawn with pyqtgraph once the view is first shown, as the Compare tab's other charts are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QPalette, QShowEvent
from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from explorer.core.compare import Comparison
from explorer.core.profile import GroupTime, Profile
from explorer.gui.plain_text import as_written, plain, rich_text
from explorer.gui.profile_store import ProfileStore

NOT_PROFILED = "not profiled"
NOTHING_PROFILED = (
    "No stage times to chart yet: open a variant's architecture in the editor and profile it "
    "on the Profile tab; its time by stage appears here."
)
ABSENT = "–"  # a stage this variant does not have
TOTAL = "total"
PROFILE_COLUMN = "profile"
SECONDS = Qt.ItemDataRole.UserRole


@dataclass(frozen=True, slots=True)
class StageTimeRow:
    name: str
    profile: Profile | None


def stage_names(rows: list[StageTimeRow]) -> list[str]:
    """Every profiled variant's stages, in the order they first appear (stem, layer1 ..., head)."""
    names: list[str] = []
    for row in rows:
        if row.profile is None:
            continue
        for stage in row.profile.stages:
            if stage.name not in names:
                names.append(stage.name)
    head = [name for name in names if name == "head"]
    return [name for name in names if name != "head"] + head


def run_description(result: Profile) -> str:
    """How a profile was run, in a few words: mode, batch, device, dtype."""
    card = result.card
    mode = "training step" if result.training else "inference"
    return f"{mode}, batch {card.batch_size}, {card.device}, {card.dtype}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def _stage_tip(stage: GroupTime) -> str:
    split = ""
    if stage.backward_s is not None:
        split = f": forward {_ms(stage.forward_s)} + backward {_ms(stage.backward_s)}"
    return f"{stage.name} {_ms(stage.time_s)}{split}, {stage.share:.1%} of the layers' time"


@dataclass(frozen=True, slots=True)
class Baseline:
    """The baseline's profile as the changes need it: its name, the profile, its seconds by
    stage name (and under ``TOTAL`` the layers' sum)."""

    name: str
    profile: Profile
    seconds: dict[str, float]

    def change(self, result: Profile, name: str, seconds: float) -> str:
        """``seconds`` of ``result``'s ``name`` against the baseline's, as a sentence's end; ""
        where the baseline lacks it or was run otherwise (another device, batch or mode)."""
        if result is self.profile or run_description(result) != run_description(self.profile):
            return ""
        return change_text(seconds, self.seconds.get(name), self.name)


def change_text(seconds: float, baseline_seconds: float | None, baseline: str) -> str:
    """The change against the baseline's time, as a sentence's end ("" without a baseline figure)."""
    if baseline_seconds is None or baseline_seconds <= 0:
        return ""
    return f"; {seconds / baseline_seconds - 1:+.1%} against {baseline}"


class StageTimeView(QWidget):
    """The table and a line that says where its figures come from."""

    def __init__(self, store: ProfileStore) -> None:
        super().__init__()
        self.store = store
        self._comparison: Comparison | None = None
        self.hint = plain(QLabel(objectName="Hint", wordWrap=True))
        self.table = QTableWidget(objectName="CompareStageTime")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        # In the chart's place while there is nothing to chart: empty axes say nothing.
        self.empty_chart = plain(QLabel(NOTHING_PROFILED, objectName="Hint", wordWrap=True))
        self.empty_chart.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.empty_chart, 2)
        self.chart: Any = None  # a pyqtgraph PlotWidget, made when first shown
        store.changed.connect(lambda _result: self._show())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.chart is None:
            import pyqtgraph as pg

            self.chart = pg.PlotWidget(background="w")
            self.chart.setObjectName("CompareStageTimeChart")
            self.chart.setMinimumHeight(220)
            self.chart.setLabel("left", "time (ms)")
            self.chart.showGrid(y=True, alpha=0.25)
            self.chart.setMenuEnabled(False)
            self.chart.addLegend(offset=(-10, 10))
            layout = self.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.addWidget(self.chart, 2)
            self._draw_chart(self.rows())

    def set_comparison(self, comparison: Comparison) -> None:
        self._comparison = comparison
        self._show()

    def rows(self) -> list[StageTimeRow]:
        variants = self._comparison.variants if self._comparison is not None else ()
        return [StageTimeRow(variant.name, self.store.last_of(variant.spec)) for variant in variants]

    def _show(self) -> None:
        rows = self.rows()
        stages = stage_names(rows)
        headers = [*stages, TOTAL, PROFILE_COLUMN]
        self.table.clear()
        self.table.setRowCount(len(rows))
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setVerticalHeaderLabels([row.name for row in rows])
        grey = QBrush(self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
        baseline = self._baseline(rows)
        for number, row in enumerate(rows):
            if row.profile is None:
                for column in range(len(headers)):
                    item = QTableWidgetItem(NOT_PROFILED if column == 0 else "")
                    item.setForeground(grey)
                    item.setToolTip(
                        as_written(
                            f"{row.name} has no profile of its exact spec: show it in the editor "
                            "and profile it on the Profile tab"
                        )
                    )
                    self.table.setItem(number, column, item)
                continue
            by_name = {stage.name: stage for stage in row.profile.stages}
            for column, name in enumerate(stages):
                stage = by_name.get(name)
                item = QTableWidgetItem(ABSENT if stage is None else _ms(stage.time_s))
                if stage is not None:
                    item.setData(SECONDS, stage.time_s)
                    change = "" if baseline is None else baseline.change(row.profile, name, stage.time_s)
                    item.setToolTip(as_written(_stage_tip(stage) + change))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(number, column, item)
            total = QTableWidgetItem(_ms(row.profile.total_s))
            total.setData(SECONDS, row.profile.total_s)
            change = "" if baseline is None else baseline.change(row.profile, TOTAL, row.profile.total_s)
            total.setToolTip(as_written(f"the layers' time {_ms(row.profile.total_s)}{change}"))
            self.table.setItem(number, len(stages), total)
            self.table.setItem(number, len(stages) + 1, QTableWidgetItem(run_description(row.profile)))
        self.hint.setText(self._hint_text(rows))
        self._draw_chart(rows)

    def _draw_chart(self, rows: list[StageTimeRow]) -> None:
        """One group of bars a stage, one bar in it a profiled variant (its colour as in Charts)."""
        nothing = not any(row.profile is not None for row in rows)
        self.empty_chart.setVisible(nothing)
        if self.chart is None:
            return
        self.chart.setVisible(not nothing)
        import pyqtgraph as pg

        from explorer.gui.panels.compare_charts import colour, legend_name

        plot = self.chart.getPlotItem()
        plot.clear()
        if plot.legend is not None:
            plot.legend.clear()
        stages = stage_names(rows)
        profiled = [(number, row) for number, row in enumerate(rows) if row.profile is not None]
        if not stages or not profiled:
            return
        width = 0.8 / len(profiled)
        for position, (number, row) in enumerate(profiled):
            assert row.profile is not None
            by_name = {stage.name: stage.time_s * 1e3 for stage in row.profile.stages}
            present = [(index, by_name[name]) for index, name in enumerate(stages) if name in by_name]
            bars = pg.BarGraphItem(
                x=[index - 0.4 + width * (position + 0.5) for index, _ in present],
                height=[ms for _, ms in present],
                width=width * 0.92,
                brush=colour(number),
                pen=pg.mkPen(colour(number)),
                name=rich_text(legend_name(row.name)),  # the legend takes HTML
            )
            plot.addItem(bars)
        plot.getAxis("bottom").setTicks([list(enumerate(stages))])
        plot.setXRange(-0.6, len(stages) - 0.4, padding=0)

    def _baseline(self, rows: list[StageTimeRow]) -> Baseline | None:
        """The baseline variant's profile, if it was profiled."""
        index = self._comparison.baseline if self._comparison is not None else 0
        result = rows[index].profile if 0 <= index < len(rows) else None
        if result is None:
            return None
        seconds = {stage.name: stage.time_s for stage in result.stages}
        seconds[TOTAL] = result.total_s
        return Baseline(rows[index].name, result, seconds)

    def _hint_text(self, rows: list[StageTimeRow]) -> str:
        if not rows:
            return "No variants yet."
        profiled = [row for row in rows if row.profile is not None]
        text = (
            "Each variant's time by stage, from the last profile of its exact spec (Profile tab). "
            "Training-step profiles hold forward plus backward; the tips split them."
        )
        missing = len(rows) - len(profiled)
        if missing:
            text += f" {missing} of {len(rows)} not profiled."
        runs = {run_description(row.profile) for row in profiled if row.profile is not None}
        if len(runs) > 1:
            text += " The profiles were run differently (see the profile column): compare with care."
        return text
