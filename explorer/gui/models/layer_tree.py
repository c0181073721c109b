"""The layer table as a tree: stem, stages > blocks > layers, head.

A read-only model over one frozen ``Analysis``. Numbers are shown with thousands
separators and sorted by their value (``SORT_ROLE``); the filter matches a layer's
full module path or its type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QFont

from explorer.core.analysis import Analysis, LayerRow
from explorer.core.units import format_count, format_macs, format_shape
from explorer.gui import icons

COLUMNS = ("Layer", "Type", "Output shape", "Params", "MACs", "Receptive field")
NUMERIC_COLUMNS = frozenset({3, 4, 5})
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
KIND_ROLE = Qt.ItemDataRole.UserRole + 2  # "group", "stage", "block" or "layer"
KEY_ROLE = Qt.ItemDataRole.UserRole + 3  # a name that survives a rebuild, for the expanded state
COPY_ROLE = Qt.ItemDataRole.UserRole + 4  # the cell as copied: full paths, plain numbers

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
    marker: str = ""  # "add", "projection", "zero-pad" or ""
    tooltip: str = ""
    parent: Node | None = None
    row: int = 0
    children: list[Node] = field(default_factory=list)

    def adopt(self, child: Node) -> Node:
        child.parent = self
        child.row = len(self.children)
        self.children.append(child)
        return child

    def cells(self) -> tuple[str, ...]:
        rf = "" if self.receptive_field is None else f"{self.receptive_field:,}"
        return (
            self.label,
            self.type_text,
            format_shape(self.shape),
            f"{self.params:,}",
            f"{self.macs:,}",
            rf,
        )


def _layer_type(row: LayerRow) -> str:
    if row.op == "add":
        return "Add (residual)"
    if row.role == "shortcut":
        return f"{row.type} (shortcut)"
    if row.summary_id is None:
        return f"{row.type} (functional)"
    return row.type


def _layer_marker(row: LayerRow) -> str:
    if row.op == "add":
        return "add"
    if row.op == "zeropad":
        return "zero-pad"
    if row.role == "shortcut":
        return "projection"
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


def _layer_node(row: LayerRow, prefix: str) -> Node:
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
        marker=_layer_marker(row),
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


def build_tree(analysis: Analysis) -> Node:
    root = Node("root", "", "", "", "", (), 0, 0, None, -1)
    rows = analysis.rows
    first_stage_row = analysis.stages[0].blocks[0].first_row
    last_stage_row = analysis.stages[-1].blocks[-1].last_row
    stem_rows = list(rows[:first_stage_row])
    head_rows = list(rows[last_stage_row + 1 :])
    spec = analysis.spec

    stem = root.adopt(_group("group", "stem", "stem", f"Stem ({spec.stem})", stem_rows, -1))
    for row in stem_rows:
        stem.adopt(_layer_node(row, ""))
    for stage in analysis.stages:
        block_type = stage.blocks[0].type
        stage_rows = list(rows[stage.blocks[0].first_row : stage.blocks[-1].last_row + 1])
        text = f"{stage.depth} × {block_type}, stride {stage.stride}"
        stage_node = root.adopt(
            _group("stage", stage.name, stage.name, text, stage_rows, stage_rows[0].index)
        )
        for block in stage.blocks:
            members = [r for r in rows[block.first_row : block.last_row + 1] if r.op != "block"]
            block_node = stage_node.adopt(
                _group("block", block.name, block.name, f"{block.type}", members, members[0].index)
            )
            block_node.type_text = f"{block.type} ({block.shortcut})"
            block_node.marker = "" if block.shortcut == "identity" else block.shortcut
            for row in members:
                block_node.adopt(_layer_node(row, f"{block.name}."))
    if head_rows:
        head = root.adopt(_group("group", "head", "head", "Head", head_rows, head_rows[0].index))
        for row in head_rows:
            head.adopt(_layer_node(row, ""))
    return root


_MARKER_COLOURS = {"add": icons.RESIDUAL_COLOUR, "projection": icons.PROJECTION_COLOUR}
_MARKER_COLOURS["zero-pad"] = icons.ZERO_PAD_COLOUR


def _marker_icon(marker: str):  # type: ignore[no-untyped-def]
    if marker == "add":
        return icons.residual_add_icon()
    if marker == "projection":
        return icons.projection_icon()
    if marker == "zero-pad":
        return icons.zero_pad_icon()
    return None


class LayerTreeModel(QAbstractItemModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = Node("root", "", "", "", "", (), 0, 0, None, -1)
        self._analysis: Analysis | None = None
        self._bold = QFont()
        self._bold.setBold(True)

    @property
    def analysis(self) -> Analysis | None:
        return self._analysis

    def set_analysis(self, analysis: Analysis) -> None:
        self.beginResetModel()
        self._analysis = analysis
        self._root = build_tree(analysis)
        self.endResetModel()

    def root(self) -> Node:
        return self._root

    def node(self, index: _Index) -> Node:
        return index.internalPointer() if index.isValid() else self._root  # type: ignore[no-any-return]

    # QAbstractItemModel

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        node = self.node(parent)
        if 0 <= row < len(node.children) and 0 <= column < len(COLUMNS):
            return self.createIndex(row, column, node.children[row])
        return QModelIndex()

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        parent = index.internalPointer().parent
        if parent is None or parent is self._root:
            return QModelIndex()
        return self.createIndex(parent.row, 0, parent)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self.node(parent).children)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and section in NUMERIC_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if not index.isValid():
            return None
        node: Node = index.internalPointer()
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return node.cells()[column]
        if role == SORT_ROLE:
            return (node.order, node.type_text, _numel(node.shape), node.params, node.macs,
                    node.receptive_field or 0)[column]  # fmt: skip
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column in NUMERIC_COLUMNS:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            if node.kind == "stage":
                return icons.stage_icon()
            return _marker_icon(node.marker)
        if role == Qt.ItemDataRole.ForegroundRole and node.kind == "layer" and node.marker:
            return QBrush(_MARKER_COLOURS[node.marker])
        if role == Qt.ItemDataRole.FontRole and node.kind in ("stage", "group"):
            return self._bold
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(node, column)
        if role == KIND_ROLE:
            return node.kind
        if role == KEY_ROLE:
            return node.key
        if role == COPY_ROLE:
            return self._copy_cell(node, column)
        return None

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


def _numel(shape: tuple[int, ...]) -> int:
    total = 1
    for side in shape:
        total *= side
    return total
