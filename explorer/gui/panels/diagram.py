"""The Diagram tab: the network drawn by graphviz, zoomable, clickable and exportable.

Drawing runs on a worker thread. Requests made while one is drawing are merged
into one follow-up, and a drawing that is no longer the newest request is dropped,
so fast edits never pile up ``dot`` processes nor show an old network. The tab
draws only while it is visible. A click on a box selects its rows in the session
(the layer table follows) and the session's selection is outlined here.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path

from PySide6.QtCore import QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from explorer.core.analysis import Analysis
from explorer.core.graph import Cluster
from explorer.core.presets import preset_name_of
from explorer.core.render.colour_by import PROFILED_METRICS, ColourBy
from explorer.core.render.dot import element_target
from explorer.core.render.export import (
    DEFAULT_DPI,
    FORMATS,
    MAX_DPI,
    MIN_DPI,
    Format,
    GraphvizError,
    Rendered,
    export_diagram,
    install_instructions,
)
from explorer.core.spec import ArchSpec
from explorer.core.units import format_bytes
from explorer.core.wording import counted
from explorer.gui.diagram_drawing import DiagramRequest, Drawing, GraphvizMissing, draw
from explorer.gui.diagram_targets import (
    describe_element,
    elements_for_rows,
    find_elements,
    rows_for_element,
)
from explorer.gui.elided_label import ElidedLabel
from explorer.gui.flow_layout import FlowLayout
from explorer.gui.latest import latest_in_thread
from explorer.gui.plain_text import plain
from explorer.gui.profile_store import profile_store
from explorer.gui.session import Session
from explorer.gui.settings import (
    DIAGRAM_DIRECTION,
    DIAGRAM_FOLD,
    DIAGRAM_LEVEL,
    DIAGRAM_STYLE,
    DIAGRAM_WRAP,
)
from explorer.gui.svg_view import MAX_ZOOM, SvgDiagramView
from explorer.gui.workers import run_in_thread

BUSY_DELAY_MS = 150  # a quick drawing never flashes the busy indicator
LEVELS = (("Stage", "stage"), ("Block", "block"), ("Layer", "layer"))
STYLES = (("Paper", "paper"), ("Detailed", "detailed"))
DIRECTIONS = (("Top-down", "TB"), ("Left-right", "LR"))
FOLDS = (("Automatic", "auto"), ("Repeats", "repeats"), ("None", "none"))
WRAPS = (("None", "none"), ("Stages", "stages"))
COLOURS = (
    ("Stage", ""),
    ("Params", "params"),
    ("MACs", "macs"),
    ("Activations", "activations"),
    ("Latency", "latency"),
    ("GMAC/s", "gmacs"),
)
FILE_FILTERS = {
    "svg": "SVG image (*.svg)",
    "png": "PNG image (*.png)",
    "pdf": "PDF document (*.pdf)",
    "dot": "Graphviz DOT source (*.dot)",
}


def _combo(name: str, choices: tuple[tuple[str, str], ...], current: str) -> QComboBox:
    box = QComboBox(objectName=name)
    for title, value in choices:
        box.addItem(title, value)
    box.setCurrentIndex(box.findData(current))
    return box


def _tool(text: str, tip: str, slot: Callable[[], None]) -> QToolButton:
    button = QToolButton(text=text, toolTip=tip)
    button.clicked.connect(lambda _checked=False: slot())
    return button


def _group(layout: QHBoxLayout) -> QWidget:
    """Widgets that stay together on one row of the tool bar."""
    layout.setContentsMargins(0, 0, 0, 0)
    group = QWidget()
    group.setLayout(layout)
    return group


class DiagramPanel(QWidget):
    def __init__(
        self,
        session: Session,
        parent: QWidget | None = None,
        draw_fn: Callable[[DiagramRequest], Drawing | GraphvizMissing] = draw,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self._drawings = latest_in_thread(draw_fn, self._finished, self._failed, self, one_at_a_time=True)
        self._dirty = True
        self.drawing: Drawing | None = None
        self.missing: GraphvizMissing | None = None
        self._settings: QSettings | None = None

        self.level_box = _combo("DiagramLevel", LEVELS, "block")
        self.style_box = _combo("DiagramStyle", STYLES, "paper")
        self.direction_box = _combo("DiagramDirection", DIRECTIONS, "TB")
        self.level_box.setToolTip("Stage: one box per stage · Block: one per block · Layer: every layer")
        self.style_box.setToolTip(
            "Paper: boxes as in the ResNet paper's Figure 3 · Detailed: names, shapes and parameters too"
        )
        self.direction_box.setToolTip("Draw the network from top to bottom or from left to right")
        self.fold_box = _combo("DiagramFold", FOLDS, "auto")
        self.fold_box.setToolTip(
            "Repeats: draw a stage's run of identical blocks once, marked ×N (click it to unfold) · "
            "None: every block · Automatic: repeats where the whole figure would run past about two pages"
        )
        self.wrap_box = _combo("DiagramWrap", WRAPS, "none")
        self.wrap_box.setToolTip("Stages: each stage a column of its own (a row, left to right)")
        # The fold groups drawn block by block, kept while the network is edited: a group keeps
        # its id while its blocks stay, and the ids of groups gone are ignored.
        self.unfolded: frozenset[str] = frozenset()
        self._anchor: tuple[str, QPointF] | None = None
        self.colour_box = _combo("DiagramColour", COLOURS, "")
        self.colour_box.setToolTip(
            "Fill every box by a metric, the scale drawn in the picture: parameters, MACs, "
            "activations (output bytes per image), and after a profile of this architecture "
            "its latency and achieved GMAC/s"
        )
        self.values_box = QCheckBox(
            "values", objectName="DiagramValues", toolTip="Write each box's value in it"
        )
        self.values_box.setEnabled(False)
        self.colour_box.currentIndexChanged.connect(lambda _index: self._colour_changed())
        self.values_box.toggled.connect(lambda _on: self.request_drawing())
        self._profiles = profile_store(session)
        self._profiles.changed.connect(lambda _profile: self._offer_profiled())
        self._remembered = (
            (self.level_box, DIAGRAM_LEVEL),
            (self.style_box, DIAGRAM_STYLE),
            (self.direction_box, DIAGRAM_DIRECTION),
            (self.fold_box, DIAGRAM_FOLD),
            (self.wrap_box, DIAGRAM_WRAP),
        )
        for box, key in self._remembered:
            box.currentIndexChanged.connect(lambda _index, b=box, k=key: self._option_changed(b, k))

        self.view = SvgDiagramView()
        self.view.describe = self.describe
        self.view.acts_on_click = self._is_fold_group_box
        self.view.element_clicked.connect(self.click_element)
        self.view.zoom_changed.connect(self._show_zoom)
        self.zoom_label = QLabel("100 %", objectName="DiagramZoom")
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # As wide as the widest zoom (800 %) at any zoom: a tool bar that grew with it could
        # wrap onto another row, and the drawing's window change height under its zoom.
        widest = self.zoom_label.fontMetrics().horizontalAdvance(f"{MAX_ZOOM * 100:.0f} %")
        self.zoom_label.setFixedWidth(max(48, widest + 8))

        self.dpi_box = QSpinBox(objectName="DiagramDpi", minimum=MIN_DPI, maximum=MAX_DPI, singleStep=24)
        self.dpi_box.setValue(DEFAULT_DPI)
        self.dpi_box.setSuffix(" dpi")
        self.dpi_box.setToolTip("Resolution of exported PNG images")
        export_button = QPushButton("Export…", objectName="DiagramExport")
        export_button.setToolTip("Save this diagram as SVG, PNG, PDF or Graphviz DOT")
        export_button.clicked.connect(lambda _checked=False: self.export_dialog())

        # The options, then the zoom: the second group moves under the first in a narrow window.
        bar = FlowLayout(spacing=12)
        for caption, box in (
            ("Level", self.level_box),
            ("Style", self.style_box),
            ("Direction", self.direction_box),
            ("Fold", self.fold_box),
            ("Wrap", self.wrap_box),
            ("Colour by", self.colour_box),
        ):
            pair = QHBoxLayout()
            pair.setSpacing(4)
            pair.addWidget(QLabel(caption))
            pair.addWidget(box)
            bar.addWidget(_group(pair))
        bar.addWidget(self.values_box)
        self.zoom_tools = [
            _tool("−", "Zoom out (Ctrl+-, or Ctrl+wheel)", self.view.zoom_out),
            self.zoom_label,
            _tool("+", "Zoom in (Ctrl++, or Ctrl+wheel)", self.view.zoom_in),
            _tool("Fit", "Show the whole diagram (Ctrl+0)", self.view.fit),
            _tool("100%", "Actual size (Ctrl+Alt+0)", self.view.actual_size),
        ]
        zoom = QHBoxLayout()
        zoom.setSpacing(4)
        for tool in self.zoom_tools:
            zoom.addWidget(tool)
        bar.addWidget(_group(zoom))

        self.find_edit = QLineEdit(objectName="DiagramFind", placeholderText="Find a layer…")
        self.find_edit.setClearButtonEnabled(True)
        self.find_edit.setToolTip(
            "Jump to a layer, block or stage by name (Ctrl+F): Enter for the next match, "
            "Shift+Enter for the one before"
        )
        self.find_edit.setMinimumWidth(160)
        self.find_edit.textEdited.connect(lambda text: self.find_layer(text))
        self.find_edit.returnPressed.connect(self._find_again)
        self.find_count = QLabel(objectName="DiagramFindCount")
        self.find_count.setProperty("role", "hint")
        self._found: tuple[str, ...] = ()
        self._found_at = -1
        self._found_in: tuple[Drawing | None, str] = (None, "")
        find = QHBoxLayout()
        find.setSpacing(4)
        find.addWidget(self.find_edit)
        find.addWidget(self.find_count)
        bar.addWidget(_group(find))
        # Ctrl+F finds in the diagram while the tab is on show (the Layers tab's filters its table).
        self.find_action = QAction("Find in the diagram", self, shortcut=QKeySequence.StandardKey.Find)
        self.find_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.find_action.triggered.connect(lambda: (self.find_edit.setFocus(), self.find_edit.selectAll()))
        self.addAction(self.find_action)

        self.missing_label = QLabel(objectName="GraphvizMissing", wordWrap=True)
        self.missing_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.missing_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.retry_button = QPushButton("Check again", objectName="GraphvizRetry")
        self.retry_button.clicked.connect(lambda _checked=False: self.request_drawing(force=True))
        missing_page = QWidget()
        missing_layout = QVBoxLayout(missing_page)
        missing_layout.setContentsMargins(24, 24, 24, 24)
        missing_layout.addWidget(self.missing_label)
        missing_layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignLeft)
        missing_layout.addStretch(1)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.view)
        self.pages.addWidget(missing_page)

        self.busy = QProgressBar(objectName="DiagramBusy", maximumWidth=120, maximumHeight=12)
        self.busy.setRange(0, 0)  # a moving bar: dot gives no progress to report
        self.busy.setTextVisible(False)
        self.busy.hide()
        # One line, which keeps the drawing's height whatever it says: long text ends in "…"
        # instead of widening the window, the whole of it in the tooltip.
        self.status = plain(ElidedLabel(objectName="DiagramStatus"))
        self.status.setProperty("role", "hint")
        self.message = plain(QLabel(objectName="DiagramMessage", wordWrap=True))
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        foot = QHBoxLayout()
        foot.setContentsMargins(0, 0, 0, 0)
        foot.addWidget(self.busy)
        foot.addWidget(self.status, 1)
        foot.addWidget(QLabel("PNG at"))
        foot.addWidget(self.dpi_box)
        foot.addWidget(export_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.pages, 1)
        layout.addLayout(foot)

        self._busy_timer = QTimer(self, singleShot=True, interval=BUSY_DELAY_MS)
        self._busy_timer.timeout.connect(self._show_busy)
        session.analysis_changed.connect(self._analysis_changed)
        session.selection_changed.connect(self._selection_changed)
        # Another document (New, Open, a drop) is a new network: its drawing gets a view of its own.
        self._new_document = False
        session.spec_loaded.connect(lambda _spec: self._document_loaded())
        self._offer_profiled()

    # Options

    @property
    def request(self) -> DiagramRequest:
        spec = self.session.analysis.spec
        return DiagramRequest(
            spec,
            self.level_box.currentData(),
            self.style_box.currentData(),
            self.direction_box.currentData(),
            self._colour_by(spec),
            self.fold_box.currentData(),
            self.wrap_box.currentData(),
            self.unfolded,
        )

    def _document_loaded(self) -> None:
        self._new_document = True
        self.unfolded = frozenset()  # another network's groups are folded as it opens

    def _colour_by(self, spec: ArchSpec) -> ColourBy | None:
        metric = self.colour_box.currentData()
        if not metric:
            return None
        profile = self._profiles.for_spec(spec)
        if metric in PROFILED_METRICS and profile is None:
            return None  # offered only with a profile of this architecture
        return ColourBy(metric, profile, self.values_box.isChecked())

    def _offer_profiled(self) -> None:
        """Latency and GMAC/s are offered while the last profile is of the architecture on show."""
        profiled = self._profiles.for_spec(self.session.analysis.spec) is not None
        model = self.colour_box.model()
        for row in range(self.colour_box.count()):
            if self.colour_box.itemData(row) in PROFILED_METRICS:
                item = model.item(row)  # type: ignore[attr-defined]
                item.setEnabled(profiled)
                item.setToolTip("" if profiled else "Profile this architecture first (the Profile tab)")
        if not profiled and self.colour_box.currentData() in PROFILED_METRICS:
            self.colour_box.setCurrentIndex(0)
            self._say(
                "warning", "The profile was of another architecture: profile this one to colour by time"
            )

    def _colour_changed(self) -> None:
        self.values_box.setEnabled(bool(self.colour_box.currentData()))
        self.request_drawing()

    def set_options(
        self,
        level: str | None = None,
        style: str | None = None,
        rankdir: str | None = None,
        fold: str | None = None,
        wrap: str | None = None,
    ) -> None:
        chosen = (
            (self.level_box, level),
            (self.style_box, style),
            (self.direction_box, rankdir),
            (self.fold_box, fold),
            (self.wrap_box, wrap),
        )
        for box, value in chosen:
            if value is not None:
                index = box.findData(value)
                if index < 0:
                    raise ValueError(f"unknown diagram option {value!r}")
                box.setCurrentIndex(index)

    def use_settings(self, settings: QSettings) -> None:
        """Show the options stored in ``settings`` and store every later change there."""
        self._settings = None  # what is read back is not written again
        for box, key in self._remembered:
            index = box.findData(settings.value(key, ""))
            if index >= 0:  # an option this version no longer offers keeps the default
                box.setCurrentIndex(index)
        self._settings = settings

    def _option_changed(self, box: QComboBox, key: str) -> None:
        if self._settings is not None:
            self._settings.setValue(key, box.currentData())
        self._forget_export()  # it named the file of the diagram drawn before
        self.request_drawing()

    # Drawing

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self.request_drawing()

    def _analysis_changed(self, _analysis: Analysis) -> None:
        self._offer_profiled()
        self._forget_export()  # it named the file of the network drawn before
        self.request_drawing()

    def _forget_export(self) -> None:
        if self.message.property("kind") == "export" and not self.message.text().startswith("Exporting"):
            self.message.hide()

    def request_drawing(self, force: bool = False) -> None:
        """Draw the current spec with the chosen options (later, if the tab is hidden)."""
        if not self.isVisible() and not force:
            self._dirty = True
            return
        self._dirty = False
        request = self.request
        shown = self.drawing.request if self.drawing is not None else None
        if request == shown and self._drawings.outstanding is None and not force and self.missing is None:
            return
        self._busy_timer.start()
        self._drawings.request(request)

    @property
    def dropped(self) -> int:
        """Drawings that finished after a newer request was made."""
        return self._drawings.dropped

    def _finished(self, result: Drawing | GraphvizMissing) -> None:
        self._idle()
        if isinstance(result, GraphvizMissing):
            self._show_missing(result)
            return
        self.missing = None
        previous = self.drawing
        keep_view = previous is not None and previous.request.level == result.request.level
        keep_view = keep_view and previous.request.rankdir == result.request.rankdir
        keep_view = keep_view and previous.request.wrap == result.request.wrap
        keep_view = keep_view and previous.graph.fold == result.graph.fold
        keep_view = keep_view and not self._new_document and not _another_preset(previous, result)
        self._new_document = False
        self.drawing = result
        self.pages.setCurrentWidget(self.view)
        self._enable_zoom(True)
        self.view.show_drawing(result, keep_view)
        self._keep_anchor_in_place()
        # A new level or direction shows where the selection went; an edit keeps the view.
        self._selection_changed(self.session.selected_rows, scroll=not keep_view)
        self._show_status()
        if result.warnings:
            self._say("warning", "graphviz: " + "; ".join(result.warnings))
        elif self.message.property("kind") != "export":
            self.message.hide()

    def _failed(self, message: str) -> None:
        self._idle()
        self._status("")
        self._say("error", f"The diagram could not be drawn: {message}")

    def _show_busy(self) -> None:
        wanted = self._drawings.outstanding
        if wanted is not None:
            self.busy.show()
            self.view.set_stale(True)
            name = preset_name_of(wanted.spec) or "this network"
            self._status(f"Drawing the {wanted.level}-level diagram of {name}…")

    def _idle(self) -> None:
        self._busy_timer.stop()
        self.busy.hide()
        self.view.set_stale(False)

    def is_ready(self) -> bool:
        """Nothing is being drawn and what is shown belongs to the current spec."""
        if self._drawings.busy or self._dirty:
            return False
        shown = self.missing.request if self.missing is not None else None
        shown = self.drawing.request if self.drawing is not None and shown is None else shown
        return shown == self.request

    def _show_missing(self, missing: GraphvizMissing) -> None:
        self.missing = missing
        self.drawing = None
        self.view.clear()
        lines = "<br>".join(escape(line) for line in install_instructions().splitlines())
        self.missing_label.setText(
            "<h3>Graphviz is needed to draw diagrams</h3>"
            f"<p>{escape(missing.message)}.</p>"
            f"<p><b>How to install it:</b></p><p style='font-family: monospace'>{lines}</p>"
            "<p>Everything else in the window works without it, and Export… can still "
            "save the diagram as Graphviz DOT source.</p>"
        )
        self.pages.setCurrentIndex(1)
        self._enable_zoom(False)
        self._status("Graphviz (dot) is not installed")

    def _enable_zoom(self, enabled: bool) -> None:
        for tool in self.zoom_tools:
            tool.setEnabled(enabled)

    def _status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setToolTip(text)  # the line may end in "…" in a narrow window

    def _show_status(self) -> None:
        drawing = self.drawing
        if drawing is None:
            return
        graph = drawing.graph
        shortcuts = graph.shortcut_edges()
        reshaping = sum(edge.kind == "reshaping" for edge in shortcuts)
        name = preset_name_of(graph.spec) or "custom"
        parts = [f"{name}: {counted(len(graph.nodes), 'box', 'boxes')}"]
        if shortcuts:
            parts.append(f"{counted(len(shortcuts), 'shortcut')} ({reshaping} with layers)")
        folded = graph.folded_groups()
        if folded:
            blocks = sum(group.repeat for group in folded)
            parts.append(f"{blocks} identical blocks drawn as {len(folded)} · click a ×N box to unfold it")
        elif graph.groups:
            parts.append("click a dashed box to fold its blocks again")
        parts.append("click a box to select it · drag to pan · Ctrl+wheel to zoom")
        self.status.setText(" · ".join(parts))
        self.status.setToolTip("\n".join(parts))  # the line may be cut in a narrow window

    def _show_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f} %")

    def _say(self, kind: str, text: str) -> None:
        colours = {"error": "#b3261e", "warning": "#8a6d00", "export": "#1e7b34"}
        self.message.setStyleSheet(f"color: {colours[kind]};")
        self.message.setProperty("kind", kind)
        self.message.setText(text)
        self.message.show()

    # Selection

    def _current_graph_drawing(self) -> Drawing | None:
        """The drawing, if its rows are those of the session's analysis."""
        drawing = self.drawing
        if drawing is None or drawing.graph.spec != self.session.analysis.spec:
            return None
        return drawing

    def rows_for(self, element_id: str) -> tuple[int, ...]:
        """The analysis rows an element of the drawing stands for."""
        drawing = self._current_graph_drawing()
        return rows_for_element(drawing.graph, element_id) if drawing is not None else ()

    def click_element(self, element_id: str | None) -> None:
        """What a click on the element ``element_id`` does (None: the background): a fold
        group's box folds or unfolds it, anything else selects its rows."""
        if element_id is None:
            self.session.select_rows(())
            return
        drawing = self._current_graph_drawing()
        if drawing is None:
            return
        group = _fold_group_box(drawing, element_id)
        if group is not None:
            self.toggle_group(group.group or "")
        else:
            self.session.select_rows(self.rows_for(element_id))

    def _is_fold_group_box(self, element_id: str) -> bool:
        drawing = self._current_graph_drawing()
        return drawing is not None and _fold_group_box(drawing, element_id) is not None

    def toggle_group(self, group_id: str) -> None:
        """Draw the fold group ``group_id`` block by block, or once again if it is so drawn."""
        unfolding = group_id not in self.unfolded
        self.unfolded = self.unfolded | {group_id} if unfolding else self.unfolded - {group_id}
        # The group's box stays where it is on screen while the drawing changes around it.
        box_id = f"cluster_{group_id}"
        region = self.drawing.regions.regions.get(box_id) if self.drawing is not None else None
        if region is not None:
            self._anchor = (box_id, self.view.mapFromScene(region.rect.topLeft()).toPointF())
        self.request_drawing()

    def _keep_anchor_in_place(self) -> None:
        anchor, self._anchor = self._anchor, None
        if anchor is None or self.drawing is None:
            return
        box_id, was = anchor
        region = self.drawing.regions.regions.get(box_id)
        if region is None:
            return
        now = self.view.mapFromScene(region.rect.topLeft()).toPointF()
        for bar, moved in (
            (self.view.horizontalScrollBar(), now.x() - was.x()),
            (self.view.verticalScrollBar(), now.y() - was.y()),
        ):
            bar.setValue(bar.value() + round(moved))

    def _selection_changed(self, rows: tuple[int, ...], scroll: bool = True) -> None:
        drawing = self._current_graph_drawing()
        shown = () if drawing is None else elements_for_rows(drawing.graph, rows, drawing.regions.regions)
        self.view.set_highlight(shown, scroll=scroll)

    # Find

    def find_layer(self, text: str, step: int = 0) -> str | None:
        """Select and centre the drawn element whose name best matches ``text``; with ``step``
        1 (or -1) the match after (before) the one found last for the same text."""
        drawing = self._current_graph_drawing()
        if drawing is None or not text.strip():
            self._found, self._found_at, self._found_in = (), -1, (None, "")
            self.find_count.setText("")
            return None
        if self._found_in != (drawing, text):
            self._found = find_elements(
                drawing.graph, self.session.analysis.rows, text, drawing.regions.regions
            )
            self._found_in = (drawing, text)
            self._found_at, step = -1, 0
        if not self._found:
            self.find_count.setText("no match")
            return None
        self._found_at = (max(self._found_at, 0) + step) % len(self._found)
        self.find_count.setText(f"{self._found_at + 1} of {len(self._found)}")
        element = self._found[self._found_at]
        if _fold_group_box(drawing, element) is None:
            self.session.select_rows(self.rows_for(element))
        self.view.centre_on(drawing.regions.regions[element].rect)
        return element

    def _find_again(self) -> None:
        backwards = QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier
        self.find_layer(self.find_edit.text(), -1 if backwards else 1)

    def describe(self, element_id: str) -> str:
        if self.drawing is None:
            return ""
        graph = self.drawing.graph
        return describe_element(graph, element_id, self._profiles.for_spec(graph.spec))

    # Export

    def suggested_name(self, fmt: Format) -> str:
        path = self.session.path
        stem = path.stem if path else (preset_name_of(self.session.spec) or "diagram").split("/")[-1]
        return f"{stem}-{self.level_box.currentData()}.{fmt}"

    def export_dialog(self) -> None:
        filters = ";;".join(FILE_FILTERS[fmt] for fmt in FORMATS)
        start = str(Path.home() / self.suggested_name("svg"))
        chosen, used_filter = QFileDialog.getSaveFileName(self, "Export diagram", start, filters)
        if not chosen:
            return
        fmt = next((fmt for fmt, text in FILE_FILTERS.items() if text == used_filter), "svg")
        path = Path(chosen)
        if path.suffix.lower().lstrip(".") not in FORMATS:
            path = path.with_name(f"{path.name}.{fmt}")
        self.export_to(path)

    def export_to(self, path: Path, dpi: int | None = None) -> None:
        """Write the diagram to ``path`` (format from its suffix) on a worker; the result shows inline."""
        request = self.request
        fmt = path.suffix.lower().lstrip(".")
        dpi = dpi or (self.dpi_box.value() if fmt == "png" else None)
        self._say("export", f"Exporting {path.name}…")
        run_in_thread(
            _export,
            request,
            path,
            dpi,
            on_result=lambda result: self._exported(path, result),
            on_error=lambda message: self._say("error", f"Could not export {path.name}: {message}"),
            context=self,
        )

    def _exported(self, path: Path, result: Rendered | str) -> None:
        if isinstance(result, str):
            self._say("error", f"Could not export {path.name}: {result}")
            return
        size = path.stat().st_size if path.exists() else 0
        text = f"Saved {path} ({format_bytes(size)})"
        if result.warnings:
            self._say("warning", text + ". graphviz: " + "; ".join(result.warnings))
        else:
            self._say("export", text)


def _fold_group_box(drawing: Drawing, element_id: str) -> Cluster | None:
    """The folded or unfolded group's box ``element_id`` names, if it names one."""
    target = element_target(drawing.graph, element_id)
    if isinstance(target, Cluster) and target.kind in ("folded", "unfolded"):
        return target
    return None


def _another_preset(previous: Drawing | None, drawing: Drawing) -> bool:
    """Whether ``drawing`` is of a preset other than the one ``previous`` drew: a new network,
    not an edit of the one on show."""
    name = preset_name_of(drawing.request.spec)
    return name is not None and previous is not None and name != preset_name_of(previous.request.spec)


def _export(request: DiagramRequest, path: Path, dpi: int | None) -> Rendered | str:
    """The file written, or why not in words a person can act on (runs on a worker)."""
    try:
        # As the view draws it: the same fold, wrap and groups drawn block by block.
        return export_diagram(
            request.spec,
            path,
            request.level,
            request.style,
            request.rankdir,
            None,
            dpi,
            request.colour_by,
            fold=request.drawn_fold(),
            wrap=request.wrap,
            unfolded=request.unfolded,
        )
    except (GraphvizError, ValueError, OSError) as exc:
        return str(exc)
