"""The layer table as a tree: stem, stages > blocks > layers, head.

The rows live in a QStandardItemModel in execution order and are shown through a
QSortFilterProxyModel that sorts (by value) and filters (by path or type) in Qt itself:
after an edit the view lays out every expanded row again, and with a Python model each
row costs several calls into Python. ``Node`` objects mirror the rows and hold their
figures; an edit's ``TreeChange``, made on a worker with the new rows' items, changes
only the rows that differ.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QFont, QIcon, QStandardItem, QStandardItemModel

from explorer.core.analysis import Analysis, BlockSummary, LayerRow, StageSummary
from explorer.core.columns import Output, columns_for, profile_columns_for
from explorer.core.units import format_shape
from explorer.gui import icons

if TYPE_CHECKING:  # the profile's module is not on the way to the first picture
    from explorer.core.profile import GroupTime, LayerTime, Profile

# The declared columns, laid out once, when the tab's module is imported: rows are made and
# repainted thousands of times, each looking up its columns here.
TAB_COLUMNS = columns_for(Output.LAYERS_TAB)
# Titles in full, as copied; the header shows the short ones, so that every figure fits in a
# small window.
COLUMNS = tuple(column.full_title for column in TAB_COLUMNS)
_COLUMN_COUNT = len(COLUMNS)
NUMERIC_COLUMNS = frozenset(place for place, column in enumerate(TAB_COLUMNS) if column.align == "right")
# The row's name and type, which a stage's, block's or group's row words its own way; every
# other column shows one of the row's figures (a node's ``figures``, in this order).
_NAME = next(place for place, column in enumerate(TAB_COLUMNS) if column.key == "name")
_TYPE_COLUMN = next(column for column in TAB_COLUMNS if column.key == "type")
_TYPE = TAB_COLUMNS.index(_TYPE_COLUMN)
_FIGURE_COLUMNS = tuple(place for place, column in enumerate(TAB_COLUMNS) if not column.heading)
_FIGURES = tuple(TAB_COLUMNS[place] for place in _FIGURE_COLUMNS)
_FIGURE_READERS = tuple(column.cell_value for column in _FIGURES)
_FIGURE_AT = {column: figure for figure, column in enumerate(_FIGURE_COLUMNS)}
_FIGURE_OF_KEY = {column.key: figure for figure, column in enumerate(_FIGURES)}
# Shown after a profile: each row's median time, its share of the total and its speed.
TAB_PROFILE_COLUMNS = profile_columns_for(Output.LAYERS_TAB)
PROFILE_COLUMNS = tuple(column.header for column in TAB_PROFILE_COLUMNS)
PROFILE_TIPS = tuple(column.description for column in TAB_PROFILE_COLUMNS)
STALE_PROFILE_INK = "#9AA0A6"
SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 1
KIND_ROLE = int(Qt.ItemDataRole.UserRole) + 2  # "group", "stage", "block" or "layer"
KEY_ROLE = int(Qt.ItemDataRole.UserRole) + 3  # a name that survives a rebuild, for the expanded state
COPY_ROLE = int(Qt.ItemDataRole.UserRole) + 4  # the cell as copied: full paths, plain numbers

_Index = QModelIndex | QPersistentModelIndex
REFILL_BUDGET_S = 0.004  # of cells set again in one turn of the event loop


@dataclass(eq=False, slots=True)
class Node:
    kind: str
    key: str
    label: str
    full_name: str
    type_text: str
    figures: tuple[Any, ...]  # the values of the figure columns; None where a row shows none
    marker: str = ""  # ADD_MARKER, a shortcut marker, or ""
    layer: LayerRow | None = None  # a layer row's own record: its tooltip is made from it when asked
    parent: Node | None = None
    row: int = 0
    children: list[Node] = field(default_factory=list)
    _cells: tuple[str, ...] = ()
    items: list[QStandardItem] | None = None  # the row's items, made on a worker, until shown

    def adopt(self, child: Node) -> Node:
        child.parent = self
        child.row = len(self.children)
        self.children.append(child)
        return child

    def figure(self, key: str) -> Any:
        """The row's value in the column called ``key`` (a figure column's)."""
        return self.figures[_FIGURE_OF_KEY[key]]

    def sort_key(self, column: int) -> object:
        if column == _NAME:  # execution order: a proxy sorts the rows under one parent only
            return self.row
        if column == _TYPE:
            return self.type_text
        figure = _FIGURE_AT[column]
        value = self.figures[figure]
        key = _FIGURES[figure].sort_key
        return value if key is None or value is None else key(value)

    def cells(self) -> tuple[str, ...]:
        if not self._cells:  # formatted once: a repaint asks for each cell many times
            cells = [""] * _COLUMN_COUNT
            cells[_NAME], cells[_TYPE] = self.label, self.type_text
            for place, column, value in zip(_FIGURE_COLUMNS, _FIGURES, self.figures, strict=False):
                if value is not None:
                    cells[place] = column.shown(value)
            self._cells = tuple(cells)
        return self._cells


# What a row's icon and colour say: the residual add, or a shortcut's layers, told apart by
# whether the shortcut learns anything (a projection, an avg-down) or not (a zero-pad).
ADD_MARKER = "add"
WEIGHTED_SHORTCUT_MARKER = "weighted shortcut"
FREE_SHORTCUT_MARKER = "parameter-free shortcut"


def _shortcut_marker(shortcut_rows: list[LayerRow]) -> str:
    if not shortcut_rows:
        return ""
    return WEIGHTED_SHORTCUT_MARKER if any(row.params for row in shortcut_rows) else FREE_SHORTCUT_MARKER


def _layer_marker(row: LayerRow, shortcut_marker: str) -> str:
    if row.op == "add":
        return ADD_MARKER
    if row.role == "shortcut":
        return shortcut_marker
    return ""


def _layer_tooltip(row: LayerRow) -> str:
    lines = [f"<b>{row.name}</b> &nbsp; {row.type}"]
    if row.kernel_size is not None:
        detail = f"kernel {row.kernel_size}, stride {row.stride}, padding {row.padding}"
        if row.groups and row.groups > 1:
            detail += f", groups {row.groups}"
        lines.append(detail)
    lines.append(f"{format_shape(row.input_shape)} → {format_shape(row.output_shape)}")
    if row.summary_id:
        lines.append(f"torchsummary row: {row.summary_id}")
    if row.op == "add":
        lines.append("the shortcut rejoins the main path here")
    return "<br>".join(lines)


def _layer_node(row: LayerRow, prefix: str, shortcut_marker: str = "") -> Node:
    label = row.name[len(prefix) :] if prefix and row.name.startswith(prefix) else row.name
    return Node(
        kind="layer",
        key=f"{row.index}",
        label=label,
        full_name=row.name,
        type_text=_TYPE_COLUMN.cell_value(row),
        figures=tuple([read(row) for read in _FIGURE_READERS]),
        marker=_layer_marker(row, shortcut_marker),
        layer=row,
    )


def _group(kind: str, key: str, label: str, type_text: str, rows: list[LayerRow]) -> Node:
    return Node(
        kind=kind,
        key=key,
        label=label,
        full_name=label,
        type_text=type_text,
        figures=tuple([column.group_value(rows) for column in _FIGURES]),
    )


KEPT = "kept"  # the kind of a placeholder in a change: the node with this key stays as it is


def _kept(key: str) -> Node:
    return Node(KEPT, key, "", "", "", ())


def _stem_node(analysis: Analysis) -> Node:
    rows = analysis.rows[: analysis.stages[0].blocks[0].first_row]
    stem = _group("group", "stem", "stem", f"Stem ({analysis.spec.stem})", list(rows))
    for row in rows:
        stem.adopt(_layer_node(row, ""))
    return stem


def _block_node(analysis: Analysis, block: BlockSummary) -> Node:
    members = [r for r in analysis.rows[block.first_row : block.last_row + 1] if r.op != "block"]
    block_node = _group("block", block.name, block.name, f"{block.type}", members)
    dilation = f", dilation {block.dilation}" if block.dilation != 1 else ""
    block_node.type_text = f"{block.type} ({block.shortcut}{dilation})"
    block_node.marker = _shortcut_marker([row for row in members if row.role == "shortcut"])
    for row in members:
        block_node.adopt(_layer_node(row, f"{block.name}.", block_node.marker))
    return block_node


def _stage_node(analysis: Analysis, stage: StageSummary, kept_rows: int = 0) -> Node:
    """A stage's node; blocks whose rows all lie in the first ``kept_rows`` are placeholders."""
    rows = analysis.rows
    block_type = stage.blocks[0].type
    stage_rows = list(rows[stage.blocks[0].first_row : stage.blocks[-1].last_row + 1])
    text = f"{stage.depth} × {block_type}, stride {stage.stride}"
    stage_node = _group("stage", stage.name, stage.name, text, stage_rows)
    for block in stage.blocks:
        if block.last_row < kept_rows:
            stage_node.adopt(_kept(block.name))
        else:
            stage_node.adopt(_block_node(analysis, block))
    return stage_node


def _head_node(analysis: Analysis) -> Node | None:
    rows = analysis.rows[analysis.stages[-1].blocks[-1].last_row + 1 :]
    if not rows:
        return None
    head = _group("group", "head", "head", "Head", list(rows))
    for row in rows:
        head.adopt(_layer_node(row, ""))
    return head


def _tree(
    analysis: Analysis,
    kept_rows: int = 0,
    same_stages: frozenset[int] = frozenset(),
    shown_stem_rows: int | None = None,
) -> Node:
    """The tree of ``analysis``; parts whose rows all lie in the first ``kept_rows`` (the
    same row objects as in the tree shown) are placeholders for the nodes shown. The stem
    is kept only if the stem shown has as many rows (``shown_stem_rows``): a block kind can
    change the stem's end (a pre-activation network's stem has no norm), not its start."""
    root = Node("root", "", "", "", "", ())
    first_stage_row = analysis.stages[0].blocks[0].first_row
    stem_kept = first_stage_row <= kept_rows and shown_stem_rows == first_stage_row
    root.adopt(_kept("stem") if stem_kept else _stem_node(analysis))
    for stage in analysis.stages:
        if stage.index in same_stages and stage.blocks[-1].last_row < kept_rows:
            root.adopt(_kept(stage.name))
        else:
            root.adopt(_stage_node(analysis, stage, kept_rows))
    head = _head_node(analysis)
    if head is not None:
        root.adopt(head)
    return root


def build_tree(analysis: Analysis) -> Node:
    return _tree(analysis)


@dataclass(frozen=True, slots=True)
class TreeChange:
    """What an edit changes in the tree: made away from the GUI thread, from the analysis
    shown (``base``) and the new one. ``root`` holds new nodes, their text formatted, for
    whatever changed, and ``KEPT`` placeholders for the parts that stay as they are."""

    base: Analysis
    analysis: Analysis
    root: Node
    kept_rows: int


def tree_change(base: Analysis, analysis: Analysis) -> TreeChange:
    kept = 0
    if base.spec.stem == analysis.spec.stem:
        for old, new in zip(base.rows, analysis.rows, strict=False):
            if old is not new:
                break
            kept += 1
    same_stages = frozenset(
        new.index
        for old, new in zip(base.stages, analysis.stages, strict=False)
        if old is new or (old.depth == new.depth and old.stride == new.stride)
    )
    root = _tree(analysis, kept, same_stages, base.stages[0].blocks[0].first_row)
    # The rows the GUI thread will insert are made here, whole; rows it changes in place are not.
    shown = _layer_counts(base) if kept else {}
    look = _looks()
    pending = list(root.children)
    while pending:  # every new cell's text formatted here, not on the GUI thread
        node = pending.pop()
        if node.kind != KEPT:
            node.cells()
        pending.extend(node.children)
    for child in root.children:
        _make_new_rows(child, look, shown)
    return TreeChange(base, analysis, root, kept)


def _layer_counts(analysis: Analysis) -> dict[str, int]:
    """The stages, blocks and groups of the tree of ``analysis``, with how many layer rows
    each holds (a stage: its blocks), as ``apply_change`` will match them."""
    stages = analysis.stages
    first = stages[0].blocks[0].first_row
    last = stages[-1].blocks[-1].last_row
    counts = {"stem": first, "head": len(analysis.rows) - last - 1}
    for stage in stages:
        counts[stage.name] = len(stage.blocks)
        for block in stage.blocks:
            rows = analysis.rows[block.first_row : block.last_row + 1]
            counts[block.name] = sum(1 for row in rows if row.op != "block")
    return counts


def _make_new_rows(node: Node, look: _Look, shown: dict[str, int]) -> None:
    """Make the items of the rows under ``node`` that are not in the tree ``shown``."""
    if node.kind == KEPT:
        return
    count = shown.get(node.key)
    if count is None:  # a stage, block or group of its own: its row and every row below
        _make_rows(node, look)
    elif node.kind in ("block", "group"):  # layers are matched by position
        for layer in node.children[count:]:
            _make_rows(layer, look)
    else:
        for child in node.children:
            _make_new_rows(child, look, shown)


_MARKER_COLOURS = {
    ADD_MARKER: icons.RESIDUAL_COLOUR,
    WEIGHTED_SHORTCUT_MARKER: icons.PROJECTION_COLOUR,
    FREE_SHORTCUT_MARKER: icons.ZERO_PAD_COLOUR,
}
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
FILTER_ROLE = int(Qt.ItemDataRole.UserRole) + 5  # what the filter looks in: path and type


@dataclass(frozen=True, slots=True)
class _Look:
    """The brushes, icons and font of the rows, made once on the GUI thread (icons are
    pixmaps); rows made on a worker share them."""

    brushes: dict[str, QBrush]
    marks: dict[str, QIcon]
    stage: QIcon
    bold: QFont


_look: _Look | None = None


def prepare_looks() -> None:
    """Make the rows' icons and brushes; call on the GUI thread before any worker makes rows."""
    global _look
    if _look is None:
        bold = QFont()
        bold.setBold(True)
        marks = {
            ADD_MARKER: icons.residual_add_icon(),
            WEIGHTED_SHORTCUT_MARKER: icons.projection_icon(),
            FREE_SHORTCUT_MARKER: icons.zero_pad_icon(),
        }
        brushes = {marker: QBrush(colour) for marker, colour in _MARKER_COLOURS.items()}
        _look = _Look(brushes, marks, icons.stage_icon(), bold)


def _looks() -> _Look:
    if _look is None and threading.current_thread() is threading.main_thread():
        prepare_looks()
    if _look is None:
        raise RuntimeError("prepare_looks() was not called on the GUI thread")
    return _look


def tooltip_of(node: Node, column: int) -> str:
    figure = _FIGURE_AT.get(column)
    if figure is not None and figure < len(node.figures):
        tip, value = _FIGURES[figure].cell_tip, node.figures[figure]
        if tip is not None and value is not None:
            return tip(value)
    if node.layer is not None:
        return _layer_tooltip(node.layer)
    return f"<b>{node.full_name}</b><br>{node.type_text}"


def _copy_text(node: Node, column: int) -> str:
    if column == _NAME:
        return node.full_name
    figure = _FIGURE_AT[column]
    value = node.figures[figure]
    copied = _FIGURES[figure].copied
    return "" if value is None or copied is None else copied(value)


# The name, copied as the full path, and the figures copied otherwise than shown (plain
# numbers): the other cells are copied as they are shown.
_COPIED_OTHERWISE = (_NAME, *(place for place, column in enumerate(TAB_COLUMNS) if column.copied is not None))


# What of a cell an edit changed, so that only those of its roles are set again.
_ALL_COLUMNS = tuple(range(_COLUMN_COUNT))
STYLE = 1  # its colour, font, icon, alignment, kind and key
TEXT = 2  # its text (and sort key, copied text, what the filter sees)
EVERYTHING = STYLE | TEXT
# Tooltips are not among a cell's roles: made when asked for (LayerTreeModel.tooltip), an
# edit that shifts every later row's torchsummary number changes none of their cells.

# A layer row never has rows under it: said so, a view laying the tree out skips asking.
_LEAF_FLAGS = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren


def _row_items(node: Node, look: _Look) -> list[QStandardItem]:
    items = [QStandardItem() for _ in range(_COLUMN_COUNT)]
    for column, item in enumerate(items):
        _set_cell(item, node, column, look, EVERYTHING, fresh=True)
    if node.kind == "layer":
        items[0].setFlags(_LEAF_FLAGS)  # only the first column's flags tell a view about rows below
    return items


def _make_rows(node: Node, look: _Look) -> None:
    """The items of ``node``'s row and of every row below it, each row on its own: rows
    are put under their parent's row on the GUI thread, as they are inserted. (A row
    holding others that is dropped unshown would be freed by a garbage collection, which
    frees a parent item and its children in an order that deletes a child twice.)"""
    pending = [node]
    while pending:
        node = pending.pop()
        node.items = _row_items(node, look)
        pending.extend(node.children)


class _Items(QStandardItemModel):
    """The rows in execution order, held by Qt: a view lays out thousands of rows without
    calling into Python for each, which a Python model (index(), rowCount() per row) cannot
    avoid. What is shown (sorted, filtered) is the proxy LayerTreeModel over it."""

    def replace_rows(self, rows: list[list[QStandardItem]]) -> None:
        self.beginResetModel()
        self.blockSignals(True)  # the reset says it all
        try:
            self.removeRows(0, self.rowCount())
            for row in rows:
                self.appendRow(row)
        finally:
            self.blockSignals(False)
        self.endResetModel()


class LayerTreeModel(QSortFilterProxyModel):
    """The layer tree as a view sees it: sorted by any column and filtered by path or type,
    by Qt itself, over rows kept in execution order (``_Items``). ``Node`` objects mirror the
    rows: they hold the figures, and an edit changes only the rows whose node changed."""

    # Around the rows an edit inserts under a row (the source index of that row): a view
    # lays out every expanded row again after rows arrive under an expanded one, but only
    # that row's own rows when it is expanded again (see LayerView).
    rows_coming = Signal(object)
    rows_came = Signal(object)
    # After an edit changed cells in place while nothing is sorted or filtered: the proxy
    # then only passes dataChanged on, one per parent row, and a tree view looks each one up
    # among all its rows (25 ms for the 200 blocks of a stage of resnet1202). It is not
    # passed on; a view repaints once instead.
    cells_changed = Signal()
    # After finish_rows() inserted the rows set_analysis(rows_now=...) left for later.
    rows_finished = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        prepare_looks()
        self.items = _Items(self)
        self.items.setColumnCount(_COLUMN_COUNT)
        for section, column in enumerate(TAB_COLUMNS):
            self._set_header(section, column.header, column.description or column.full_title)
            if section in NUMERIC_COLUMNS:
                self.items.setHeaderData(section, Qt.Orientation.Horizontal, _RIGHT, _ALIGNMENT)
        self.setSourceModel(self.items)
        self.setSortRole(SORT_ROLE)
        self.setFilterRole(FILTER_ROLE)
        self.setFilterKeyColumn(0)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setRecursiveFilteringEnabled(True)  # the stages and blocks around a match stay
        self.setDynamicSortFilter(False)  # on only while sorted or filtered: see _follow_edits
        self._root = Node("root", "", "", "", "", ())
        self._analysis: Analysis | None = None
        self._needle = ""
        self._profile: Profile | None = None
        # By row key: the texts of the profile's columns, and the time they sort by.
        self._profile_cells: dict[str, tuple[tuple[str, ...], float]] = {}
        self._profile_current = False
        self._profile_names: dict[str, str] = {}
        # True while an edit's rows change in place: selections that change meanwhile (a
        # selected row removed) are the model's doing, not the person's.
        self.updating = False
        self._refilled = False
        self._spent_change: TreeChange | None = None
        self._free_later = QTimer(self, singleShot=True, interval=0)
        self._free_later.timeout.connect(self._free_spent_change)
        self.spread_refills = False  # a view turns it on; read through the Qt API, cells are set at once
        self._pending_refills: deque[tuple[QStandardItem, list[tuple[int, Node, dict[int, int]]]]] = deque()
        self._refill_later = QTimer(self, singleShot=True, interval=0)
        self._refill_later.timeout.connect(self._refill_some)
        # Rows left for later by set_analysis(rows_now=...): (parent item, or None for the
        # top level; its node; the first of the node's children still to come).
        self._rows_to_come: list[tuple[QStandardItem | None, Node, int]] = []

    def _set_header(self, section: int, title: str, tip: str) -> None:
        self.items.setHeaderData(section, Qt.Orientation.Horizontal, title, _DISPLAY)
        self.items.setHeaderData(section, Qt.Orientation.Horizontal, tip, _TOOLTIP)

    @property
    def analysis(self) -> Analysis | None:
        return self._analysis

    def set_analysis(self, analysis: Analysis, rows_now: int | None = None) -> None:
        """Show ``analysis``. With ``rows_now``, only about that many rows, the first in
        execution order, are made now (a window's first picture shows no more), and the
        rest by ``finish_rows``, which anything that reads or changes the rows calls first."""
        self._show_tree(analysis, build_tree(analysis), rows_now)

    def _show_tree(self, analysis: Analysis, root: Node, rows_now: int | None = None) -> None:
        self._free_spent_change()
        self._pending_refills.clear()  # of rows about to go
        self._rows_to_come.clear()
        self._analysis = analysis
        self._profile_current = self._profile is not None and self._profile.spec == analysis.spec
        rows = self._child_rows(root, None, None if rows_now is None else [rows_now])
        old, self._root = self._root, root
        self.items.replace_rows(rows)
        free_tree(old)

    @property
    def profile_current(self) -> bool:
        """Whether the profile's columns are of the analysis on show (else they are greyed)."""
        return self._profile_current

    def set_profile(self, result: Profile) -> None:
        """Add (or refill) the time, share and GMAC/s columns from ``result``, keyed by row
        and by group; greyed (by the view) while the analysis on show is of another spec."""
        self.finish_rows()
        self.finish_refills()
        items: list[tuple[str, LayerTime | GroupTime]] = [
            (str(layer.index), layer) for layer in result.layers
        ]
        items += [(group.name, group) for group in (*result.blocks, *result.stages)]
        cells = {
            key: (tuple(column.text(item) for column in TAB_PROFILE_COLUMNS), item.time_s)
            for key, item in items
        }
        self._profile, self._profile_cells = result, cells
        self._profile_names = {str(layer.index): layer.name for layer in result.layers}
        self._profile_current = self._analysis is not None and result.spec == self._analysis.spec
        if self.items.columnCount() == _COLUMN_COUNT:
            self.items.setColumnCount(_COLUMN_COUNT + len(PROFILE_COLUMNS))
            for part, title in enumerate(PROFILE_COLUMNS):
                section = _COLUMN_COUNT + part
                self._set_header(section, title, PROFILE_TIPS[part])
                self.items.setHeaderData(section, Qt.Orientation.Horizontal, _RIGHT, _ALIGNMENT)
        # Each cell says it changed, and a block's rows gain their columns with a signal the
        # proxy needs: a profile arrives once a run, so no signal is spared here.
        self._fill_profile(self.items.invisibleRootItem(), self._root)

    def _attach(self, node: Node, budget: list[int] | None = None) -> list[QStandardItem]:
        """``node``'s row with its children's rows under it, ready for insertion: each row
        made on the worker, or here if it was not. With a ``budget`` (rows still to make
        now), the children past it are left for ``finish_rows``."""
        items, node.items = node.items, None  # the model owns them from here on
        if items is None:
            items = _row_items(node, _looks())
        if self.items.columnCount() > _COLUMN_COUNT:
            items += self._profile_items(node)
        if budget is not None:
            budget[0] -= 1
        for row in self._child_rows(node, items[0], budget):
            items[0].appendRow(row)
        return items

    def _child_rows(
        self, node: Node, under: QStandardItem | None, budget: list[int] | None
    ) -> list[list[QStandardItem]]:
        """The rows of ``node``'s children, to go ``under`` its row's item (None: the top
        level); those past the ``budget`` are left for ``finish_rows``."""
        rows = []
        for position, child in enumerate(node.children):
            if budget is not None and budget[0] <= 0:
                self._rows_to_come.append((under, node, position))
                break
            rows.append(self._attach(child, budget))
        return rows

    @property
    def rows_to_come(self) -> bool:
        """Whether rows left for later by ``set_analysis(rows_now=...)`` are still to come."""
        return bool(self._rows_to_come)

    def finish_rows(self) -> None:
        """Make and insert the rows ``set_analysis(rows_now=...)`` left for later."""
        if not self._rows_to_come:
            return
        pending, self._rows_to_come = self._rows_to_come, []
        for parent, node, start in pending:
            under = self.items.invisibleRootItem() if parent is None else parent
            for child in node.children[start:]:
                under.appendRow(self._attach(child))
        self.rows_finished.emit()

    def _fill_profile(self, parent: QStandardItem, node: Node) -> None:
        for row, child in enumerate(node.children):
            for part, item in enumerate(self._profile_items(child)):
                parent.setChild(row, _COLUMN_COUNT + part, item)
            if child.children:
                self._fill_profile(parent.child(row, 0), child)

    def _profile_items(self, node: Node) -> list[QStandardItem]:
        cells = self._profile_cells.get(node.key)
        if cells is not None and node.kind == "layer" and self._profile_names.get(node.key) != node.full_name:
            cells = None  # another layer at that place in an edited network
        items = []
        for part, tip in enumerate(PROFILE_TIPS):
            item = QStandardItem("" if cells is None else cells[0][part])
            item.setData(-1.0 if cells is None else cells[1], SORT_ROLE)  # each sorts by time
            item.setData(_RIGHT, _ALIGNMENT)
            item.setData(tip, _TOOLTIP)
            items.append(item)
        return items

    def apply_change(self, change: TreeChange) -> bool:
        """Show ``change.analysis``, changing in place only the rows that differ from those
        shown: the others keep their rows (and so their indexes, expansion and selection),
        under any sort and filter. False if the rows were replaced instead: the change kept
        nothing (its tree, made on the worker, is shown whole), or was made from another
        analysis than the one shown (the tree is built here)."""
        if change.base is not self._analysis:
            self.set_analysis(change.analysis)
            free_tree(change.root)
            return False
        if change.kept_rows == 0:
            self._show_tree(change.analysis, change.root)
            return False
        self.finish_rows()  # the change is matched against every row
        self._free_spent_change()
        self.finish_refills()  # of the change before: its rows are where it left them
        self._analysis = change.analysis
        self._profile_current = self._profile is not None and self._profile.spec == change.analysis.spec
        self.updating = True
        self._refilled = False
        try:
            self._reconcile_children(self._root, change.root, self.items.invisibleRootItem())
        finally:
            self.updating = False
        self._refill_some()
        # What of its tree was not taken into the rows shown is freed once the event loop is
        # idle (a view may still measure its new cells until then), or at the next change.
        self._spent_change = change
        self._free_later.start()
        return True

    # Cells an edit changed in place, set again a few milliseconds at a time when
    # ``spread_refills`` is on: an early edit of resnet1202 changes the receptive field of
    # 1,600 rows, 15 ms of work that would otherwise hold the window in one piece.

    def _queue_refill(self, parent: QStandardItem, changed: list[tuple[int, Node, dict[int, int]]]) -> None:
        if not changed:
            return
        if self.spread_refills:
            self._pending_refills.append((parent, changed))
        else:
            self._refill(parent, changed)

    @property
    def refilling(self) -> bool:
        """Whether cells an edit changed are still to be set (see ``finish_refills``)."""
        return bool(self._pending_refills)

    def finish_refills(self) -> None:
        """Set every cell still waiting, now."""
        self._refill_some(everything=True)

    def _refill_some(self, everything: bool = False) -> None:
        deadline = time.perf_counter() + REFILL_BUDGET_S
        while self._pending_refills:  # one parent's rows at least, then as many as fit
            parent, changed = self._pending_refills.popleft()
            self._refill(parent, changed)
            if not everything and time.perf_counter() >= deadline:
                break
        if self._pending_refills:
            self._refill_later.start()
        elif self._refilled:
            self._refilled = False
            self.cells_changed.emit()

    def _free_spent_change(self) -> None:
        spent, self._spent_change = self._spent_change, None
        if spent is not None:
            free_tree(spent.root)

    def _reconcile_children(self, old: Node, new: Node, parent: QStandardItem) -> None:
        if old.kind in ("block", "group"):  # their children are layers
            self._reconcile_layers(old, new, parent)
            return
        wanted = {child.key for child in new.children}
        self._remove_where(old, parent, lambda child: child.key not in wanted)
        changed: list[tuple[int, Node, dict[int, int]]] = []
        inserting = False
        for position, child in enumerate(new.children):
            current = old.children[position] if position < len(old.children) else None
            if current is not None and current.key == child.key:
                if child.kind != KEPT:
                    cells = _patch(current, child)
                    if cells:
                        changed.append((position, current, cells))
                    self._reconcile_children(current, child, parent.child(position, 0))
                continue
            if child.kind == KEPT:
                raise LookupError(f"no row {child.key!r} to keep")
            if not inserting:
                inserting = True
                self.rows_coming.emit(parent.index())
            parent.insertRow(position, self._attach(child))
            child.parent = old
            old.children.insert(position, child)
            _renumber(old, parent, position)
        if inserting:
            self.rows_came.emit(parent.index())
        self._queue_refill(parent, changed)

    def _reconcile_layers(self, old: Node, new: Node, parent: QStandardItem) -> None:
        """A block's layers are matched by position (a block's ReLU appears more than once)."""
        common = min(len(old.children), len(new.children))
        changed = []
        for row in range(common):
            cells = _patch(old.children[row], new.children[row])
            if cells:
                changed.append((row, old.children[row], cells))
        self._queue_refill(parent, changed)
        if len(old.children) > common:
            self._remove_where(old, parent, lambda child: child.row >= common)
        if len(new.children) > common:
            self.rows_coming.emit(parent.index())
            for child in new.children[common:]:
                parent.appendRow(self._attach(child))
                child.parent = old
                old.children.append(child)
            _renumber(old, parent, common)
            self.rows_came.emit(parent.index())

    def _refill(self, parent: QStandardItem, changed: list[tuple[int, Node, dict[int, int]]]) -> None:
        """Set again what changed in the cells of the rows ``changed``; one dataChanged."""
        if not changed:
            return
        look = _looks()
        self.items.blockSignals(True)
        try:
            for row, node, cells in changed:
                for column, what in cells.items():
                    _set_cell(parent.child(row, column), node, column, look, what)
        finally:
            self.items.blockSignals(False)
        parent_index = parent.index()
        first = min(min(cells) for _row, _node, cells in changed)
        last = max(max(cells) for _row, _node, cells in changed)
        passed_on = self.dynamicSortFilter()  # else the proxy would only pass it on: see cells_changed
        self.blockSignals(not passed_on)
        try:
            self.items.dataChanged.emit(
                self.items.index(changed[0][0], first, parent_index),
                self.items.index(changed[-1][0], last, parent_index),
            )
        finally:
            self.blockSignals(False)
        self._refilled = self._refilled or not passed_on

    def _remove_where(self, node: Node, parent: QStandardItem, doomed: Callable[[Node], bool]) -> None:
        """Remove the children ``doomed`` picks, each run of them with one call, from the end."""
        position = len(node.children) - 1
        while position >= 0:
            if not doomed(node.children[position]):
                position -= 1
                continue
            last = position
            while position > 0 and doomed(node.children[position - 1]):
                position -= 1
            parent.removeRows(position, last - position + 1)
            removed = node.children[position : last + 1]
            del node.children[position : last + 1]
            _renumber(node, parent, position)
            for child in removed:
                free_tree(child)
            position -= 1

    def set_filter(self, text: str) -> None:
        needle = text.strip()
        if needle != self._needle:
            self.finish_rows()
            self._needle = needle
            self.updating = True  # rows it hides leave the selection: not the person's doing
            try:
                self._follow_edits(self.sortColumn())
                self.setFilterFixedString(needle)
            finally:
                self.updating = False

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.finish_rows()
        self._follow_edits(column)
        super().sort(column, order)

    def _follow_edits(self, sort_column: int) -> None:
        """Re-sort and re-filter changed rows only while a sort or a filter is on: else every
        changed row would be checked against an empty filter, a millisecond an edit."""
        dynamic = sort_column >= 0 or bool(self._needle)
        if dynamic != self.dynamicSortFilter():
            self.setDynamicSortFilter(dynamic)

    def root(self) -> Node:
        return self._root

    def node(self, index: _Index) -> Node:
        """The node of the row of ``index`` (of this model), found by its path of rows."""
        source = self.mapToSource(QModelIndex(index)) if index.isValid() else QModelIndex()
        path = []
        while source.isValid():
            path.append(source.row())
            source = source.parent()
        node = self._root
        for row in reversed(path):
            node = node.children[row]
        return node

    def tooltip(self, index: _Index) -> str:
        """What the cell of ``index`` says when the pointer rests on it, made from its row
        when asked (the profile's columns keep theirs)."""
        if not index.isValid():
            return ""
        if index.column() >= _COLUMN_COUNT:
            return index.data(_TOOLTIP) or ""
        return tooltip_of(self.node(index), index.column())

    def copy_text(self, index: _Index) -> str:
        """The cell as copied: full paths and plain numbers."""
        copied = index.data(COPY_ROLE)
        return copied if copied is not None else (index.data() or "")


def _patch(node: Node, new: Node) -> dict[int, int]:
    """Give ``node`` the values of ``new``; what changed in each of its row's cells, by
    column (empty: the row shows the same as before). Called for each row an edit may have
    changed (1,600 for an early edit of resnet1202): plain comparisons, no helpers."""
    # Not in any cell: a layer's key (its row in the analysis, which the selection follows)
    # and its record (which its tooltip is made from).
    node.key, node.layer = new.key, new.layer
    if node.marker != new.marker or node.kind != new.kind:
        cells = dict.fromkeys(_ALL_COLUMNS, EVERYTHING)
    else:
        cells = {}
        if node.label != new.label or node.full_name != new.full_name or node.type_text != new.type_text:
            cells[_NAME] = cells[_TYPE] = TEXT
        for figure, (old, value) in enumerate(zip(node.figures, new.figures, strict=True)):
            if old != value:
                cells[_FIGURE_COLUMNS[figure]] = TEXT
        if not cells:
            return cells
    node.label, node.full_name, node.type_text = new.label, new.full_name, new.type_text
    node.figures, node.marker, node.kind = new.figures, new.marker, new.kind
    node._cells = new._cells
    return cells


def _set_cell(
    item: QStandardItem, node: Node, column: int, look: _Look, what: int, fresh: bool = False
) -> None:
    """Set the roles of ``node``'s cell in ``column`` that ``what`` names. A ``fresh`` item
    has no roles yet: an empty one costs no call there (a table of 5,000 rows makes 30,000
    items), while an item already shown has it cleared."""

    if what & TEXT:
        item.setData(node.cells()[column], _DISPLAY)
        if column in _COPIED_OTHERWISE:
            item.setData(_copy_text(node, column), COPY_ROLE)
        if column == 0:
            item.setData(f"{node.full_name}\n{node.type_text}", FILTER_ROLE)
    if what & TEXT:
        item.setData(node.sort_key(column), SORT_ROLE)
    if what & STYLE:
        brush = look.brushes.get(node.marker) if node.kind == "layer" else None
        bold = look.bold if node.kind in ("stage", "group") else None
        if brush is not None or not fresh:
            item.setData(brush, _FOREGROUND)
        if bold is not None or not fresh:
            item.setData(bold, _FONT)
        if column in NUMERIC_COLUMNS:
            item.setData(_RIGHT, _ALIGNMENT)
        if column == 0:
            item.setData(node.kind, KIND_ROLE)
            # Stages, blocks and groups: a name that survives a rebuild, for their expanded
            # state. A layer's row has none: it never expands, and a shifted layer keeps its row.
            if node.kind != "layer" or not fresh:
                item.setData(None if node.kind == "layer" else node.key, KEY_ROLE)
            icon = look.stage if node.kind == "stage" else look.marks.get(node.marker)
            if icon is not None or not fresh:
                item.setData(icon, _DECORATION)


def _renumber(node: Node, parent: QStandardItem, start: int) -> None:
    """Number ``node``'s children from ``start`` by their place; a row that moved takes
    its new place as its sort key in execution order."""
    for row in range(start, len(node.children)):
        child = node.children[row]
        if child.row != row:
            child.row = row
            parent.child(row, 0).setData(row, SORT_ROLE)


def free_tree(root: Node) -> None:
    """Break the parent <-> child cycles under ``root`` so its nodes go at once, by
    reference counting: left to the garbage collector, the 50,000 objects of an early edit
    of resnet1202 cost a 90 ms pause. A node since taken into another tree (a change's new
    row, now shown) has another parent: it, and the rows under it, are left as they are."""
    pending = [root]
    while pending:
        node = pending.pop()
        pending.extend(child for child in node.children if child.parent is node)
        node.children = []
        node.parent = None
        node.items = None
