"""The Compare tab's charts: scatter labels that never cover each other, a legend and
charts that stay readable in a small window."""

from __future__ import annotations

import itertools

import pytest

from explorer.core.compare import BenchFigures, Comparison
from explorer.core.presets import preset
from explorer.core.spec import ArchSpec
from explorer.gui.app import application
from explorer.gui.panels.compare_charts import MIN_CANVAS_HEIGHT, ComparisonCharts
from explorer.gui.panels.compare_diff import DiffView


def crowded_comparison(count: int) -> Comparison:
    """Variants whose points nearly coincide: the hardest case for their labels."""
    comparison = Comparison()
    for index in range(count):
        spec = ArchSpec(depths=(1, 1, 1, 1 + index % 2))
        comparison = comparison.add(f"variant number {index}", spec)
        comparison = comparison.with_bench(index, BenchFigures("cpu", 1, 2.0 + 0.01 * index, 0.1, 500.0))
    return comparison.add("far away", preset("resnet50")).with_bench(
        count, BenchFigures("cpu", 1, 9.0, 0.1, 100.0)
    )


@pytest.mark.parametrize(("width", "height"), [(700, 560), (1400, 900)])
def test_scatter_labels_never_overlap(qtbot, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    application()
    charts = ComparisonCharts()
    qtbot.addWidget(charts)
    charts.resize(width, height)
    charts.show()
    qtbot.waitExposed(charts)
    charts.set_comparison(crowded_comparison(8))
    qtbot.wait(50)  # the layout settles, and the labels are placed again at the final size
    boxes = [label.sceneBoundingRect() for label, _x, _y in charts._labels]
    assert len(boxes) == 9
    pairs = itertools.combinations(range(len(boxes)), 2)
    assert [(a, b) for a, b in pairs if boxes[a].intersects(boxes[b])] == []


def test_in_a_short_pane_the_charts_scroll_instead_of_flattening(qtbot) -> None:  # type: ignore[no-untyped-def]
    application()
    charts = ComparisonCharts()
    qtbot.addWidget(charts)
    charts.resize(600, 380)
    charts.show()
    qtbot.waitExposed(charts)
    charts.set_comparison(crowded_comparison(8))
    assert charts.canvas.height() >= MIN_CANVAS_HEIGHT > charts.height()


def test_a_long_variant_name_does_not_widen_the_diff(qtbot) -> None:  # type: ignore[no-untyped-def]
    application()
    widths = []
    for name in ("short", "a variant with a name much longer than any preset's " * 2):
        view = DiffView()
        qtbot.addWidget(view)
        view.set_comparison(Comparison().add("base", preset("resnet18")).add(name, preset("resnet34")))
        view.first_box.setCurrentIndex(1)
        widths.append(view.minimumSizeHint().width())
    assert widths[1] == widths[0]


def test_a_scatter_points_tip_says_what_its_latency_was_timed_under(qtbot) -> None:  # type: ignore[no-untyped-def]
    import pyqtgraph as pg

    application()
    charts = ComparisonCharts()
    qtbot.addWidget(charts)
    figures = BenchFigures(
        "cpu", 4, 2.0, 0.1, 2000.0, "inference", None, "bfloat16", False, "channels_last", 3, True
    )
    charts.set_comparison(Comparison().add("r18", preset("resnet18")).with_bench(0, figures))
    (point,) = [item for item in charts.scatter_plot.items if isinstance(item, pg.ScatterPlotItem)]
    tip = point.toolTip()
    assert "timed under: forward pass, bfloat16, channels_last, batch 4, cpu, 3 threads, torch.compile" in tip
