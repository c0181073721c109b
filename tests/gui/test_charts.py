"""The Charts tab: its series come from the analysis, and it keeps up with edits."""

from __future__ import annotations

from explorer.core.analysis import analyze
from explorer.core.presets import preset
from explorer.gui.panels.charts import feature_path, part_totals

from .conftest import wait_current


def test_part_totals_add_up_to_the_network() -> None:
    analysis = analyze(preset("torchvision/resnet50"))
    parts = part_totals(analysis)
    assert [name for name, _, _ in parts] == ["stem", "layer1", "layer2", "layer3", "layer4", "head"]
    assert sum(p for _, p, _ in parts) == analysis.totals.total_params
    assert sum(m for _, _, m in parts) == analysis.totals.macs
    assert [p for name, p, _ in parts if name.startswith("layer")] == [s.params for s in analysis.stages]


def test_the_feature_path_follows_the_blocks() -> None:
    analysis = analyze(preset("cifar/resnet20"))
    path = feature_path(analysis)
    stem = [point for point in path if point[3] == "stem"]
    blocks = [point for point in path if point[3] != "stem"]
    assert len(stem) == 2 and len(blocks) == 9  # conv1, bn1; 3 stages x 3 blocks
    assert [(channels, side) for _, channels, side, _ in blocks[::3]] == [(16, 32), (32, 16), (64, 8)]


def test_a_hidden_charts_tab_catches_up_when_shown(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    charts = window.show_tab("Charts")
    qtbot.waitUntil(charts.is_ready)
    window.show_tab("Layers")
    window.editor.stage_rows[0].depth.setValue(4)
    wait_current(qtbot, window)
    assert not charts.is_ready()  # hidden: not redrawn yet
    window.show_tab("Charts")
    assert charts.is_ready()
    assert charts._shown is window.session.analysis


def visible_labels(plot):  # type: ignore[no-untyped-def]
    """Every text the plot shows: bar values and stage names."""
    import pyqtgraph as pg

    texts = [item for item in plot.items if isinstance(item, pg.TextItem)]
    texts += [item.label for item in plot.items if isinstance(item, pg.InfiniteLine) and item.label]
    return [text for text in texts if text.isVisible()]


def text_box(label):  # type: ignore[no-untyped-def]
    """Where the label's letters are: its box without the text document's margin."""
    margin = label.textItem.document().documentMargin()
    return label.sceneBoundingRect().adjusted(margin, margin, -margin, -margin)


def test_chart_labels_never_run_into_each_other(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    import itertools

    charts = window.show_tab("Charts")
    qtbot.waitUntil(charts.is_ready)
    plots = (charts.params_plot, charts.macs_plot, charts.spatial_plot, charts.channel_plot)
    counts = {}
    for width, height in ((1024, 700), (1920, 1080)):
        window.resize(width, height)
        qtbot.waitUntil(lambda w=width: charts.width() < w - 300)  # the window is laid out anew
        qtbot.wait(20)
        for plot in plots:
            boxes = [text_box(label) for label in visible_labels(plot)]
            assert [pair for pair in itertools.combinations(boxes, 2) if pair[0].intersects(pair[1])] == []
            counts[plot] = len(boxes)
    # With room to spare, every label shows: 6 bar values, 4 stage names.
    assert [counts[plot] for plot in plots] == [6, 6, 4, 4]


def test_a_tall_chart_labels_its_axis_sparingly(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    import itertools

    from PySide6.QtGui import QFont, QFontMetrics, QImage, QPainter

    charts = window.show_tab("Charts")
    qtbot.waitUntil(charts.is_ready)
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: charts.params_plot.getAxis("left").height() > 250)
    axis = charts.params_plot.getAxis("left")
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _axis_spec, ticks, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    line_height = QFontMetrics(QFont()).height()
    heights = sorted(rect.center().y() for rect, _flags, _text in texts)
    gaps = [b - a for a, b in itertools.pairwise(heights)]
    # Not a label on every minor tick: they stay several lines of text apart.
    assert len(texts) < len(ticks) and min(gaps) >= 4 * line_height
