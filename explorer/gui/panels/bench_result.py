"""The Benchmark tab's result card: the timing figures of one run (a training step's parts and
memory too) and its reproducibility card."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QMargins, QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from explorer.core.benchtypes import BenchResult
from explorer.core.render.bench_text import (
    PROCESS_PEAK_SOURCE,
    breakdown_text,
    card_lines,
    training_memory_text,
)
from explorer.core.units import format_bytes, format_macs
from explorer.core.wording import counted
from explorer.gui.card_grid import place_in_columns
from explorer.gui.panels.totals import TotalCard

FIGURES = (
    ("median", "MEDIAN"),
    ("mean", "MEAN"),
    ("iqr", "IQR"),
    ("min_max", "MIN / MAX"),
    ("p90", "P90"),
    ("images_per_s", "IMAGES / S"),
    ("gmacs_per_s", "GMAC/S"),
    ("peak_memory", "PEAK MEMORY"),
)
COLUMNS = 4  # when there is room; three or two in a narrower window
NARROW_COLUMNS = 2
EMPTY = "–"


def format_ms(seconds: float) -> str:
    """A latency in milliseconds, three significant figures (seconds past 1 s)."""
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def figure_texts(result: BenchResult) -> dict[str, tuple[str, str]]:
    """Each figure's (value, detail) as the card shows it; every one of them read from ``result``."""
    texts = {key: (EMPTY, "") for key, _title in FIGURES}
    stats = result.stats
    if stats is not None:
        samples = counted(len(stats.samples_s), "sample")
        what = "a training step" if result.training else "a batch"
        texts["median"] = (format_ms(stats.median_s), f"{what} of {result.batch_size}, {samples}")
        texts["mean"] = (format_ms(stats.mean_s), "")
        texts["iqr"] = (format_ms(stats.iqr_s), f"{stats.iqr_s / stats.median_s:.1%} of the median")
        texts["min_max"] = (format_ms(stats.min_s), f"max {format_ms(stats.max_s)}")
        texts["p90"] = (format_ms(stats.p90_s), "")
    if result.images_per_s is not None:
        texts["images_per_s"] = (f"{result.images_per_s:,.1f}", "at the median")
    if result.training and stats is not None:
        texts["gmacs_per_s"] = (EMPTY, "forward MACs only: not given for a training step")
        if result.peak_memory_bytes is None:
            texts["peak_memory"] = (EMPTY, "no allocator here: the saved bytes are below")
    if result.gmacs_per_s is not None:
        texts["gmacs_per_s"] = (
            f"{result.gmacs_per_s:,.2f}",
            f"achieved; {format_macs(result.macs_per_image)} an image",
        )
    # A run cancelled before its first timed pass has no figures at all, memory included.
    if result.peak_memory_bytes is not None and stats is not None:
        texts["peak_memory"] = (format_bytes(result.peak_memory_bytes), _short_source(result.card.device))
    if result.process_peak_bytes is not None and stats is not None:
        value, _source = texts["peak_memory"]
        texts["peak_memory"] = (value, f"process peak {format_bytes(result.process_peak_bytes)}")
    return texts


def _short_source(device: str) -> str:
    """A card-sized name of where the peak comes from (the full one is in the tooltip)."""
    if device.startswith("cuda"):
        return "allocator peak"
    return "driver peak" if device == "mps" else "tensors at the peak"


def training_lines(result: BenchResult) -> list[tuple[str, str]]:
    """A training step's synchronised parts and its memory, predicted beside measured."""
    if not result.training:
        return []
    lines = []
    if breakdown_text(result):
        lines.append(("step parts", breakdown_text(result)))
    lines += [("memory", line) for line in training_memory_text(result)]
    return lines


def _table_html(lines: list[tuple[str, str]]) -> str:
    rows = [
        f"<tr><td style='padding-right:10px'><b>{escape(key)}</b></td><td>{escape(value)}</td></tr>"
        for key, value in lines
    ]
    return "<table cellspacing='0' cellpadding='1'>" + "".join(rows) + "</table>"


def card_html(result: BenchResult) -> str:
    rows = []
    for line in card_lines(result):
        key, _, value = line.partition(" ")
        head = f"<td style='padding-right:10px'><b>{escape(key)}</b></td>"
        rows.append(f"<tr>{head}<td>{escape(value.strip())}</td></tr>")
    return "<table cellspacing='0' cellpadding='1'>" + "".join(rows) + "</table>"


class ResultCard(QWidget):
    """Eight figure cards in two rows (more in a narrow window) and, under them, the
    reproducibility card: never clipped."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cards = {key: TotalCard(title) for key, title in FIGURES}
        for card in self.cards.values():
            card.detail.setWordWrap(True)  # a detail never widens its card
            # As tall as its wrapped detail needs at the width it gets.
            card.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.grid = grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(6)
        self.columns = 0
        self._arrange(COLUMNS)
        self.repro = QLabel(objectName="ReproCard", wordWrap=True)
        self.repro.setTextFormat(Qt.TextFormat.RichText)
        self.repro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.repro.setFrameShape(QFrame.Shape.StyledPanel)
        self.repro.setToolTip("The reproducibility card: it goes with every copy and export of the result")
        self.training = QLabel(objectName="TrainingFigures", wordWrap=True)
        self.training.setTextFormat(Qt.TextFormat.RichText)
        self.training.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.training.setFrameShape(QFrame.Shape.StyledPanel)
        self.training.setToolTip(
            "Each part timed with the device synchronised after it, which lengthens the step a "
            "little; the step time above is measured without that"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(grid)
        layout.addWidget(self.training)
        layout.addWidget(self.repro)
        self.result: BenchResult | None = None
        self.show_result(None)

    def _arrange(self, columns: int) -> None:
        if columns == self.columns:
            return
        self.columns = columns
        place_in_columns(self.grid, self.cards.values(), columns, COLUMNS)

    def _width_for(self, columns: int) -> int:
        widest = max(
            max(card.title.sizeHint().width(), card.value.sizeHint().width()) for card in self.cards.values()
        )
        layout = next(iter(self.cards.values())).layout()
        margins = layout.contentsMargins() if layout is not None else QMargins()
        card_width = widest + margins.left() + margins.right() + 2  # and the frame's border
        return int(columns * card_width + self.grid.horizontalSpacing() * (columns - 1))

    def _fit_columns(self, width: int) -> None:
        fitting = [n for n in range(COLUMNS, NARROW_COLUMNS, -1) if width >= self._width_for(n)]
        self._arrange(fitting[0] if fitting else NARROW_COLUMNS)

    def minimumSizeHint(self) -> QSize:
        return QSize(self._width_for(NARROW_COLUMNS), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_columns(event.size().width())

    @property
    def figures(self) -> dict[str, str]:
        """The values on show, by key (for reading back)."""
        return {key: card.value.text() for key, card in self.cards.items()}

    def show_result(self, result: BenchResult | None) -> None:
        self.result = result
        texts = figure_texts(result) if result is not None else {k: (EMPTY, "") for k, _ in FIGURES}
        for key, (value, detail) in texts.items():
            self.cards[key].show_figure(value, detail, detail)
        if result is not None and result.estimated_memory_bytes is not None:
            estimate = f"estimated {format_bytes(result.estimated_memory_bytes)}"
            if result.free_memory_bytes is not None:
                estimate += f" of {format_bytes(result.free_memory_bytes)} free"
            process = ""
            if result.process_peak_bytes is not None:
                process = f"; process peak {format_bytes(result.process_peak_bytes)} ({PROCESS_PEAK_SOURCE})"
            self.cards["peak_memory"].setToolTip(f"{result.memory_source}; {estimate}{process}")
        lines = training_lines(result) if result is not None and result.stats is not None else []
        self.training.setVisible(bool(lines))
        self.training.setText(_table_html(lines))
        self._fit_columns(self.width())  # the new figures may be wider
        self.repro.setVisible(result is not None)
        if result is not None:
            self.repro.setText(card_html(result))
