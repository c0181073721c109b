"""The comparison workspace: shared by two windows without losing either's variants,
and an unreadable file set aside without breaking the Compare tab."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from explorer.core.compare import BenchFigures, Comparison
from explorer.core.compare_merge import merge_comparisons
from explorer.core.presets import preset
from explorer.gui.app import application
from explorer.gui.panels.compare import ComparePanel
from explorer.gui.session import Session
from explorer.gui.workspace import Workspace

SAVES = 300


def _names(comparison: Comparison) -> list[str]:
    return [variant.name for variant in comparison.variants]


def test_two_windows_on_one_workspace_lose_nothing(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    application()
    path = tmp_path / "workspace.json"
    first, second = Workspace(path), Workspace(path)
    spec = preset("cifar/resnet20")
    for i in range(SAVES):
        # Each window edits what it last saw, as a window does between two of the other's saves.
        workspace = (first, second)[i % 2]
        workspace.set(workspace.comparison.add(f"v{i}", spec))
    saved = Comparison.load(path)
    assert sorted(_names(saved)) == sorted(f"v{i}" for i in range(SAVES))
    assert second.comparison == saved


def test_a_removal_in_one_window_and_an_addition_in_the_other_both_count(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    application()
    path = tmp_path / "workspace.json"
    first = Workspace(path)
    first.set(Comparison().add("a", preset("resnet18")).add("b", preset("resnet34")).with_baseline(1))
    second = Workspace(path)
    first.set(first.comparison.remove(0))
    second.set(second.comparison.add("c", preset("resnet50")).rename(1, "b2"))
    assert _names(Comparison.load(path)) == ["b2", "c"]
    assert Comparison.load(path).baseline == 0


def test_the_merge_keeps_both_sides_edits() -> None:
    base = Comparison().add("a", preset("resnet18")).add("b", preset("resnet34"))
    figures = BenchFigures("cpu", 1, 5.0, 0.1, 200.0)
    ours = base.with_bench(0, figures).add("mine", preset("resnet50"))
    theirs = base.add("mine", preset("resnet101")).move(1, 0)
    merged = merge_comparisons(base, ours, theirs)
    assert _names(merged) == ["b", "a", "mine", "mine (2)"]
    assert merged.variants[1].bench == figures
    assert {v.spec for v in merged.variants[2:]} == {preset("resnet50"), preset("resnet101")}
    reordered = merge_comparisons(base, base.move(1, 0), theirs.remove(1))
    assert _names(reordered) == ["b", "mine"]


def test_another_windows_save_shows_up(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    application()
    path = tmp_path / "workspace.json"
    first = Workspace(path)
    session = Session(preset("resnet18"))
    panel = ComparePanel(session, Workspace(path, parent=session))
    qtbot.addWidget(panel)
    first.set(Comparison().add("from the first window", preset("resnet18")))
    assert _names(panel.comparison) == []
    QApplication.sendEvent(panel, QEvent(QEvent.Type.WindowActivate))  # the user comes back to it
    assert _names(panel.comparison) == ["from the first window"]
    assert panel.variants.count() == 1


def _out_of_range_figures() -> str:
    # Readable JSON of the right kind whose figures are out of any range.
    comparison = Comparison().add("kept", preset("resnet18")).with_bench(0, BenchFigures("cpu", 1, 1, 0, 1))
    return comparison.to_json().replace('"batch_size": 1', '"batch_size": 1e999')


def test_an_unreadable_workspace_is_set_aside_each_time_under_a_new_name(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    application()
    path = tmp_path / "workspace.json"
    contents = [_out_of_range_figures(), "{broken"]
    for content in contents:
        path.write_text(content)
        session = Session(preset("resnet18"))
        panel = ComparePanel(session, Workspace(path, parent=session))
        qtbot.addWidget(panel)
        assert panel.comparison.variants == ()
        told = panel.message.text()
        panel.add_preset("resnet34")  # the tab works
        assert _names(Comparison.load(path)) == ["resnet34"]
    assert (tmp_path / "workspace.unreadable.json").read_text() == contents[0]
    assert (tmp_path / "workspace.unreadable-2.json").read_text() == contents[1]
    assert "could not be opened" in told and str(tmp_path / "workspace.unreadable-2.json") in told


def test_a_variant_renamed_by_the_merge_keeps_its_training_step_time() -> None:
    base = Comparison().add("a", preset("resnet18"))
    step = BenchFigures("cpu", 8, 42.0, 1.0, 190.0, mode="train", optimizer="adamw", amp=False)
    ours = base.add("mine", preset("resnet50")).with_train_bench(1, step)
    theirs = base.add("mine", preset("resnet101"))
    merged = merge_comparisons(base, ours, theirs)
    (kept,) = [variant for variant in merged.variants if variant.spec == preset("resnet50")]
    assert kept.name == "mine (2)" and kept.train_bench == step
