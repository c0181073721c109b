"""The Benchmark and Compare tabs in a small window: nothing cut off, readable charts and units."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QScrollArea, QToolButton, QWidget

from explorer.core.presets import preset
from explorer.gui.panels.benchmark import BenchmarkPanel
from explorer.gui.panels.compare import ComparePanel
from tests.gui.conftest import open_window

TIMEOUT_MS = 120_000
SMALL = (1024, 700)


def _scroll_area(panel: QWidget) -> QScrollArea:
    parent = panel.parentWidget()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    assert parent is not None
    return parent


def _fully_shown(widget: QWidget, area: QScrollArea) -> bool:
    viewport = area.viewport()
    top_left = widget.mapTo(viewport, QPoint(0, 0))
    return top_left.x() >= 0 and top_left.x() + widget.width() <= viewport.width()


def test_the_benchmark_tab_fits_a_small_window_with_a_result(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, preset("cifar/resnet20"))
    window.resize(*SMALL)
    panel = window.show_tab("Benchmark")
    assert isinstance(panel, BenchmarkPanel)
    qtbot.waitUntil(panel.is_ready, timeout=TIMEOUT_MS)
    panel.options.select_device("cpu")
    panel.options.warmup_box.setValue(1)
    panel.options.iterations_box.setValue(3)
    panel.run()
    qtbot.waitUntil(lambda: not panel.busy, timeout=TIMEOUT_MS)
    qtbot.wait(50)
    area = _scroll_area(panel)
    assert not area.horizontalScrollBar().isVisible()
    for key in ("min_max", "peak_memory", "gmacs_per_s"):
        assert _fully_shown(panel.card.cards[key], area), key
    assert panel.card.cards["peak_memory"].value.text().endswith(("MiB", "KiB", "GiB"))
    device = panel.options.device()
    box = panel.options.device_box
    assert device is not None and box.currentText() == device.label and device.short_name in device.label
    assert box.fontMetrics().horizontalAdvance(box.currentText()) < box.width()  # not cut short
    assert device.name in box.toolTip()


def test_the_compare_toolbar_and_hint_fit_a_small_window(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, preset("cifar/resnet20"))
    window.resize(*SMALL)
    panel = window.show_tab("Compare")
    assert isinstance(panel, ComparePanel)
    qtbot.waitUntil(lambda: panel.threads_box.maximum() < 1024, timeout=TIMEOUT_MS)  # devices listed
    qtbot.wait(50)
    area = _scroll_area(panel)
    assert not area.horizontalScrollBar().isVisible()
    files = [button for button in panel.findChildren(QToolButton) if button.text() == "File"]
    assert len(files) == 1
    for widget in (panel.cancel_button, panel.bench_button, *files, panel.empty_hint, panel.threads_box):
        assert _fully_shown(widget, area)


def test_the_histogram_counts_in_whole_numbers_and_the_median_is_off_the_data(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, preset("cifar/resnet20"))
    panel = window.show_tab("Benchmark")
    assert isinstance(panel, BenchmarkPanel)
    qtbot.waitUntil(panel.is_ready, timeout=TIMEOUT_MS)
    panel.options.select_device("cpu")
    panel.options.warmup_box.setValue(0)
    panel.options.iterations_box.setValue(3)
    panel.run()
    qtbot.waitUntil(lambda: not panel.busy, timeout=TIMEOUT_MS)
    axis = panel.latency_charts.histogram_plot.getAxis("left")
    top = panel.latency_charts.histogram_plot.viewRange()[1][1]
    ticks = [value for _spacing, values in axis.tickValues(0, top, 200) for value in values]
    assert ticks and all(float(value).is_integer() for value in ticks)
    lines = [item for item in panel.latency_charts.series_plot.items if type(item).__name__ == "InfiniteLine"]
    assert len(lines) == 1 and getattr(lines[0], "label", None) is None  # no text over the data
    assert panel.result is not None and panel.result.stats is not None
    title = panel.latency_charts.series_plot.titleLabel.text
    assert "median" in title

    memory = window.totals.cards["memory"]
    assert memory.value.text().endswith(" MiB") and memory.detail.text().count(" MiB") == 2
