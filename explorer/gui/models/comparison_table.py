"""The side-by-side table of a Comparison: a row per variant, a column per figure."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from explorer.core.benchtypes import NOISY_SPREAD, is_noisy, relative_spread
from explorer.core.compare import (
    METRICS,
    WHOLE_INPUT_NOTE,
    BenchFigures,
    Cell,
    Comparison,
    Metric,
    TableRow,
    Variant,
    shown_metrics,
)
from explorer.core.units import format_count, format_receptive_field
from explorer.gui.plain_text import as_written

_Index = QModelIndex | QPersistentModelIndex
BETTER = QColor("#2e7d32")
WORSE = QColor("#c62828")
NOISY_BACKGROUND = QColor("#fff4e5")
NOISY_MARK = "⚠ "


def timing_of(variant: Variant, metric: Metric) -> BenchFigures | None:
    """The timing a column's figure comes from, if it is a timed one."""
    return None if metric.timing is None else getattr(variant, metric.timing)


def noisy(bench: BenchFigures | None) -> bool:
    return bench is not None and is_noisy(bench.median_ms, bench.iqr_ms)


def timing_warning(timed: list[Variant]) -> str:
    """What a person should know before trusting these timings; "" when nothing."""
    problems = []
    shaky = [variant.name for variant in timed if noisy(variant.bench)]
    if shaky:
        problems.append(
            f"noisy timings (an IQR above {NOISY_SPREAD:.0%} of the median) for {', '.join(shaky)}"
        )
    by_spec: dict[str, list[Variant]] = {}
    for variant in timed:
        by_spec.setdefault(variant.spec.to_json(), []).append(variant)
    for copies in by_spec.values():
        medians = [v.bench.median_ms for v in copies if v.bench is not None]
        # Copies of one architecture should time alike: the same rule, across them.
        if len(medians) > 1 and is_noisy(min(medians), max(medians) - min(medians)):
            names = ", ".join(v.name for v in copies)
            problems.append(
                f"{names} are one architecture yet took {min(medians):.3g} to {max(medians):.3g} ms"
            )
    if not problems:
        return ""
    return "Timings to distrust: " + "; ".join(problems) + ". Other work was running: time them again."


def human(metric: Metric, value: float) -> str:
    if metric.compact:
        return format_count(value)
    if metric.integer:
        return f"{int(value):,}"
    return f"{value:,.2f}"


def exact(metric: Metric, value: float) -> str:
    return f"{int(value):,}" if metric.integer else f"{value:,.4f}"


class ComparisonTableModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self._rows: list[TableRow] = []
        self._metrics: list[Metric] = list(METRICS)

    def set_comparison(self, comparison: Comparison) -> None:
        self.beginResetModel()
        self._rows = comparison.table()
        self._metrics = shown_metrics(comparison)
        self.endResetModel()

    def metrics(self) -> list[Metric]:
        return list(self._metrics)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 1 + len(self._metrics)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.ToolTipRole and section > 0:
            return self._column_conditions(self._metrics[section - 1])
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return "Variant" if section == 0 else self._metrics[section - 1].label

    def _column_conditions(self, metric: Metric) -> str | None:
        """A timed column's conditions, variant by variant: timings under different
        conditions side by side are no comparison of architectures."""
        lines = [
            f"{row.variant.name}: {bench.conditions()}"
            for row in self._rows
            if (bench := timing_of(row.variant, metric)) is not None
        ]
        # Variant names are the person's text: shown as written, never as markup.
        return as_written(f"{metric.label}, timed under:\n" + "\n".join(lines)) if lines else None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if index.column() == 0:
            return self._name_data(row, role)
        metric = self._metrics[index.column() - 1]
        cell = row.cells[metric.key]
        bench = timing_of(row.variant, metric)
        if role == Qt.ItemDataRole.DisplayRole:
            text = self._text(metric, cell, row.is_baseline)
            if metric.spread and bench is not None:
                text = self._with_spread(text, bench)
            return text
        if role == Qt.ItemDataRole.ToolTipRole and cell.value is not None:
            tip = f"{metric.label}: {exact(metric, cell.value)}"
            if not row.is_baseline and cell.delta is not None:
                tip += f"\nagainst the baseline: {cell.delta:+,.4g}"
                if cell.delta_percent is not None:
                    tip += f" ({cell.delta_percent:+.2f}%)"
            if bench is not None:
                spread = relative_spread(bench.median_ms, bench.iqr_ms)
                tip += f"\ntimed under: {bench.conditions()}\nIQR {bench.iqr_ms:.3f} ms ({spread:.0%})"
                if noisy(bench):
                    tip += "\nnoisy: other work was running while it was timed; time it again"
            if metric.note is not None:
                tip += f"\n{metric.note}"
            if cell.whole_input:
                tip += f"\n{WHOLE_INPUT_NOTE}"
            return tip
        if role == Qt.ItemDataRole.BackgroundRole and noisy(bench):
            return QBrush(NOISY_BACKGROUND)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._judgement(metric, cell, row.is_baseline)
        if role == Qt.ItemDataRole.UserRole:
            return cell.value
        return None

    def _name_data(self, row: TableRow, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return row.variant.name + ("  (baseline)" if row.is_baseline else "")
        if role == Qt.ItemDataRole.FontRole and row.is_baseline:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.variant.spec.to_json()
        return None

    @staticmethod
    def _with_spread(text: str, bench: BenchFigures) -> str:
        value, _, delta = text.partition("  ")
        shown = f"{value} (IQR {bench.iqr_ms:,.2f})"
        if delta:
            shown += f"  {delta}"
        return (NOISY_MARK if noisy(bench) else "") + shown

    @staticmethod
    def _text(metric: Metric, cell: Cell, is_baseline: bool) -> str:
        if cell.value is None:
            return "-"
        text = (
            format_receptive_field(int(cell.value), True) if cell.whole_input else human(metric, cell.value)
        )
        if not is_baseline and cell.delta_percent is not None:
            text += f"  ({cell.delta_percent:+.1f}%)"
        return text

    @staticmethod
    def _judgement(metric: Metric, cell: Cell, is_baseline: bool) -> QBrush | None:
        if is_baseline or not metric.judged or not cell.delta:
            return None
        better = (cell.delta < 0) == metric.lower_is_better
        return QBrush(BETTER if better else WORSE)
