"""The Layers tab's time, share and GMAC/s columns: added by a profile, summed for groups,
sortable, greyed while another spec is on show."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QStyleOptionViewItem

from explorer.core.benchtypes import BenchConfig
from explorer.core.profile import Profile, profile
from explorer.core.spec import ArchSpec
from explorer.gui.app import application
from explorer.gui.models.layer_tree import COLUMNS, PROFILE_COLUMNS, SORT_ROLE, STALE_PROFILE_INK
from explorer.gui.panels.layer_view import LayerView
from explorer.gui.profile_store import profile_store
from explorer.gui.session import Session

TINY = ArchSpec(depths=(1, 1), widths=(8, 16), stem_width=8, input_size=(16, 16), num_classes=4)
TIME = len(COLUMNS)


@pytest.fixture(scope="module")
def result() -> Profile:
    return profile(TINY, BenchConfig(device="cpu", threads=1, warmup=0, iterations=2))


@pytest.fixture
def view(qtbot) -> LayerView:  # type: ignore[no-untyped-def]
    application()
    widget = LayerView(Session(TINY))
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _layer_index(view: LayerView, name: str) -> QModelIndex:
    model = view.model
    pending = [model.index(row, 0) for row in range(model.rowCount())]
    while pending:
        index = pending.pop()
        if model.node(index).kind == "layer" and model.node(index).full_name == name:
            return index
        pending.extend(model.index(row, 0, index) for row in range(model.rowCount(index)))
    raise KeyError(name)


def _ink(view: LayerView, index: QModelIndex) -> str:
    """The colour the table paints the text of ``index`` in."""
    option = QStyleOptionViewItem()
    option.initFrom(view.tree.viewport())
    option.widget = view.tree
    view.delegate.initStyleOption(option, index)
    return option.palette.color(QPalette.ColorRole.Text).name().upper()


def test_a_profile_adds_its_columns_with_each_rows_figures(view: LayerView, result: Profile) -> None:
    model = view.model
    assert model.columnCount() == len(COLUMNS)
    profile_store(view.session).store(result)
    assert model.columnCount() == len(COLUMNS) + len(PROFILE_COLUMNS)
    assert model.headerData(TIME, Qt.Orientation.Horizontal) == PROFILE_COLUMNS[0]
    conv = _layer_index(view, "layer1.0.conv1").siblingAtColumn(TIME)
    row = next(layer for layer in result.layers if layer.name == "layer1.0.conv1")
    assert conv.data() == f"{row.time_s * 1e3:,.3f}"
    assert conv.siblingAtColumn(TIME + 1).data() == f"{row.share:.1%}"
    stage = next(
        model.index(r, TIME) for r in range(model.rowCount()) if model.index(r, 0).data() == "layer1"
    )
    assert stage.data() == f"{result.stages[1].time_s * 1e3:,.3f}"
    assert conv.data(Qt.ItemDataRole.ForegroundRole) is None
    assert _ink(view, conv) != STALE_PROFILE_INK
    assert "earlier architecture" not in view.delegate.tooltip(conv)


def test_sorting_by_time_puts_the_slowest_first(view: LayerView, result: Profile) -> None:
    profile_store(view.session).store(result)
    view.model.sort(TIME, Qt.SortOrder.DescendingOrder)
    model = view.model
    keys = [model.index(r, TIME).data(SORT_ROLE) for r in range(model.rowCount())]
    assert keys == sorted(keys, reverse=True)


def test_the_columns_grey_when_the_spec_changes(qtbot, view: LayerView, result: Profile) -> None:  # type: ignore[no-untyped-def]
    profile_store(view.session).store(result)
    view.session.propose(replace(TINY, depths=(1, 2)))
    qtbot.waitUntil(
        lambda: view.model.analysis is not None and view.model.analysis.spec != TINY, timeout=10_000
    )
    assert not view.model.profile_current
    conv = _layer_index(view, "layer1.0.conv1").siblingAtColumn(TIME)
    assert _ink(view, conv) == STALE_PROFILE_INK
    assert "earlier architecture" in view.delegate.tooltip(conv)
    new_layer = _layer_index(view, "layer2.1.conv1").siblingAtColumn(TIME)
    assert new_layer.data() == ""  # a layer the profiled network did not have
    view.session.undo()
    qtbot.waitUntil(lambda: view.model.profile_current, timeout=10_000)
