"""Selecting rows and pressing Ctrl+C copies them as tab-separated text."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication

from .conftest import wait_current


def _index_of(view, *labels):  # type: ignore[no-untyped-def]
    proxy = view.model
    index = None
    for label in labels:
        parent = index if index is not None else proxy.index(-1, -1)
        index = next(
            proxy.index(r, 0, parent)
            for r in range(proxy.rowCount(parent))
            if proxy.index(r, 0, parent).data() == label
        )
    return index


def test_ctrl_c_copies_the_selected_rows(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    wait_current(qtbot, window)
    view = window.layer_view
    selection = view.tree.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    # Selected out of order: the text follows the order on screen.
    for path in (("layer2", "layer2.0", "add"), ("stem", "conv1"), ("layer2", "layer2.0", "shortcut.0")):
        selection.select(_index_of(view, *path), flags)
    QApplication.clipboard().clear()
    view.tree.setFocus()
    qtbot.keyClick(view.tree, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.clipboard().text() == (
        "Layer\tType\tOutput shape\tParams\tMACs\tReceptive field\n"
        "conv1\tConv2d\t64x32x32\t1728\t1769472\t3\n"
        "layer2.0.shortcut.0\tConv2d (shortcut)\t128x16x16\t8192\t2097152\t11\n"
        "layer2.0.add\tAdd (residual)\t128x16x16\t0\t0\t17\n"
    )


def test_copying_a_stage_row_gives_its_sums(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    view = window.layer_view
    view.tree.selectionModel().select(
        _index_of(view, "layer1"),
        QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
    )
    assert view.selected_text().splitlines()[1] == (
        "layer1\t2 × ResidualBlock, stride 1\t64x32x32\t147968\t150994944\t11"
    )
