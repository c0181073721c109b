"""An edit changes the layer table, the totals and the charts in place, and they end up
as a fresh build from ``analyze()`` of the final spec would show them."""

from __future__ import annotations

import gc
import os
import threading
from dataclasses import replace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester

from explorer.core.analysis import Analysis, analyze, analyze_after
from explorer.core.presets import preset
from explorer.core.spec import ArchSpec, SpecError
from explorer.gui.app import application
from explorer.gui.models import layer_tree
from explorer.gui.models.layer_tree import KEY_ROLE, SORT_ROLE, LayerTreeModel, tree_change
from explorer.gui.panels.charts import ChartsPanel
from explorer.gui.panels.layer_view import LayerView
from explorer.gui.panels.totals import TotalsPanel
from explorer.gui.session import Session
from tests.strategies import small_specs, spec_edits

ROLES = (
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.ForegroundRole,
    KEY_ROLE,
    SORT_ROLE,
)


def shown(model: LayerTreeModel, parent: QModelIndex | None = None) -> list[object]:
    """Everything the model tells a view, read through the Qt API."""
    parent = parent or QModelIndex()
    rows = []
    for row in range(model.rowCount(parent)):
        cells = []
        for column in range(model.columnCount(parent)):
            index = model.index(row, column, parent)
            roles = tuple(_comparable(model.data(index, role)) for role in ROLES)
            cells.append((*roles, model.tooltip(index)))
        first = model.index(row, 0, parent)
        assert model.parent(first) == parent
        rows.append((cells, shown(model, first)))
    return rows


def _comparable(value: object) -> object:
    return value.color().name() if hasattr(value, "color") else value


def fresh_model(analysis: Analysis) -> LayerTreeModel:
    model = LayerTreeModel()
    model.set_analysis(analysis)
    return model


def chart_series(panel: ChartsPanel) -> list[object]:
    series: list[object] = []
    for plot in (panel.params_plot, panel.macs_plot):
        bars = [item for item in plot.items if type(item).__name__ == "BarGraphItem"]
        series.append([list(bar.opts["height"]) for bar in bars])
        series.append(plot.getAxis("bottom")._tickLevels)
    for plot in (panel.spatial_plot, panel.channel_plot):
        series.append([[list(axis) for axis in item.getData()] for item in plot.listDataItems()])
    return series


def totals_shown(panel: TotalsPanel) -> list[tuple[str, str, str]]:
    return [(card.value.text(), card.detail.text(), card.toolTip()) for card in panel.cards.values()]


class Screens:
    """One model, totals panel and charts panel kept across hypothesis examples, as the
    window keeps them across edits; and the fresh ones to compare them with."""

    def __init__(self) -> None:
        application()
        start = analyze(preset("resnet18"))
        self.session = Session(start.spec)
        self.model = fresh_model(start)
        self.tester = QAbstractItemModelTester(
            self.model, QAbstractItemModelTester.FailureReportingMode.Fatal
        )
        # As a view has it: cells set over turns of the event loop, here none between edits,
        # so that each edit finds the cells of the one before still to set.
        self.spread = fresh_model(start)
        self.spread.spread_refills = True
        self.totals = TotalsPanel(self.session)
        self.charts = ChartsPanel(self.session)
        self.fresh_totals = TotalsPanel(self.session)
        self.fresh_charts = ChartsPanel(self.session)

    def show(self, change_from: Analysis, analysis: Analysis) -> None:
        self.model.apply_change(tree_change(change_from, analysis))
        self.spread.apply_change(tree_change(change_from, analysis))
        self.totals.show_analysis(analysis)
        self.charts.show_analysis(analysis)

    def check(self, analysis: Analysis) -> None:
        assert shown(self.model) == shown(fresh_model(analysis))
        self.spread.finish_refills()
        assert shown(self.spread) == shown(self.model)
        fresh = TotalsPanel(self.session)
        fresh.show_analysis(analysis)
        assert totals_shown(self.totals) == totals_shown(fresh)
        self.fresh_charts._drawn.clear()
        self.fresh_charts.show_analysis(analysis)
        assert chart_series(self.charts) == chart_series(self.fresh_charts)


_screens: Screens | None = None


def screens() -> Screens:
    global _screens
    if _screens is None:
        _screens = Screens()
    return _screens


def _analysis_or_none(spec: ArchSpec) -> Analysis | None:
    try:
        return analyze(spec)
    except SpecError:
        return None


def run_edit_sequence(data: st.DataObject) -> None:
    """Random edits, undos and redos; after each, the screens equal a fresh build."""
    screen = screens()
    spec = data.draw(small_specs(max_stages=3))
    shown_now = _analysis_or_none(spec)
    if shown_now is None:
        return
    screen.model.set_analysis(shown_now)
    screen.spread.set_analysis(shown_now)
    history, undone = [spec], []
    for _ in range(data.draw(st.integers(1, 5))):
        step = data.draw(st.sampled_from(["edit", "edit", "edit", "undo", "redo"]))
        if step == "undo" and len(history) > 1:
            undone.append(history.pop())
            spec = history[-1]
        elif step == "redo" and undone:
            spec = undone.pop()
            history.append(spec)
        else:
            spec = data.draw(spec_edits(spec))
            history.append(spec)
            undone = []
        analyze.cache_clear()  # the incremental path, not a cached fresh analysis
        try:
            analysis = analyze_after(shown_now, spec)
        except SpecError:
            continue  # the window keeps the last valid analysis
        screen.show(shown_now, analysis)
        shown_now = analysis
    screen.check(shown_now)


def test_a_block_kind_that_shortens_the_stem_changes_the_stem_rows() -> None:
    # A pre-activation network's stem ends at its conv: the stem's first rows are the same
    # objects after the edit, but the rows after them are gone.
    application()
    basic = ArchSpec(depths=(1,), widths=(1,), strides=(1,), stem_width=1, in_channels=1, input_size=(1, 1))
    before = analyze(basic)
    analyze.cache_clear()
    after = analyze_after(before, replace(basic, block="preact-basic"))
    model = fresh_model(before)
    model.apply_change(tree_change(before, after))
    assert shown(model) == shown(fresh_model(after))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_edit_sequences_leave_what_a_fresh_build_shows(data: st.DataObject) -> None:
    run_edit_sequence(data)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_three_hundred_edit_sequences_leave_what_a_fresh_build_shows(data: st.DataObject) -> None:
    run_edit_sequence(data)


def _find(model: LayerTreeModel, key: str, parent: QModelIndex | None = None) -> QModelIndex:
    parent = parent or QModelIndex()
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        if model.node(index).key == key:
            return index
        found = _find(model, key, index)
        if found.isValid():
            return found
    return QModelIndex()


def test_a_row_of_an_unchanged_stage_keeps_its_index_and_its_text() -> None:
    application()
    before = analyze(preset("cifar/resnet20"))
    model = fresh_model(before)
    resets: list[bool] = []
    model.modelAboutToBeReset.connect(lambda: resets.append(True))
    row = next(r for r in before.rows if r.name == "layer1.1.conv2")
    index = _find(model, str(row.index))
    node = model.node(index)
    cells = node.cells()
    persistent = QPersistentModelIndex(index)
    block = QPersistentModelIndex(index.parent())

    after = analyze_after(before, before.spec.with_depths((3, 3, 5)))
    assert model.apply_change(tree_change(before, after))
    assert resets == []
    assert persistent.isValid() and model.node(persistent) is node
    assert (persistent.row(), persistent.parent()) == (index.row(), QModelIndex(block))
    assert node.cells() is cells  # not formatted again
    assert shown(model) == shown(fresh_model(after))


def test_rows_after_an_edit_move_with_it_and_show_their_new_figures() -> None:
    application()
    before = analyze(preset("cifar/resnet20"))
    model = fresh_model(before)
    head = QPersistentModelIndex(_find(model, "head"))
    after = analyze_after(before, before.spec.with_depths((2, 3, 3)))
    model.apply_change(tree_change(before, after))
    assert head.isValid() and head.data(KEY_ROLE) == "head"
    assert _find(model, "layer1.2") == QModelIndex()
    assert shown(model) == shown(fresh_model(after))


def test_a_change_from_another_analysis_rebuilds() -> None:
    application()
    first = analyze(preset("cifar/resnet20"))
    model = fresh_model(analyze(preset("resnet18")))
    assert not model.apply_change(tree_change(first, analyze_after(first, first.spec.with_depths((3, 3, 4)))))
    assert shown(model) == shown(fresh_model(analyze(first.spec.with_depths((3, 3, 4)))))


def test_sort_and_filter_survive_an_edit() -> None:
    application()
    before = analyze(preset("cifar/resnet20"))
    model = fresh_model(before)
    model.sort(3, Qt.SortOrder.DescendingOrder)
    model.set_filter("conv2")
    after = analyze_after(before, before.spec.with_depths((3, 3, 4)))
    model.apply_change(tree_change(before, after))
    expected = fresh_model(after)
    expected.sort(3, Qt.SortOrder.DescendingOrder)
    expected.set_filter("conv2")
    assert shown(model) == shown(expected)


def test_expansion_and_selection_survive_an_edit_of_another_stage(qtbot) -> None:  # type: ignore[no-untyped-def]
    session = Session(preset("cifar/resnet20"), debounce_ms=0)
    view = LayerView(session)
    qtbot.addWidget(view)
    view.show()
    model, tree = view.model, view.tree
    tree.collapse(_find(model, "layer1.0"))
    tree.collapse(_find(model, "layer2"))
    selected = next(r.index for r in session.analysis.rows if r.name == "layer1.1.conv1")
    session.select_rows([selected])
    assert [model.node(i).full_name for i in tree.selectionModel().selectedRows(0)] == ["layer1.1.conv1"]

    with qtbot.waitSignal(session.analysis_changed, timeout=10_000):
        session.propose(session.spec.with_depths((3, 3, 5)))
    assert session.analysis.spec.depths == (3, 3, 5)
    assert not tree.isExpanded(_find(model, "layer1.0"))
    assert not tree.isExpanded(_find(model, "layer2"))
    assert tree.isExpanded(_find(model, "layer1.1")) and tree.isExpanded(_find(model, "layer3"))
    assert tree.isExpanded(_find(model, "layer3.4"))  # a new block opens like the others
    assert session.selected_rows == (selected,)
    assert [model.node(i).full_name for i in tree.selectionModel().selectedRows(0)] == ["layer1.1.conv1"]


def test_an_overtaken_analysis_is_shown_until_the_newest_arrives(qtbot) -> None:  # type: ignore[no-untyped-def]
    start = preset("cifar/resnet20")
    first, second = start.with_depths((4, 3, 3)), start.with_depths((5, 3, 3))
    started = {first: threading.Event(), second: threading.Event()}
    released = {first: threading.Event(), second: threading.Event()}

    def analyze_when_released(spec: ArchSpec) -> Analysis:
        if spec in released:  # not the document's first analysis, made at once
            started[spec].set()
            released[spec].wait(10)
        return analyze(spec)

    session = Session(start, analyze_fn=analyze_when_released, debounce_ms=0)
    shown: list[ArchSpec] = []
    session.analysis_changed.connect(lambda analysis: shown.append(analysis.spec))
    session.propose(first)
    qtbot.waitUntil(started[first].is_set, timeout=5000)
    session.propose(second)  # waits for the analysis running
    released[first].set()  # as with a held key: the step on the way is shown, not nothing
    qtbot.waitUntil(lambda: len(shown) > 0, timeout=5000)
    assert shown == [first] and not session.is_current
    qtbot.waitUntil(started[second].is_set, timeout=5000)  # started once the first was shown
    released[second].set()
    qtbot.waitUntil(lambda: len(shown) > 1, timeout=5000)
    assert shown == [first, second] and session.is_current


def test_under_a_sort_and_a_filter_an_edit_changes_rows_in_place() -> None:
    application()
    before = analyze(preset("cifar/resnet20"))
    model = fresh_model(before)
    model.sort(4, Qt.SortOrder.DescendingOrder)
    model.set_filter("layer1")
    resets: list[bool] = []
    model.modelAboutToBeReset.connect(lambda: resets.append(True))
    kept = QPersistentModelIndex(_find(model, "layer1.1"))
    after = analyze_after(before, before.spec.with_depths((3, 3, 4)))
    assert model.apply_change(tree_change(before, after))
    assert resets == []
    assert kept.isValid() and model.node(kept).key == "layer1.1"


def test_the_view_lays_rows_out_without_calling_python_for_each() -> None:
    # After an edit Qt lays out every expanded row again; a Python index(), rowCount(),
    # parent(), flags() or data() on either model would make that cost grow with the
    # network (it did: 30 ms a 5,000-row edit). The models are Qt's own, used as they are.
    per_row = ("index", "parent", "rowCount", "columnCount", "hasChildren", "flags", "data", "multiData")
    model = LayerTreeModel()
    for cls in type(model).__mro__ + type(model.items).__mro__:
        if cls.__module__.startswith("explorer"):
            assert not set(vars(cls)) & set(per_row), cls


def test_changes_dropped_unshown_are_freed_by_a_garbage_collection() -> None:
    # A newer edit overtakes a change: its rows, made on the worker, are never shown. Made
    # as a parent item holding its children, a collection freed them in an order that
    # deleted a child twice and crashed the app.
    application()
    before = analyze(preset("cifar/resnet20"))
    LayerTreeModel()
    for extra in range(1, 40):
        change = tree_change(before, analyze_after(before, before.spec.with_depths((3, 3 + extra, 3))))
        assert change.kept_rows > 0
        del change
        gc.collect()


def test_blocks_added_to_an_open_stage_keep_the_table_where_it_was_scrolled(qtbot) -> None:  # type: ignore[no-untyped-def]
    # The stage is closed for a moment while its new blocks arrive (the tree then lays out
    # that stage's rows only): neither the expansion nor the scroll position may show it.
    session = Session(preset("cifar/resnet56"), debounce_ms=0)
    view = LayerView(session)
    qtbot.addWidget(view)
    view.resize(900, 400)
    view.show()
    bar = view.tree.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    bar.setValue(bar.maximum())
    scrolled = bar.value()
    with qtbot.waitSignal(session.analysis_changed, timeout=10_000):
        session.propose(session.spec.with_depths((9, 12, 9)))
    assert bar.value() == scrolled
    assert view.tree.isExpanded(_find(view.model, "layer2"))
    assert view.tree.isExpanded(_find(view.model, "layer2.11"))
    assert view._toggled == set()  # the closing was not taken for the person's


def test_an_early_edit_sets_only_the_receptive_fields_of_the_later_stages_rows() -> None:
    """A block more in layer1 shifts every later layer's torchsummary row and analysis row,
    and widens its receptive field: of their cells only the receptive field's is set again
    (the tooltips are made when asked for, and a layer's place under its block is the same)."""
    application()
    before = analyze(preset("cifar/resnet56"))
    model = fresh_model(before)
    later = {_find(model, "layer2").row(), _find(model, "layer3").row()}
    touched: list[tuple[int, int]] = []

    def record(top_left: QModelIndex, bottom_right: QModelIndex) -> None:
        block = top_left.parent()
        if block.isValid() and block.parent().isValid() and block.parent().row() in later:
            touched.append((top_left.column(), bottom_right.column()))

    model.items.dataChanged.connect(record)
    after = analyze_after(before, before.spec.with_depths((10, 9, 9)))
    assert model.apply_change(tree_change(before, after))
    assert len(touched) == 18  # the layers of each of layer2's and layer3's blocks
    assert set(touched) == {(5, 5)}
    conv = next(r for r in after.rows if r.name == "layer3.8.conv2")
    shifted = _find(model, str(conv.index))
    assert f"torchsummary row: {conv.summary_id}" in model.tooltip(shifted)
    assert shown(model) == shown(fresh_model(after))


def test_cells_changed_in_place_repaint_the_view_once_instead_of_a_signal_per_block() -> None:
    application()
    before = analyze(preset("cifar/resnet56"))
    model = fresh_model(before)
    passed_on: list[QModelIndex] = []
    repaints: list[bool] = []
    model.dataChanged.connect(lambda top_left, *_: passed_on.append(top_left))
    model.cells_changed.connect(lambda: repaints.append(True))
    after = analyze_after(before, before.spec.with_depths((10, 9, 9)))
    model.apply_change(tree_change(before, after))
    assert passed_on == [] and repaints == [True]

    # Sorted, the proxy must see every change to keep the order: it gets them all.
    model.sort(5, Qt.SortOrder.DescendingOrder)
    passed_on.clear()
    again = analyze_after(after, after.spec.with_depths((11, 9, 9)))
    model.apply_change(tree_change(after, again))
    assert len(passed_on) > 18
    assert shown(model) == shown(_sorted(fresh_model(again), 5, Qt.SortOrder.DescendingOrder))


def _sorted(model: LayerTreeModel, column: int, order: Qt.SortOrder) -> LayerTreeModel:
    model.sort(column, order)
    return model


def test_the_table_is_repainted_once_the_event_loop_is_idle_after_an_edit(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The update and the repaint of an edit are two steps with the event loop between
    them (a key pressed meanwhile is handled at once), and the repaint does come."""
    session = Session(preset("cifar/resnet56"), debounce_ms=0)
    view = LayerView(session)
    qtbot.addWidget(view)
    view.resize(900, 400)
    view.show()
    qtbot.waitExposed(view)
    held: list[bool] = []
    rows = view.tree.viewport()
    session.analysis_changed.connect(lambda _analysis: held.append(not rows.updatesEnabled()))
    with qtbot.waitSignal(session.analysis_changed, timeout=10_000):
        session.propose(session.spec.with_depths((9, 10, 9)))
    assert held == [True]
    qtbot.waitUntil(rows.updatesEnabled, timeout=2000)
    assert view.tree.updatesEnabled()


def test_what_an_edit_leaves_over_is_freed_without_a_garbage_collection() -> None:
    """The nodes of a change not taken into the rows shown (values copied, placeholders)
    hold parent <-> child cycles: broken, they go by reference counting, and the collector
    finds nothing to pause the window for (90 ms for an early edit of resnet1202)."""
    application()
    before = analyze(preset("cifar/resnet56"))
    model = fresh_model(before)
    gc.collect()
    gc.disable()
    try:
        middle = analyze_after(before, before.spec.with_depths((10, 9, 9)))
        first = tree_change(before, middle)
        model.apply_change(first)
        after = analyze_after(middle, middle.spec.with_depths((11, 9, 9)))
        model.apply_change(tree_change(middle, after))
        dropped = tree_change(after, analyze_after(after, after.spec.with_depths((12, 9, 9))))
        del first
        Session._drop_unshown(dropped)
        del dropped
        assert gc.collect() == 0
    finally:
        gc.enable()
    assert shown(model) == shown(fresh_model(after))


def test_the_cells_of_a_long_edit_are_set_over_turns_of_the_event_loop(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(layer_tree, "REFILL_BUDGET_S", 0.0)  # one parent's rows a turn
    before = analyze(preset("cifar/resnet56"))
    model = fresh_model(before)
    model.spread_refills = True
    repaints: list[bool] = []
    model.cells_changed.connect(lambda: repaints.append(True))
    after = analyze_after(before, before.spec.with_depths((10, 9, 9)))
    model.apply_change(tree_change(before, after))
    assert model.refilling and repaints == []
    assert model.rowCount(_find(model, "layer1")) == 10  # the rows are in place at once
    qtbot.waitUntil(lambda: not model.refilling, timeout=5000)
    assert repaints == [True]  # once, when the last cell is set
    assert shown(model) == shown(fresh_model(after))


def test_an_edit_that_comes_while_cells_wait_sets_them_first(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    application()
    monkeypatch.setattr(layer_tree, "REFILL_BUDGET_S", 0.0)
    before = analyze(preset("cifar/resnet56"))
    model = fresh_model(before)
    model.spread_refills = True
    middle = analyze_after(before, before.spec.with_depths((10, 9, 9)))
    model.apply_change(tree_change(before, middle))
    after = analyze_after(middle, middle.spec.with_depths((10, 10, 9)))
    model.apply_change(tree_change(middle, after))
    model.finish_refills()
    assert not model.refilling
    assert shown(model) == shown(fresh_model(after))
