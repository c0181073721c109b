"""The layer table as a tree: stem, stages > blocks > layers, head.

A read-only model over one frozen ``Analysis``. Numbers are shown with thousands
separators and sorted by their value; the filter matches a layer's full module path
or its type and keeps the stages and blocks around a match. Sorting and filtering
live here rather than in a QSortFilterProxyModel because every proxy step calls back
into Python, which made each rebuild of a deep network visibly slower.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QFont

from explorer.core.analysis import Analysis, BlockSummary, LayerRow, StageSummary
from explorer.core.profile import GroupTime, LayerTime, Profile
from explorer.core.render.table import row_details
from explorer.core.units import format_count, format_macs, format_shape
from explorer.gui import icons

COLUMNS = ("Layer", "Type", "Output shape", "Params", "MACs", "Receptive field")
# Titles as the header shows them: short, so that every figure fits in a small window.
HEADER_TITLES = ("Layer", "Type", "Output shape", "Params", "MACs", "RF")
HEADER_TIPS = {5: "Receptive field: the side, in input pixels, of the square each output sees"}
_COLUMN_COUNT = len(COLUMNS)
NUMERIC_COLUMNS = frozenset({3, 4, 5})
# Shown after a profile: each row's median time, its share of the total and its speed.
PROFILE_COLUMNS = ("Time (ms)", "% time", "GMAC/s")
PROFILE_TIPS = (
    "The median time of the layer (a block, a stage: the sum of its layers) in the last profile",
    "Its share of the time of all the layers",
    "Achieved multiply-adds per second (the layer's MACs for the batch over its time)",
)
STALE_PROFILE_INK = "#9AA0A6"
SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 1
KIND_ROLE = int(Qt.ItemDataRole.UserRole) + 2  # "group", "stage", "block" or "layer"
KEY_ROLE = int(Qt.ItemDataRole.UserRole) + 3  # a name that survives a rebuild, for the expanded state
COPY_ROLE = int(Qt.ItemDataRole.UserRole) + 4  # the cell as copied: full paths, plain numbers

_Index = QModelIndex | QPersistentModelIndex


@dataclass(eq=False, slots=True)
class Node:
    kind: str
    key: str
    label: str
    full_name: str
    type_text: str
    shape: tuple[int, ...]
    params: int
    macs: int
    receptive_field: int | None
    order: int
    marker: str = ""  # ADD_MARKER, a shortcut marker, or ""
    tooltip: str = ""
    parent: Node | None = None
    row: int = 0
    children: list[Node] = field(default_factory=list)
    _cells: tuple[str, ...] = ()

    def adopt(self, child: Node) -> Node:
        child.parent = self
        child.row = len(self.children)
        self.children.append(child)
        return child

    def sort_key(self, column: int) -> object:
        keys = (
            self.order,
            self.type_text,
            _numel(self.shape),
            self.params,
            self.macs,
            self.receptive_field or 0,
        )
        return keys[column]

    def matches(self, needle: str) -> bool:
        return needle in self.full_name.lower() or needle in self.type_text.lower()

    def cells(self) -> tuple[str, ...]:
        if not self._cells:  # formatted once: a repaint asks for each cell many times
            rf = "" if self.receptive_field is None else f"{self.receptive_field:,}"
            shape = format_shape(self.shape)
            self._cells = (self.label, self.type_text, shape, f"{self.params:,}", f"{self.macs:,}", rf)
        return self._cells


def _layer_type(row: LayerRow) -> str:
    if row.op == "add":
        return "Add (residual)"
    type_name = row.type or row.op  # a functional step with no module type, such as a mean
    details = row_details(row)  # a dilation other than 1, a drop-path rate
    if row.role == "shortcut":
        return f"{type_name} (shortcut{details})"
    if row.summary_id is None:
        return f"{type_name} (functional{details})"
    return f"{type_name} ({details[2:]})" if details else type_name


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
        type_text=_layer_type(row),
        shape=row.output_shape,
        params=row.params,
        macs=row.macs,
        receptive_field=row.receptive_field,
        order=row.index,
        marker=_layer_marker(row, shortcut_marker),
        tooltip=_layer_tooltip(row),
    )


def _group(kind: str, key: str, label: str, type_text: str, rows: list[LayerRow], order: int) -> Node:
    return Node(
        kind=kind,
        key=key,
        label=label,
        full_name=label,
        type_text=type_text,
        shape=rows[-1].output_shape,
        params=sum(r.params for r in rows),
        macs=sum(r.macs for r in rows),
        receptive_field=rows[-1].receptive_field,
        order=order,
    )


KEPT = "kept"  # the kind of a placeholder in a change: the node with this key stays as it is


def _kept(key: str) -> Node:
    return Node(KEPT, key, "", "", "", (), 0, 0, None, -1)


def _stem_node(analysis: Analysis) -> Node:
    rows = analysis.rows[: analysis.stages[0].blocks[0].first_row]
    stem = _group("group", "stem", "stem", f"Stem ({analysis.spec.stem})", list(rows), -1)
    for row in rows:
        stem.adopt(_layer_node(row, ""))
    return stem


def _block_node(analysis: Analysis, block: BlockSummary) -> Node:
    members = [r for r in analysis.rows[block.first_row : block.last_row + 1] if r.op != "block"]
    block_node = _group("block", block.name, block.name, f"{block.type}", members, members[0].index)
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
    stage_node = _group("stage", stage.name, stage.name, text, stage_rows, stage_rows[0].index)
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
    head = _group("group", "head", "head", "Head", list(rows), rows[0].index)
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
    root = Node("root", "", "", "", "", (), 0, 0, None, -1)
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
    pending = [root]
    while pending:  # format every new cell here, not on the GUI thread
        node = pending.pop()
        if node.kind not in ("root", KEPT):
            node.cells()
        pending.extend(node.children)
    return TreeChange(base, analysis, root, kept)


_MARKER_COLOURS = {
    ADD_MARKER: icons.RESIDUAL_COLOUR,
    WEIGHTED_SHORTCUT_MARKER: icons.PROJECTION_COLOUR,
    FREE_SHORTCUT_MARKER: icons.ZERO_PAD_COLOUR,
}


def _marker_icon(marker: str):  # type: ignore[no-untyped-def]
    if marker == ADD_MARKER:
        return icons.residual_add_icon()
    if marker == WEIGHTED_SHORTCUT_MARKER:
        return icons.projection_icon()
    if marker == FREE_SHORTCUT_MARKER:
        return icons.zero_pad_icon()
    return None


class LayerTreeModel(QAbstractItemModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = Node("root", "", "", "", "", (), 0, 0, None, -1)
        self._analysis: Analysis | None = None
        self._needle = ""
        self._muted = False
        self._sort_column = -1
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._bold = QFont()
        self._bold.setBold(True)
        self._roles = self._role_handlers()
        self._profile: Profile | None = None
        self._profile_cells: dict[str, tuple[str, str, str, float]] = {}
        self._profile_current = False
        self._profile_names: dict[str, str] = {}
        # True while an edit's rows change in place: selections that change meanwhile (a
        # selected row removed) are the model's doing, not the person's.
        self.updating = False
        self._column_count = _COLUMN_COUNT  # the profile's columns join after a profile

    @property
    def analysis(self) -> Analysis | None:
        return self._analysis

    def set_analysis(self, analysis: Analysis) -> None:
        self._analysis = analysis
        self._profile_current = self._profile is not None and self._profile.spec == analysis.spec
        self._rebuild()

    @property
    def profile_current(self) -> bool:
        """Whether the profile's columns are of the analysis on show (else they are greyed)."""
        return self._profile_current

    def set_profile(self, result: Profile) -> None:
        """Add (or refill) the time, share and GMAC/s columns from ``result``, keyed by row
        and by group; greyed while the analysis on show is of another spec."""
        items: list[tuple[str, LayerTime | GroupTime]] = [
            (str(layer.index), layer) for layer in result.layers
        ]
        items += [(group.name, group) for group in (*result.blocks, *result.stages)]
        cells: dict[str, tuple[str, str, str, float]] = {}
        for key, item in items:
            speed = "" if item.gmacs_per_s is None else f"{item.gmacs_per_s:,.3g}"
            cells[key] = (f"{item.time_s * 1e3:,.3f}", f"{item.share:.1%}", speed, item.time_s)
        names = {str(layer.index): layer.name for layer in result.layers}
        first = self._profile is None
        if first:
            self.beginInsertColumns(QModelIndex(), len(COLUMNS), len(COLUMNS) + len(PROFILE_COLUMNS) - 1)
        self._profile, self._profile_cells, self._profile_names = result, cells, names
        self._profile_current = self._analysis is not None and result.spec == self._analysis.spec
        if first:
            self._column_count = _COLUMN_COUNT + len(PROFILE_COLUMNS)
            self.endInsertColumns()
        else:
            self.layoutChanged.emit()

    def _profile_data(self, node: Node, column: int, role: int) -> object:
        cells = self._profile_cells.get(node.key)
        if cells is not None and node.kind == "layer" and self._profile_names.get(node.key) != node.full_name:
            cells = None  # another layer at that place in an edited network
        part = column - len(COLUMNS)
        if role == Qt.ItemDataRole.DisplayRole or role == COPY_ROLE:
            return "" if cells is None else cells[part]
        if role == SORT_ROLE:
            return -1.0 if cells is None else cells[3]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and not self._profile_current:
            return QBrush(STALE_PROFILE_INK)
        if role == Qt.ItemDataRole.ToolTipRole:
            note = "" if self._profile_current else " (of an earlier architecture: profile it again)"
            return PROFILE_TIPS[part] + note
        if role in (KIND_ROLE, KEY_ROLE):
            return self._roles[role](node, 0)
        return None

    def apply_change(self, change: TreeChange) -> bool:
        """Show ``change.analysis``, changing in place only the rows that differ from those
        shown: the others keep their nodes (and so their indexes, expansion and selection).
        False if the model was reset instead: the change kept nothing (its tree, made on the
        worker, is shown whole), or was made from another analysis, or a filter or a sort is
        on, which the change does not know about (the tree is rebuilt here)."""
        if change.base is not self._analysis or self._needle or self._sort_column >= 0:
            self.set_analysis(change.analysis)
            return False
        self._analysis = change.analysis
        was_current = self._profile_current
        self._profile_current = self._profile is not None and self._profile.spec == change.analysis.spec
        if was_current != self._profile_current:
            self.layoutChanged.emit()  # the profile's columns turn grey (or back) in every row
        if change.kept_rows == 0:  # nothing to keep (no placeholders): the tree made on the worker
            self.beginResetModel()
            old, self._root = self._root, change.root
            self.endResetModel()
            _dismantle(old)
            return False
        self.updating = True
        try:
            self._reconcile_children(self._root, change.root, QModelIndex())
        finally:
            self.updating = False
        return True

    def _reconcile_children(self, old: Node, new: Node, parent: QModelIndex) -> None:
        if old.kind in ("block", "group"):  # their children are layers
            self._reconcile_layers(old, new, parent)
            return
        wanted = {child.key for child in new.children}
        self._remove_where(old, parent, lambda child: child.key not in wanted)
        changed: list[int] = []
        for position, child in enumerate(new.children):
            current = old.children[position] if position < len(old.children) else None
            if current is not None and current.key == child.key:
                if child.kind != KEPT:
                    if _patch(current, child):
                        changed.append(position)
                    self._reconcile_children(current, child, self.createIndex(position, 0, current))
                continue
            if child.kind == KEPT:
                raise LookupError(f"no row {child.key!r} to keep")
            self.beginInsertRows(parent, position, position)
            child.parent = old
            old.children.insert(position, child)
            _renumber(old, position)
            self.endInsertRows()
        self._emit_changed(parent, changed)

    def _reconcile_layers(self, old: Node, new: Node, parent: QModelIndex) -> None:
        """A block's layers are matched by position (a block's ReLU appears more than once)."""
        common = min(len(old.children), len(new.children))
        changed = [i for i in range(common) if _patch(old.children[i], new.children[i])]
        self._emit_changed(parent, changed)
        if len(old.children) > common:
            self._remove_where(old, parent, lambda child: child.row >= common)
        if len(new.children) > common:
            self.beginInsertRows(parent, common, len(new.children) - 1)
            for child in new.children[common:]:
                child.parent = old
                old.children.append(child)
            _renumber(old, common)
            self.endInsertRows()

    def _remove_where(self, node: Node, parent: QModelIndex, doomed: Callable[[Node], bool]) -> None:
        """Remove the children ``doomed`` picks, each run of them with one signal, from the end."""
        position = len(node.children) - 1
        while position >= 0:
            if not doomed(node.children[position]):
                position -= 1
                continue
            last = position
            while position > 0 and doomed(node.children[position - 1]):
                position -= 1
            self.beginRemoveRows(parent, position, last)
            removed = node.children[position : last + 1]
            del node.children[position : last + 1]
            _renumber(node, position)
            self.endRemoveRows()
            for child in removed:
                _dismantle(child)
            position -= 1

    def _emit_changed(self, parent: QModelIndex, rows: list[int]) -> None:
        if rows:
            self.dataChanged.emit(
                self.index(rows[0], 0, parent), self.index(rows[-1], len(COLUMNS) - 1, parent)
            )

    def set_muted(self, muted: bool) -> None:
        """Drop the marker colours while the table shows stale, greyed results."""
        if muted != self._muted:
            self._muted = muted
            self.layoutChanged.emit()

    def set_filter(self, text: str) -> None:
        needle = text.strip().lower()
        if needle != self._needle:
            self._needle = needle
            self._rebuild()

    def _rebuild(self) -> None:
        if self._analysis is None:
            return
        self.beginResetModel()
        root = build_tree(self._analysis)
        if self._needle:
            _prune(root, self._needle)
        if self._sort_column >= len(COLUMNS):
            column = self._sort_column
            _sort(root, 0, self._sort_order, lambda node: self._profile_data(node, column, SORT_ROLE))
        elif self._sort_column >= 0:
            _sort(root, self._sort_column, self._sort_order)
        old, self._root = self._root, root
        self.endResetModel()
        _dismantle(old)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort every level by ``column`` (-1: execution order), keeping what is expanded."""
        self._sort_column, self._sort_order = column, order
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        nodes = [(index.internalPointer(), index.column()) for index in before]
        if column >= len(COLUMNS):
            _sort(self._root, 0, order, lambda node: self._profile_data(node, column, SORT_ROLE))
        else:
            _sort(
                self._root,
                column if column >= 0 else 0,
                order if column >= 0 else Qt.SortOrder.AscendingOrder,
            )
        after = [self.createIndex(node.row, col, node) for node, col in nodes]
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    def root(self) -> Node:
        return self._root

    def node(self, index: _Index) -> Node:
        return index.internalPointer() if index.isValid() else self._root

    # QAbstractItemModel

    # index() and rowCount() are called for every expanded row whenever the view lays the
    # tree out (after rows are inserted, too): kept to the fewest Python steps.

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        children = parent.internalPointer().children if parent.isValid() else self._root.children
        if 0 <= row < len(children) and 0 <= column < self._column_count:
            return self.createIndex(row, column, children[row])
        return QModelIndex()

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        parent = index.internalPointer().parent
        if parent is None or parent is self._root:
            return QModelIndex()
        return self.createIndex(parent.row, 0, parent)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid():
            return 0 if parent.column() else len(parent.internalPointer().children)
        return len(self._root.children)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return self._column_count

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if orientation != Qt.Orientation.Horizontal:
            return None
        if section >= len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return PROFILE_COLUMNS[section - len(COLUMNS)]
            if role == Qt.ItemDataRole.ToolTipRole:
                return PROFILE_TIPS[section - len(COLUMNS)]
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADER_TITLES[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(section, COLUMNS[section])
        if role == Qt.ItemDataRole.TextAlignmentRole and section in NUMERIC_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: _Index, role: int = 0):  # type: ignore[no-untyped-def]
        # Called thousands of times per repaint: one dict lookup on a plain int role.
        handler = self._roles.get(int(role))
        if handler is None or not index.isValid():
            return None
        if index.column() >= len(COLUMNS):
            return self._profile_data(index.internalPointer(), index.column(), int(role))
        return handler(index.internalPointer(), index.column())

    def _role_handlers(self) -> dict[int, Callable[[Node, int], object]]:
        role = Qt.ItemDataRole
        right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        left = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        brushes = {marker: QBrush(colour) for marker, colour in _MARKER_COLOURS.items()}
        bold = self._bold

        marks = {marker: _marker_icon(marker) for marker in _MARKER_COLOURS}
        stage = icons.stage_icon()

        def decoration(node: Node, column: int) -> object:
            if column != 0:
                return None
            return stage if node.kind == "stage" else marks.get(node.marker)

        return {
            int(role.DisplayRole): lambda node, column: node.cells()[column],
            int(role.TextAlignmentRole): lambda node, column: right if column in NUMERIC_COLUMNS else left,
            int(role.DecorationRole): decoration,
            int(role.ForegroundRole): lambda node, column: (
                brushes.get(node.marker) if node.kind == "layer" and not self._muted else None
            ),
            int(role.FontRole): lambda node, column: bold if node.kind in ("stage", "group") else None,
            int(role.ToolTipRole): self._tooltip,
            int(SORT_ROLE): lambda node, column: node.sort_key(column),
            int(KIND_ROLE): lambda node, column: node.kind,
            int(KEY_ROLE): lambda node, column: node.key,
            int(COPY_ROLE): self._copy_cell,
        }

    def _tooltip(self, node: Node, column: int) -> str:
        if column == 3:
            return f"{node.params:,} parameters ({format_count(node.params)})"
        if column == 4:
            return f"{node.macs:,} multiply-adds per image ({format_macs(node.macs)})"
        if column == 5 and node.receptive_field is not None:
            return f"each output value sees {node.receptive_field} x {node.receptive_field} input pixels"
        if node.kind == "layer":
            return node.tooltip
        return f"<b>{node.full_name}</b><br>{node.type_text}"

    @staticmethod
    def _copy_cell(node: Node, column: int) -> str:
        if column == 0:
            return node.full_name
        if column == 3:
            return str(node.params)
        if column == 4:
            return str(node.macs)
        return node.cells()[column]


def _patch(node: Node, new: Node) -> bool:
    """Give ``node`` the values of ``new`` (formatted already); True if what it shows changed."""
    shown = _shown(node) != _shown(new)
    node.key, node.order = new.key, new.order
    if shown:
        node.label, node.full_name, node.type_text = new.label, new.full_name, new.type_text
        node.shape, node.params, node.macs = new.shape, new.params, new.macs
        node.receptive_field, node.marker, node.tooltip = new.receptive_field, new.marker, new.tooltip
        node._cells = new._cells
    return shown


def _shown(node: Node) -> tuple[object, ...]:
    return (
        node.label,
        node.full_name,
        node.type_text,
        node.shape,
        node.params,
        node.macs,
        node.receptive_field,
        node.marker,
        node.tooltip,
    )


def _renumber(node: Node, start: int) -> None:
    for row in range(start, len(node.children)):
        node.children[row].row = row


def _prune(node: Node, needle: str) -> bool:
    """Keep the nodes that match ``needle`` or hold a match; True if ``node`` is kept."""
    kept = [child for child in node.children if _prune(child, needle)]
    for row, child in enumerate(kept):
        child.row = row
    node.children = kept
    return bool(kept) or (node.kind != "root" and node.matches(needle))


def _sort(node: Node, column: int, order: Qt.SortOrder, key: Callable[[Node], object] | None = None) -> None:
    if not node.children:
        return
    descending = order == Qt.SortOrder.DescendingOrder
    node.children.sort(key=key or (lambda child: child.sort_key(column)), reverse=descending)
    for row, child in enumerate(node.children):
        child.row = row
        _sort(child, column, order, key)


def _dismantle(root: Node) -> None:
    """Break the parent <-> child cycles so the old tree is freed at once, by reference
    counting, instead of by a full garbage collection that would pause the window."""
    pending = [root]
    while pending:
        node = pending.pop()
        pending.extend(node.children)
        node.children = []
        node.parent = None


def _numel(shape: tuple[int, ...]) -> int:
    total = 1
    for side in shape:
        total *= side
    return total
