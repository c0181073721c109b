"""The Benchmark tab in training mode and the Compare tab's training columns."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from explorer.core.compare import TRAIN_MEMORY_BATCH, BenchFigures, Comparison, train_memory_mib
from explorer.core.presets import preset
from explorer.core.spec import ArchSpec
from explorer.gui.app import application
from explorer.gui.panels.benchmark import BenchmarkPanel
from explorer.gui.panels.compare import ComparePanel
from explorer.gui.session import Session
from explorer.gui.workspace import Workspace
from tests.gui.conftest import open_window

RUN_TIMEOUT_MS = 60_000
# A CIFAR-sized network small enough for a training step in a few milliseconds.
SMALL = ArchSpec(depths=(1, 1), widths=(8, 16), stem_width=8, input_size=(16, 16), num_classes=10)


@pytest.fixture
def panel(qtbot, tmp_path: Path) -> BenchmarkPanel:  # type: ignore[no-untyped-def]
    application()
    session = Session(SMALL)
    workspace = Workspace(tmp_path / "workspace.json", parent=session)
    widget = BenchmarkPanel(session, workspace)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitUntil(widget.is_ready, timeout=RUN_TIMEOUT_MS)
    widget.options.select_device("cpu")
    widget.options.warmup_box.setValue(1)
    widget.options.iterations_box.setValue(2)
    return widget


def _train(panel: BenchmarkPanel) -> None:
    panel.options.mode_box.setCurrentIndex(panel.options.mode_box.findData("train"))


def _run(qtbot, panel: BenchmarkPanel, sweep: bool = False) -> None:  # type: ignore[no-untyped-def]
    panel.sweep() if sweep else panel.run()
    qtbot.waitUntil(lambda: not panel.busy, timeout=RUN_TIMEOUT_MS)


def test_the_mode_switch_offers_the_optimizer_and_mixed_precision(panel: BenchmarkPanel) -> None:
    options = panel.options
    assert not options.optimizer_box.isEnabled() and not options.amp_box.isEnabled()
    assert options.config().mode == "inference"
    options.dtype_box.setCurrentText("bfloat16")
    _train(panel)
    assert options.optimizer_box.isEnabled() and options.amp_box.isEnabled()
    assert not options.dtype_box.isEnabled()
    options.optimizer_box.setCurrentText("adamw")
    options.amp_box.setChecked(True)
    config = options.config()
    assert (config.mode, config.optimizer, config.amp, config.dtype) == ("train", "adamw", True, "float32")
    options.mode_box.setCurrentIndex(options.mode_box.findData("inference"))
    config = options.config()
    assert (config.mode, config.amp, config.dtype) == ("inference", False, "bfloat16")


def test_mixed_precision_is_unticked_in_inference_and_comes_back_in_training(panel: BenchmarkPanel) -> None:
    options = panel.options
    _train(panel)
    options.amp_box.setChecked(True)
    options.mode_box.setCurrentIndex(options.mode_box.findData("inference"))
    assert not options.amp_box.isChecked() and not options.amp_box.isEnabled()
    _train(panel)
    assert options.amp_box.isChecked() and options.config().amp


def test_a_training_run_shows_the_step_its_parts_and_its_memory(qtbot, panel: BenchmarkPanel) -> None:  # type: ignore[no-untyped-def]
    _train(panel)
    _run(qtbot, panel)
    result = panel.result
    assert result is not None and result.ok and result.training, panel.error.text()
    assert result.breakdown is not None and result.measured_saved_bytes is not None
    assert "a training step of 1" in panel.card.cards["median"].detail.text()
    assert panel.card.training.isVisible()
    text = panel.card.training.text()
    assert "step parts" in text and "each part synchronised" in text
    assert "saved for backward: predicted" in text and "measured" in text
    assert "train step (sgd-momentum, cross-entropy)" in panel.card.repro.text()

    panel.add_to_comparison()
    variant = panel.workspace.comparison.variants[0]
    assert variant.train_bench == BenchFigures.from_result(result) and variant.bench is None
    assert panel.status.text().startswith("Training step time added in the Compare tab")

    panel.options.mode_box.setCurrentIndex(panel.options.mode_box.findData("inference"))
    _run(qtbot, panel)
    assert panel.result is not None and panel.result.ok and not panel.card.training.isVisible()


def test_a_spec_without_a_classifier_is_refused_inline(qtbot, panel: BenchmarkPanel) -> None:  # type: ignore[no-untyped-def]
    panel.session.load(replace(SMALL, num_classes=0))
    _train(panel)
    _run(qtbot, panel)
    assert panel.result is None and panel.error.isVisible()
    assert panel.error.text().startswith("train mode needs a classifier for its cross-entropy loss")
    panel.session.load(SMALL)
    _run(qtbot, panel)
    assert panel.result is not None and panel.result.ok and not panel.error.isVisible()


def test_the_sweep_runs_training_steps(qtbot, panel: BenchmarkPanel) -> None:  # type: ignore[no-untyped-def]
    _train(panel)
    panel.options.iterations_box.setValue(1)
    panel.options.sweep_limit_box.setValue(2)
    _run(qtbot, panel, sweep=True)
    sweep = panel.sweep_result
    assert sweep is not None and [point.batch_size for point in sweep.points] == [1, 2]
    assert all(point.training and point.breakdown is not None for point in sweep.points)


def test_the_mode_comes_back_in_a_new_window(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, preset("cifar/resnet20"))
    first = window.show_tab("Benchmark")
    assert isinstance(first, BenchmarkPanel)
    qtbot.waitUntil(first.is_ready, timeout=RUN_TIMEOUT_MS)
    _train(first)
    first.options.optimizer_box.setCurrentText("adamw")
    first.options.amp_box.setChecked(True)
    chosen = first.options.config()
    # Left in inference, the training step's choice of mixed precision is still remembered.
    first.options.mode_box.setCurrentIndex(first.options.mode_box.findData("inference"))
    first.options.mode_box.setCurrentIndex(first.options.mode_box.findData("train"))
    window.close()

    again = open_window(qtbot, settings, preset("cifar/resnet20"))
    restored = again.show_tab("Benchmark")
    assert isinstance(restored, BenchmarkPanel)
    qtbot.waitUntil(restored.is_ready, timeout=RUN_TIMEOUT_MS)
    assert restored.options.config() == chosen


def test_the_compare_table_gains_the_training_columns(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    application()
    session = Session(preset("cifar/resnet20"))
    workspace = Workspace(tmp_path / "workspace.json", parent=session)
    compare = ComparePanel(session, workspace)
    qtbot.addWidget(compare)
    comparison = Comparison().add("r20", preset("cifar/resnet20")).add("r32", preset("cifar/resnet32"))
    workspace.set(comparison)
    model = compare.table_model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert f"Train memory b{TRAIN_MEMORY_BATCH} (MiB)" in headers and "Train step (ms)" not in headers
    memory_column = headers.index(f"Train memory b{TRAIN_MEMORY_BATCH} (MiB)")
    for row, variant in enumerate(comparison.variants):
        value = model.index(row, memory_column).data(Qt.ItemDataRole.UserRole)
        assert value == pytest.approx(train_memory_mib(variant.spec))
    tip = model.index(1, memory_column).data(Qt.ItemDataRole.ToolTipRole)
    assert f"batch {TRAIN_MEMORY_BATCH}, SGD with momentum, float32" in tip

    workspace.set(comparison.with_train_bench(1, BenchFigures("cpu", 8, 42.0, 1.0, 190.0)))
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    step_column = headers.index("Train step (ms)")
    assert model.index(1, step_column).data(Qt.ItemDataRole.UserRole) == 42.0
    assert "IQR" in model.index(1, step_column).data()
    assert model.index(0, step_column).data(Qt.ItemDataRole.UserRole) is None


def test_the_compare_table_says_what_a_training_step_was_timed_under(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    application()
    session = Session(preset("cifar/resnet20"))
    workspace = Workspace(tmp_path / "workspace.json", parent=session)
    compare = ComparePanel(session, workspace)
    qtbot.addWidget(compare)
    conditions = ("train", "adamw", "float16", True, "channels_last", 2, False)
    step = BenchFigures("cpu", 8, 42.0, 1.0, 190.0, *conditions)
    workspace.set(Comparison().add("<b>r20</b>", preset("cifar/resnet20")).with_train_bench(0, step))
    model = compare.table_model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    column = headers.index("Train step (ms)")
    for tip in (
        model.index(0, column).data(Qt.ItemDataRole.ToolTipRole),
        model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole),
    ):
        assert "training step (adamw)" in tip and "autocast float16" in tip
        assert "channels_last" in tip and "batch 8" in tip and "2 threads" in tip and "eager" in tip
    header_tip = model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert "&lt;b&gt;r20&lt;/b&gt;" in header_tip  # a name is shown as written, not as markup
