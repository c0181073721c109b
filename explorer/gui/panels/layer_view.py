"""The Layers tab: the layer tree with a filter, expand/collapse and copy."""

from __future__ import annotations

import heapq

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QKeySequence,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QToolTip,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from explorer.core.analysis import Analysis
from explorer.core.quoting import quote_value
from explorer.gui import icons
from explorer.gui.models.layer_tree import (
    COLUMNS,
    KEPT,
    KEY_ROLE,
    KIND_ROLE,
    STALE_PROFILE_INK,
    TAB_COLUMNS,
    TAB_PROFILE_COLUMNS,
    LayerTreeModel,
    Node,
)
from explorer.gui.plain_text import plain
from explorer.gui.profile_store import profile_store
from explorer.gui.row_selection import LayerSelectionSync
from explorer.gui.session import Session
from explorer.gui.style import style_table, styled

COLUMN_WIDTHS = tuple(column.tab_width for column in TAB_COLUMNS)
PROFILE_COLUMN_WIDTHS = tuple(column.tab_width for column in TAB_PROFILE_COLUMNS)
# The name and the type: they take what room there is to spare, and give it up first (a long
# type is cut before any figure is).
TEXT_COLUMNS = tuple(place for place, column in enumerate(TAB_COLUMNS) if column.heading)
COLUMN_MAX_GROWTH = 140
MEASURED_PER_COLUMN = 8  # of the longest texts an edit adds, the ones measured


STALE_PROFILE_NOTE = " (of an earlier architecture: profile it again)"


class TooltipDelegate(QStyledItemDelegate):
    """Paints as Qt's own delegate (in C++: Python is called only for what is overridden,
    and nothing per cell is), and shows each cell's tooltip, made when asked for."""

    def __init__(self, model: LayerTreeModel, parent: QTreeView) -> None:
        super().__init__(parent)
        self.model = model

    def tooltip(self, index: QModelIndex | QPersistentModelIndex) -> str:
        return self.model.tooltip(index)

    def helpEvent(self, event, view, option, index) -> bool:  # type: ignore[no-untyped-def]
        if event.type() == QEvent.Type.ToolTip and index.isValid():
            text = self.tooltip(index)
            if text:
                QToolTip.showText(event.globalPos(), text, view)
            else:
                QToolTip.hideText()
            return True
        return super().helpEvent(event, view, option, index)


class LayerDelegate(TooltipDelegate):
    """Greys what no longer holds, at paint time, so that no row is touched for it: the
    marker colours while the table is disabled (stale), and the time columns of a profile
    of another architecture than the one shown."""

    def __init__(self, model: LayerTreeModel, parent: QTreeView) -> None:
        super().__init__(model, parent)
        self._stale_ink = QBrush(QColor(STALE_PROFILE_INK))

    def stale_profile_cell(self, index: QModelIndex | QPersistentModelIndex) -> bool:
        return index.column() >= len(COLUMNS) and not self.model.profile_current

    def initStyleOption(self, option: QStyleOptionViewItem, index) -> None:  # type: ignore[no-untyped-def]
        super().initStyleOption(option, index)
        ink = None
        if self.stale_profile_cell(index):
            ink = self._stale_ink
        elif not option.state & QStyle.StateFlag.State_Enabled:
            ink = option.widget.palette().brush(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        if ink is not None:
            palette = option.palette  # a copy: set back below
            palette.setBrush(QPalette.ColorRole.Text, ink)
            option.palette = palette

    def tooltip(self, index: QModelIndex | QPersistentModelIndex) -> str:
        text = super().tooltip(index)
        return text + STALE_PROFILE_NOTE if text and self.stale_profile_cell(index) else text


class LayerView(QWidget):
    """The layer table. With ``first_rows``, the first analysis makes only about that many
    rows at once, the rest when the model's ``finish_rows`` is called (or anything needs them)."""

    def __init__(
        self, session: Session, parent: QWidget | None = None, first_rows: int | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.model = LayerTreeModel(self)
        self.model.spread_refills = True  # a long edit's cells are set over turns of the event loop

        self.filter_edit = QLineEdit(placeholderText="Filter by name or type  (e.g. conv, shortcut, layer3)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._filter_changed)
        expand = QToolButton(text="Expand all", toolTip="Expand every stage and block")
        collapse = QToolButton(text="Collapse all", toolTip="Show only the stem, the stages and the head")
        expand.clicked.connect(self.expand_all)
        collapse.clicked.connect(self.collapse_all)
        legend = QLabel(
            f'<span style="color:{icons.RESIDUAL_COLOUR.name()}">⊕ residual add</span> &nbsp; '
            f'<span style="color:{icons.PROJECTION_COLOUR.name()}">↱ shortcut with weights</span> &nbsp; '
            f'<span style="color:{icons.ZERO_PAD_COLOUR.name()}">⇢ parameter-free shortcut</span>'
        )
        legend.setProperty("role", "hint")
        self.no_match = plain(QLabel(objectName="NoLayerMatch"))
        self.no_match.setProperty("role", "hint")
        self.no_match.hide()
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(expand)
        bar.addWidget(collapse)

        self.tree = QTreeView()
        self.tree.setModel(self.model)
        # The greying delegate calls into Python for every cell painted: it is installed only
        # while something is greyed, the plain one the rest of the time.
        self.delegate = LayerDelegate(self.model, self.tree)
        self.plain_delegate = TooltipDelegate(self.model, self.tree)
        self.tree.setItemDelegate(self.plain_delegate)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setUniformRowHeights(True)
        style_table(self.tree)  # no style sheet above the table: see explorer/gui/style.py
        # Names, types and figures are Latin text: laid out without shaping, a repaint of the
        # table takes a third less time.
        font = QFont(self.tree.font())
        font.setStyleStrategy(QFont.StyleStrategy.PreferNoShaping)
        self.tree.setFont(font)
        styled(self.tree.header())
        self.tree.setAlternatingRowColors(True)
        # No sort until a header is clicked: the tree starts in execution order.
        self.tree.header().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.tree.setSortingEnabled(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.sectionResized.connect(self._column_resized)
        self._fitting = False
        self._user_sized = False
        self._widths_of: Analysis | None = None
        self._widest: dict[int, int] = {}  # per column, for the analysis above
        self._metrics: tuple[QFont, QFontMetrics] | None = None

        self.copy_action = QAction("Copy rows", self, shortcut=QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.copy_action.triggered.connect(self.copy_selection)
        self.tree.addAction(self.copy_action)
        self.filter_action = QAction("Filter layers", self, shortcut=QKeySequence.StandardKey.Find)
        self.filter_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.filter_action.triggered.connect(
            lambda: (self.filter_edit.setFocus(), self.filter_edit.selectAll())
        )
        self.addAction(self.filter_action)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addWidget(self.no_match)
        layout.addWidget(self.tree, 1)
        layout.addWidget(legend)
        for part in (self.filter_edit, expand, collapse, self.no_match, legend):
            styled(part)

        # The expanded state survives rebuilds: a default plus the nodes toggled against it.
        self._expand_by_default = True
        self._toggled: set[str] = set()
        self._restoring = False
        self._inserting = False
        self.model.rowsInserted.connect(self._rows_inserted)
        self._closed: list[tuple[QPersistentModelIndex, int]] = []  # rows closed for an insertion
        # The table's repaint after an edit waits until the event loop has nothing else to
        # do: a key pressed meanwhile is handled between the update and the paint, instead
        # of after both (each about 5 ms on resnet1202, 10 together).
        self._paint_later = QTimer(self, singleShot=True, interval=0)
        self._paint_later.timeout.connect(lambda: self.tree.viewport().setUpdatesEnabled(True))
        self.model.rows_coming.connect(self._close_for_insertion)
        self.model.rows_came.connect(self._reopen_after_insertion)
        self.model.cells_changed.connect(self.tree.viewport().update)
        self.tree.expanded.connect(lambda index: self._user_toggled(index, True))
        self.tree.collapsed.connect(lambda index: self._user_toggled(index, False))

        session.analysis_changed.connect(self.show_analysis)
        # The last profile's time columns, greyed by the model while another spec is on show.
        profile_store(session).changed.connect(self.model.set_profile)
        profile_store(session).changed.connect(lambda _result: self._choose_delegate())
        self.model.columnsInserted.connect(lambda *_args: self._fit_columns())
        # Rows selected here are the session's selection, shown by the diagram too.
        self.selection_sync = LayerSelectionSync(session, self.tree, self.model)
        self.model.rows_finished.connect(self._restore_expansion)
        self._first_rows = first_rows
        self.show_analysis(session.analysis)

    def changeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().changeEvent(event)
        if event.type() == QEvent.Type.EnabledChange:
            self._choose_delegate()

    def _choose_delegate(self) -> None:
        profiled = self.model.columnCount() > len(COLUMNS)
        greying = not self.isEnabled() or (profiled and not self.model.profile_current)
        wanted = self.delegate if greying else self.plain_delegate
        if self.tree.itemDelegate() is not wanted:
            self.tree.setItemDelegate(wanted)  # and repaints

    # Column widths: sensible at any window size until the person drags a column

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        self._fit_columns()

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().showEvent(event)
        # A window started on another tab sized this page while it was hidden: its first
        # showing brings no resize, so the columns are fitted here.
        self._fit_columns()

    def _fit_columns(self) -> None:
        # A hidden view has no real width yet; it is fitted when shown (or resized).
        if self._user_sized or not self.isVisible():
            return
        available = self.tree.viewport().width() - 1
        if not self.tree.verticalScrollBar().isVisible():
            # Room for the scroll bar that a longer table (another filter) will show.
            available -= self.tree.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        profiled = self.model.columnCount() - len(COLUMN_WIDTHS)  # a profile's time columns
        widths = [*COLUMN_WIDTHS, *PROFILE_COLUMN_WIDTHS[:profiled]]
        spare = available - sum(widths)
        if spare < 0:
            # Shrink the columns in their order (the text columns come first) down to their
            # least width, a figure's down to its widest entry.
            smallest = [
                self._content_width(place) if column.tab_min_width is None else column.tab_min_width
                for place, column in enumerate(TAB_COLUMNS)
            ]
            smallest += PROFILE_COLUMN_WIDTHS[:profiled]
            for column in range(len(widths)):
                cut = max(min(-spare, widths[column] - smallest[column]), 0)
                widths[column] -= cut
                spare += cut
        else:  # grow the text columns, but not so far that the numbers drift away
            for column in TEXT_COLUMNS:
                grow = min(spare // len(TEXT_COLUMNS), COLUMN_MAX_GROWTH)
                widths[column] += grow
        self._fitting = True
        try:
            for column, width in enumerate(widths):
                self.tree.setColumnWidth(column, width)
        finally:
            self._fitting = False

    def _content_width(self, column: int) -> int:
        """The width that shows every entry of ``column`` (in bold, as group rows are, and
        in rows filtered out or not yet scrolled to) and its title whole."""
        analysis = self.model.analysis
        if analysis is not self._widths_of:
            self._widths_of, self._widest = analysis, {}
        if column not in self._widest:
            # The model's own rows, whose cells are formatted already; each distinct text is
            # measured once (shapes and counts repeat from block to block).
            texts: set[str] = set()
            pending = list(self.model.root().children) if analysis is not None else []
            while pending:
                node = pending.pop()
                texts.add(node.cells()[column])
                pending.extend(node.children)
            metrics = self._bold_metrics()
            self._widest[column] = max((metrics.horizontalAdvance(text) for text in texts), default=0)
        title = self.model.headerData(column, Qt.Orientation.Horizontal)
        header_width = self.tree.header().fontMetrics().horizontalAdvance(title) + 22
        return max(self._widest[column] + 14, header_width)

    def _column_resized(self, *_args: object) -> None:
        if not self._fitting:
            self._user_sized = True

    # Showing an analysis

    def show_analysis(self, analysis: Analysis) -> None:
        change = self.session.tree_change
        if change is None or change.analysis is not analysis:
            first_rows, self._first_rows = self._first_rows, None
            self.model.set_analysis(analysis, first_rows)
            self._restore_expansion()
        else:
            if self.tree.isVisible():
                self.tree.viewport().setUpdatesEnabled(False)  # the rows; the header and scroll bar as usual
                self._paint_later.start()
            self._inserting = True
            try:
                in_place = self.model.apply_change(change)
            finally:
                self._inserting = False
            if in_place:
                # Only the new and changed rows are measured, the others were before.
                self._widen_for(change.base, change.root)
            else:
                self._restore_expansion()
        self._fit_columns()  # the figures of another network may need other widths
        self._show_no_match()
        self._choose_delegate()
        # Lay the rows out now rather than at the next paint: the window then redraws in
        # two short steps (this one, the paint) instead of one long one.
        self.tree.executeDelayedItemsLayout()

    def _close_for_insertion(self, source_parent: QModelIndex) -> None:
        """Rows arriving under an expanded row make the tree lay out every expanded row
        again; under a closed one they cost nothing, and opening it again lays out its own
        rows only. So a stage gaining blocks is closed for a moment, not the whole table."""
        index = self.model.mapFromSource(source_parent)
        if not self._inserting or not index.isValid() or not self.tree.isExpanded(index):
            return
        self._closed.append((QPersistentModelIndex(index), self.tree.verticalScrollBar().value()))
        self._restoring = True
        try:
            self.tree.collapse(index)
        finally:
            self._restoring = False

    def _reopen_after_insertion(self, _source_parent: QModelIndex) -> None:
        closed, self._closed = self._closed, []
        self._restoring = True
        try:
            for index, scrolled in reversed(closed):
                self.tree.expand(QModelIndex(index))
                self.tree.verticalScrollBar().setValue(scrolled)
        finally:
            self._restoring = False

    def _rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        """New stages and blocks open or stay closed as the others do."""
        if not self._inserting:
            return
        self._restoring = True
        try:
            pending = [self.model.index(row, 0, parent) for row in range(first, last + 1)]
            while pending:
                index = pending.pop()
                if index.data(KIND_ROLE) == "layer":
                    continue
                expanded = self._expand_by_default != (index.data(KEY_ROLE) in self._toggled)
                self.tree.setExpanded(index, expanded)
                pending.extend(self.model.index(row, 0, index) for row in range(self.model.rowCount(index)))
        finally:
            self._restoring = False

    def _widen_for(self, base: Analysis, changed: Node) -> None:
        """Keep the column widths measured for ``base`` up to date with the cells of
        ``changed`` (nodes that were added or whose text changed), measuring only those."""
        measured, self._widths_of = self._widths_of, self.model.analysis
        if measured is not base:
            self._widest = {}
        if not self._widest:
            return
        shown = []
        pending = [changed]
        while pending:
            node = pending.pop()
            if node.kind not in ("root", KEPT):
                shown.append(node.cells())
            pending.extend(node.children)
        # The widest text is among the longest: measure a few of those, not every cell.
        metrics = self._bold_metrics()
        for column in self._widest:
            texts = {cells[column] for cells in shown}
            for text in heapq.nlargest(MEASURED_PER_COLUMN, texts, key=len):
                self._widest[column] = max(self._widest[column], metrics.horizontalAdvance(text))

    def _bold_metrics(self) -> QFontMetrics:
        font = self._bold_font()
        if self._metrics is None or self._metrics[0] != font:
            self._metrics = (font, QFontMetrics(font))
        return self._metrics[1]

    def _bold_font(self) -> QFont:
        font = QFont(self.tree.font())
        font.setBold(True)
        return font

    def _show_no_match(self) -> None:
        """An empty table says why: nothing matches the filter."""
        text = self.filter_edit.text().strip()
        empty = bool(text) and self.model.rowCount() == 0
        self.no_match.setText(f"No layer matches {quote_value(text)}" if empty else "")
        self.no_match.setVisible(empty)

    def _restore_expansion(self) -> None:
        self._restoring = True
        try:
            if self._expand_by_default:
                self.tree.expandAll()
            else:
                self.tree.collapseAll()
            if self._toggled:
                for index in self._group_indexes():
                    if index.data(KEY_ROLE) in self._toggled:
                        self.tree.setExpanded(index, not self._expand_by_default)
        finally:
            self._restoring = False

    def _group_indexes(self) -> list[QModelIndex]:
        found = []
        pending = [QModelIndex()]
        while pending:
            parent = pending.pop()
            for row in range(self.model.rowCount(parent)):
                index = self.model.index(row, 0, parent)
                if index.data(KIND_ROLE) != "layer":
                    found.append(index)
                    pending.append(index)
        return found

    def _user_toggled(self, index: QModelIndex, expanded: bool) -> None:
        if self._restoring:
            return
        key = index.data(KEY_ROLE)
        if expanded == self._expand_by_default:
            self._toggled.discard(key)
        else:
            self._toggled.add(key)

    def expand_all(self) -> None:
        self._expand_by_default, self._toggled = True, set()
        self._restore_expansion()

    def collapse_all(self) -> None:
        self._expand_by_default, self._toggled = False, set()
        self._restore_expansion()

    def _filter_changed(self, text: str) -> None:
        self.model.set_filter(text)
        if text.strip():
            self.tree.expandAll()
        else:
            self._restore_expansion()
        # Rows the filter hid lost their selection: the session's selection is shown again.
        self.selection_sync.show_rows(self.session.selected_rows, scroll=False)
        self._show_no_match()

    # Copying

    def selected_text(self) -> str:
        """The selected rows, in the order shown, as tab-separated text with a header line."""
        rows = self.tree.selectionModel().selectedRows(0)
        rows.sort(key=_display_path)
        lines = ["\t".join(COLUMNS)]
        for index in rows:
            cells = [self.model.copy_text(index.siblingAtColumn(c)) for c in range(len(COLUMNS))]
            lines.append("\t".join(cells))
        return "\n".join(lines) + "\n" if rows else ""

    def copy_selection(self) -> None:
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)

    def _context_menu(self, position) -> None:  # type: ignore[no-untyped-def]
        menu = QMenu(self)
        menu.addAction(self.copy_action)
        menu.addSeparator()
        menu.addAction("Expand all", self.expand_all)
        menu.addAction("Collapse all", self.collapse_all)
        menu.exec(self.tree.viewport().mapToGlobal(position))

    def visible_row_count(self) -> int:
        """Rows the tree holds under its current filter (expanded or not)."""
        total, pending = 0, [QModelIndex()]
        while pending:
            parent = pending.pop()
            count = self.model.rowCount(parent)
            total += count
            pending.extend(self.model.index(row, 0, parent) for row in range(count))
        return total


def _display_path(index: QModelIndex) -> tuple[int, ...]:
    path = []
    while index.isValid():
        path.append(index.row())
        index = index.parent()
    return tuple(reversed(path))
