"""The structural diff of two variants: what differs, and their block diagrams side by
side with the differing blocks highlighted. Graphviz runs on a worker thread."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtSvgWidgets import QSvgWidget
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from explorer.core.compare import Comparison
from explorer.core.diff import SpecDiff, spec_diff
from explorer.core.spec import ArchSpec
from explorer.gui.latest import latest_in_thread
from explorer.gui.plain_text import plain, rich_text


def diff_svgs(pair: tuple[ArchSpec, ArchSpec, SpecDiff]) -> tuple[bytes, bytes]:
    """Both block-level diagrams, differing blocks highlighted (runs on a worker)."""
    from explorer.core.render.export import diagram_dot, render_dot
    from explorer.core.render.highlight import highlight_nodes

    first, second, diff = pair
    left = highlight_nodes(diagram_dot(first, "block"), diff.blocks_differing_first)
    right = highlight_nodes(diagram_dot(second, "block"), diff.blocks_differing_second)
    return render_dot(left, "svg"), render_dot(right, "svg")


class _Diagram(QScrollArea):
    """A drawing as wide as the pane (never enlarged), scrolled vertically."""

    def __init__(self) -> None:
        super().__init__()
        self.svg = QSvgWidget()
        self.setWidget(self.svg)
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.setWidgetResizable(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def clear(self) -> None:
        self.svg.load(QByteArray())
        self.svg.setFixedSize(0, 0)

    def show_svg(self, data: bytes) -> None:
        self.svg.load(QByteArray(data))
        self._fit()

    def _fit(self) -> None:
        size = self.svg.renderer().defaultSize()
        if size.isEmpty():
            return
        scale = min(1.0, max(self.viewport().width() - 4, 50) / size.width())
        self.svg.setFixedSize(int(size.width() * scale), int(size.height() * scale))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def scroll_to_block(self, name: str) -> None:
        """Scroll to block ``name`` ("layer3.6"), or to the nearest earlier block of its
        stage where this network has fewer blocks there."""
        stage, _, index = name.rpartition(".")
        candidates = [f"{stage}.{i}" for i in range(int(index), -1, -1)] if index.isdigit() else [name]
        for candidate in candidates:
            if self.scroll_to(candidate):
                return

    def scroll_to(self, element_id: str) -> bool:
        """Bring a node (its SVG element id) into view; whether it was found."""
        renderer = self.svg.renderer()
        if not renderer.elementExists(element_id):
            return False
        bounds = renderer.transformForElement(element_id).mapRect(renderer.boundsOnElement(element_id))
        view_box = renderer.viewBoxF()
        if view_box.isEmpty():
            return False
        scale_y = self.svg.height() / view_box.height()
        centre = (bounds.center().y() - view_box.top()) * scale_y
        self.verticalScrollBar().setValue(int(centre - self.viewport().height() / 3))
        return True


class DiffView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.first_box = QComboBox(objectName="DiffFirst")
        self.second_box = QComboBox(objectName="DiffSecond")
        for box in (self.first_box, self.second_box):
            # Sized for a usual name, not the longest: a long one is cut, never widens the tab.
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(10)
            box.currentIndexChanged.connect(lambda _i: self.update_diff())
        self.summary = QPlainTextEdit(readOnly=True, objectName="DiffSummary", maximumHeight=92)
        self.status = plain(QLabel(objectName="Hint", wordWrap=True))
        self.first_diagram = _Diagram()
        self.second_diagram = _Diagram()
        self.first_title = QLabel(textFormat=Qt.TextFormat.RichText, wordWrap=True)
        self.second_title = QLabel(textFormat=Qt.TextFormat.RichText, wordWrap=True)

        pickers = QHBoxLayout()
        pickers.addWidget(QLabel("Compare"))
        pickers.addWidget(self.first_box, 1)
        pickers.addWidget(QLabel("with"))
        pickers.addWidget(self.second_box, 1)
        pickers.addWidget(self.status, 1)
        diagrams = QGridLayout()
        diagrams.addWidget(self.first_title, 0, 0)
        diagrams.addWidget(self.second_title, 0, 1)
        diagrams.addWidget(self.first_diagram, 1, 0)
        diagrams.addWidget(self.second_diagram, 1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(pickers)
        layout.addWidget(self.summary)
        layout.addLayout(diagrams, 1)
        self._comparison = Comparison()
        self._drawings = latest_in_thread(diff_svgs, self._show, self._failed, self)
        self.diff: SpecDiff | None = None

    def set_comparison(self, comparison: Comparison) -> None:
        names = [v.name for v in comparison.variants]
        first, second = self.first_box.currentText(), self.second_box.currentText()
        self._comparison = comparison
        for box, wanted, fallback in (
            (self.first_box, first, comparison.baseline),
            (self.second_box, second, 1 if comparison.baseline == 0 else 0),
        ):
            box.blockSignals(True)
            box.clear()
            box.addItems(names)
            index = names.index(wanted) if wanted in names else min(fallback, len(names) - 1)
            box.setCurrentIndex(index)
            box.blockSignals(False)
        self.update_diff()

    def update_diff(self) -> None:
        variants = self._comparison.variants
        i, j = self.first_box.currentIndex(), self.second_box.currentIndex()
        if len(variants) < 2 or i < 0 or j < 0:
            self.diff = None
            self.summary.setPlainText("Add two or more variants to see how they differ.")
            self._drawings.cancel()  # a drawing still on its way shows variants gone
            for diagram, title in (
                (self.first_diagram, self.first_title),
                (self.second_diagram, self.second_title),
            ):
                diagram.clear()
                title.clear()
            self.status.setText("")
            return
        first, second = variants[i], variants[j]
        self.diff = spec_diff(first.spec, second.spec)
        self.summary.setPlainText("\n".join(self.diff.describe()))
        self.first_title.setText(f"<b>{rich_text(first.name)}</b> (highlighted: blocks it has that differ)")
        self.second_title.setText(f"<b>{rich_text(second.name)}</b> (highlighted: blocks it adds or changes)")
        self.status.setText("drawing…")
        self._drawings.request((first.spec, second.spec, self.diff))

    def _show(self, svgs: tuple[bytes, bytes]) -> None:
        self.first_diagram.show_svg(svgs[0])
        self.second_diagram.show_svg(svgs[1])
        if self.diff is not None:
            # Open both drawings where the first difference is.
            for diagram, blocks in (
                (self.first_diagram, self.diff.blocks_differing_first or self.diff.blocks_differing_second),
                (self.second_diagram, self.diff.blocks_differing_second or self.diff.blocks_differing_first),
            ):
                if blocks:
                    diagram.scroll_to_block(blocks[0])
        self.status.setText("")

    def _failed(self, message: str) -> None:
        self.status.setText(f"The diagrams could not be drawn: {message}")
