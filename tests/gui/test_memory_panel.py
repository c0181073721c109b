"""The Memory tab: the predicted training-step memory, kept up with edits and controls."""

from __future__ import annotations

from dataclasses import replace

from explorer.core.presets import preset
from explorer.core.training_memory import largest_batch_that_fits, parse_memory_size, predict_training_memory
from explorer.core.units import format_bytes
from explorer.gui.panels.memory import StackedBar, stacked_parts

from .conftest import wait_current


def _ready(qtbot, panel) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(panel.is_ready, timeout=20_000)


def test_stacked_parts_add_up_to_the_total() -> None:
    memory = predict_training_memory(preset("torchvision/resnet50"), 8, "adamw", "float16")
    parts = dict(stacked_parts(memory))
    assert list(parts) == ["Parameters", "Gradients", "Optimizer state", "Activations"]
    assert sum(parts.values()) == memory.total_bytes
    assert parts["Optimizer state"] == 2 * memory.param_bytes


def test_the_panel_shows_the_prediction_and_follows_the_controls(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = window.show_tab("Memory")
    _ready(qtbot, panel)
    spec = window.session.spec
    memory = predict_training_memory(spec, panel.batch.value())
    assert format_bytes(memory.total_bytes) in panel.total.text()
    assert panel.bar.parts == stacked_parts(memory)
    assert format_bytes(memory.grad_bytes) in panel.legend["Gradients"].text()

    panel.batch.setValue(5)
    panel.optimizer.setCurrentText("adamw")
    panel.precision.setCurrentText("bfloat16")
    _ready(qtbot, panel)
    memory = predict_training_memory(spec, 5, "adamw", "bfloat16")
    assert panel.shown.prediction == memory
    assert format_bytes(memory.total_bytes) in panel.total.text()
    qtbot.waitUntil(lambda: panel.is_ready() and bool(panel.shown.devices), timeout=60_000)
    cpu = panel.shown.devices[0]
    assert cpu.max_batch == largest_batch_that_fits(spec, cpu.memory_bytes, "adamw", "bfloat16", "cpu")
    assert "cpu" in panel.devices.text() and "available system memory" in panel.devices.text()


def test_the_panel_follows_the_architecture(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = window.show_tab("Memory")
    _ready(qtbot, panel)
    before = panel.shown.prediction.saved_activation_bytes
    window.editor.stage_rows[0].depth.setValue(4)
    wait_current(qtbot, window)
    _ready(qtbot, panel)
    assert panel.shown.request.spec == window.session.spec
    assert panel.shown.prediction.saved_activation_bytes > before


def test_a_typed_size_gives_the_largest_batch_and_bad_text_is_explained(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = window.show_tab("Memory")
    panel.fit_size.setText("24 GiB")
    _ready(qtbot, panel)
    best = largest_batch_that_fits(
        window.session.spec, parse_memory_size("24 GiB"), "sgd-momentum", "float32"
    )
    assert panel.size_result.text() == f"largest batch in 24.00 GiB: {best}"

    page_top = panel.total.y()
    for typed in ("24 G", "1e400 GiB", "twenty-four gibibytes of memory, please"):
        panel.fit_size.setText(typed)
        _ready(qtbot, panel)
        label = panel.size_result
        assert "not a size" in label.text() and "24 GiB" in label.text()
        assert panel.fit_size.text() == typed  # what the person typed stays
        assert panel.shown.typed_batch is None
        # One line, whole, beside the field: the page below stays where it was.
        assert label.height() < 2 * label.fontMetrics().height()
        assert label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width()
        assert panel.total.y() == page_top
        assert "memory size" in label.toolTip()  # the reason in full


def test_the_bar_draws_without_error(qtbot) -> None:  # type: ignore[no-untyped-def]
    bar = StackedBar()
    qtbot.addWidget(bar)
    bar.resize(300, 30)
    bar.set_parts([("Parameters", 1), ("Gradients", 1), ("Optimizer state", 0), ("Activations", 2)])
    image = bar.grab().toImage()
    # The parameters take the first quarter and the activations the second half.
    assert image.pixelColor(10, 15).name() == "#5f8fc9"
    assert image.pixelColor(280, 15).name() == "#4fae8b"


def test_the_stage_chart_and_its_axis_scale_to_the_same_unit(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    import pyqtgraph as pg

    panel = window.show_tab("Memory")
    for batch, unit in ((1, "MiB"), (4096, "GiB")):
        panel.batch.setValue(batch)
        _ready(qtbot, panel)
        saved = [group.saved_bytes for group in panel.shown.prediction.stages]
        assert panel.stage_plot.getAxis("left").labelText == unit
        (bars,) = [item for item in panel.stage_plot.items if isinstance(item, pg.BarGraphItem)]
        scale = 2**20 if unit == "MiB" else 2**30
        assert list(bars.opts["height"]) == [value / scale for value in saved]
        assert 1 <= max(bars.opts["height"]) < 1024


def test_the_memory_card_scales_its_unit(qtbot) -> None:  # type: ignore[no-untyped-def]
    from explorer.core.analysis import analyze
    from explorer.gui.app import application
    from explorer.gui.panels.totals import TotalsPanel
    from explorer.gui.session import Session

    application()
    spec = replace(preset("torchvision/resnet152"), input_size=(1024, 1024))
    panel = TotalsPanel(Session(spec))
    qtbot.addWidget(panel)
    analysis = analyze(spec)
    panel.show_analysis(analysis)
    card = panel.cards["memory"]
    assert analysis.totals.total_size_mib > 1024
    assert card.value.text() == format_bytes(analysis.totals.total_size_mib * 2**20)
    assert card.value.text().endswith(" GiB")
    fwd_bwd = format_bytes(analysis.totals.forward_backward_size_mib * 2**20)
    assert card.detail.text().startswith(f"fwd/bwd {fwd_bwd} · params ")
