"""The Compare tab's stage times: each variant's last profile of its exact spec, side by side."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from explorer.core.benchtypes import BenchConfig
from explorer.core.profile import Profile, profile
from explorer.core.spec import ArchSpec
from explorer.gui.app import application
from explorer.gui.panels.compare import ComparePanel
from explorer.gui.panels.compare_stage_time import NOT_PROFILED, PROFILE_COLUMN, TOTAL
from explorer.gui.profile_store import profile_store
from explorer.gui.session import Session
from explorer.gui.workspace import Workspace

TWO_STAGES = ArchSpec(depths=(1, 1), widths=(8, 16), stem_width=8, input_size=(16, 16), num_classes=4)
THREE_STAGES = replace(TWO_STAGES, depths=(1, 1, 1), widths=(8, 16, 32))
QUICK = BenchConfig(device="cpu", threads=1, warmup=0, iterations=1)


@pytest.fixture(scope="module")
def profiles() -> tuple[Profile, Profile]:
    return profile(TWO_STAGES, replace(QUICK, mode="train", batch_size=2)), profile(THREE_STAGES, QUICK)


@pytest.fixture
def panel(qtbot, tmp_path: Path) -> ComparePanel:  # type: ignore[no-untyped-def]
    application()
    session = Session(TWO_STAGES)
    widget = ComparePanel(session, Workspace(tmp_path / "workspace.json", parent=session))
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _headers(panel: ComparePanel) -> list[str]:
    table = panel.stage_times.table
    return [table.horizontalHeaderItem(column).text() for column in range(table.columnCount())]


def _seconds(panel: ComparePanel, row: int, column: int) -> object:
    item = panel.stage_times.table.item(row, column)
    return None if item is None else item.data(Qt.ItemDataRole.UserRole)


def test_profiled_variants_show_their_stage_times_and_others_say_not_profiled(
    panel: ComparePanel, profiles: tuple[Profile, Profile]
) -> None:
    trained, inferred = profiles
    panel.add_current()
    panel._apply(lambda: panel.comparison.add("three stages", THREE_STAGES))
    panel._apply(lambda: panel.comparison.add("wider", replace(TWO_STAGES, widths=(16, 32))))
    assert panel.stage_times.table.item(0, 0).text() == NOT_PROFILED  # nothing profiled yet

    store = profile_store(panel.session)
    store.store(trained)
    store.store(inferred)  # the latest is another spec: the first variant keeps its own
    headers = _headers(panel)
    assert headers == ["stem", "layer1", "layer2", "layer3", "head", TOTAL, PROFILE_COLUMN]
    for row, result in ((0, trained), (1, inferred)):
        for stage in result.stages:
            assert _seconds(panel, row, headers.index(stage.name)) == stage.time_s
        assert _seconds(panel, row, headers.index(TOTAL)) == pytest.approx(result.total_s)
    assert _seconds(panel, 0, headers.index("layer3")) is None  # two stages only
    assert "training step" in panel.stage_times.table.item(0, headers.index(PROFILE_COLUMN)).text()
    tip = panel.stage_times.table.item(0, headers.index("layer1")).toolTip()
    assert "forward" in tip and "backward" in tip
    assert panel.stage_times.table.item(2, 0).text() == NOT_PROFILED
    assert "1 of 3 not profiled" in panel.stage_times.hint.text()
    assert "run differently" in panel.stage_times.hint.text()


def test_the_view_is_a_tab_of_the_compare_panel(panel: ComparePanel) -> None:
    titles = [panel.views.tabText(index) for index in range(panel.views.count())]
    assert "Stage time" in titles
    panel.views.setCurrentIndex(titles.index("Stage time"))
    assert panel.views.currentWidget() is panel.stage_times


def test_tips_give_the_change_against_a_baseline_profiled_alike(
    panel: ComparePanel, profiles: tuple[Profile, Profile]
) -> None:
    _, inferred = profiles
    wider = replace(TWO_STAGES, widths=(16, 32))
    store = profile_store(panel.session)
    store.store(inferred)
    store.store(profile(wider, QUICK))
    panel._apply(lambda: panel.comparison.add("three stages", THREE_STAGES))
    panel._apply(lambda: panel.comparison.add("wider", wider))
    headers = _headers(panel)
    table = panel.stage_times.table
    column = headers.index("layer1")
    expected = table.item(1, column).data(Qt.ItemDataRole.UserRole) / table.item(0, column).data(
        Qt.ItemDataRole.UserRole
    )
    assert f"{expected - 1:+.1%} against three stages" in table.item(1, column).toolTip()
    assert "against" not in table.item(0, column).toolTip()  # the baseline itself
    assert "against three stages" in table.item(1, headers.index(TOTAL)).toolTip()


def test_the_chart_groups_each_profiled_variants_stage_times(
    panel: ComparePanel, profiles: tuple[Profile, Profile]
) -> None:
    import pyqtgraph as pg

    trained, inferred = profiles
    store = profile_store(panel.session)
    store.store(trained)
    store.store(inferred)
    panel.add_current()
    panel._apply(lambda: panel.comparison.add("three stages", THREE_STAGES))
    panel._apply(lambda: panel.comparison.add("<b>not profiled</b>", replace(TWO_STAGES, widths=(16, 32))))
    assert panel.stage_times.chart is None  # pyqtgraph waits until the view is shown
    panel.views.setCurrentWidget(panel.stage_times)
    chart = panel.stage_times.chart
    assert chart is not None
    bars = [item for item in chart.getPlotItem().items if isinstance(item, pg.BarGraphItem)]
    assert len(bars) == 2  # the variant not profiled has none
    for bar, result in zip(bars, (trained, inferred), strict=True):
        assert list(bar.opts["height"]) == pytest.approx([stage.time_s * 1e3 for stage in result.stages])
    ticks = chart.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [name for _, name in ticks] == ["stem", "layer1", "layer2", "layer3", "head"]


def test_with_nothing_profiled_the_chart_says_how_to_fill_it(
    panel: ComparePanel, profiles: tuple[Profile, Profile]
) -> None:
    panel.add_current()
    view = panel.stage_times
    panel.views.setCurrentWidget(view)
    assert view.chart is not None
    assert not view.chart.isVisible() and view.empty_chart.isVisible()
    assert "profile it on the Profile tab" in view.empty_chart.text()
    profile_store(panel.session).store(profiles[0])
    assert view.chart.isVisible() and not view.empty_chart.isVisible()
