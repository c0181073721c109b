"""The layer tree's selection and the session's selected rows, kept in step.

The session holds the selection as analysis row indices, so any view (the layer
tree, the diagram) can show it and change it without knowing the others. A group
of the tree (stem, stage, block, head) stands for all of its rows, and a block for
its own summary row too: selecting those rows elsewhere selects the group itself,
so a block clicked in the diagram shows as one selected line in the tree.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QObject
from PySide6.QtWidgets import QTreeView

from explorer.core.analysis import Analysis
from explorer.gui.models.layer_tree import LayerTreeModel, Node
from explorer.gui.session import Session


def group_rows(analysis: Analysis) -> dict[str, range]:
    """The rows each group of the tree stands for, by the group's key."""
    stages = analysis.stages
    first, last = stages[0].blocks[0].first_row, stages[-1].blocks[-1].last_row
    groups = {"stem": range(first), "head": range(last + 1, len(analysis.rows))}
    for stage in stages:
        groups[stage.name] = range(stage.blocks[0].first_row, stage.blocks[-1].last_row + 1)
        for block in stage.blocks:
            groups[block.name] = range(block.first_row, block.last_row + 1)
    return groups


class LayerSelectionSync(QObject):
    def __init__(self, session: Session, tree: QTreeView, model: LayerTreeModel) -> None:
        super().__init__(tree)
        self.session = session
        self.tree = tree
        self.model = model
        self._applying = False
        self._proposed: tuple[int, ...] | None = None
        self._groups: dict[str, range] = {}
        self._groups_of: Analysis | None = None
        tree.selectionModel().selectionChanged.connect(self._tree_changed)
        session.selection_changed.connect(self.show_rows)
        # A filter or a new analysis rebuilds the tree, which forgets its selection.
        model.modelReset.connect(lambda: self.show_rows(session.selected_rows, scroll=False))

    def _group_rows(self) -> dict[str, range]:
        analysis = self.model.analysis
        if analysis is not None and analysis is not self._groups_of:
            self._groups, self._groups_of = group_rows(analysis), analysis
        return self._groups

    def rows_of(self, node: Node) -> Iterable[int]:
        if node.kind == "layer":
            return (int(node.key),)
        return self._group_rows().get(node.key, ())

    def _tree_changed(self, *_args: object) -> None:
        if self._applying or self.model.updating:
            return
        rows: set[int] = set()
        for index in self.tree.selectionModel().selectedRows(0):
            rows.update(self.rows_of(self.model.node(index)))
        self._proposed = tuple(sorted(rows))
        self.session.select_rows(rows)

    def show_rows(self, rows: Iterable[int], scroll: bool = True) -> None:
        """Select in the tree what stands for ``rows`` (from another view)."""
        wanted = tuple(sorted(set(rows)))
        if wanted == self._proposed and scroll:
            return  # the tree's own selection coming back
        self._proposed = None
        selection = QItemSelection()
        found: list[QModelIndex] = []
        if wanted:
            self.model.finish_rows()  # a row not made yet cannot be selected
            self._collect(QModelIndex(), set(wanted), found)
        last_column = self.model.columnCount() - 1
        for index in found:
            selection.select(index, index.siblingAtColumn(last_column))
        self._applying = True
        try:
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            self.tree.selectionModel().select(selection, flags)
            if found:
                self.tree.selectionModel().setCurrentIndex(
                    found[0], QItemSelectionModel.SelectionFlag.NoUpdate
                )
                if scroll:
                    self.tree.scrollTo(found[0])
        finally:
            self._applying = False

    def _collect(self, parent: QModelIndex, rows: set[int], found: list[QModelIndex]) -> None:
        groups = self._group_rows()
        for number in range(self.model.rowCount(parent)):
            index = self.model.index(number, 0, parent)
            node = self.model.node(index)
            if node.kind == "layer":
                if int(node.key) in rows:
                    found.append(index)
                continue
            members = groups.get(node.key, range(0))
            whole = len(members) > 0 and all(row in rows for row in members)
            # A block's summary row is its last: the block itself, as the diagram draws it.
            if whole or (node.kind == "block" and members and members[-1] in rows):
                found.append(index)
            else:
                self._collect(index, rows, found)
