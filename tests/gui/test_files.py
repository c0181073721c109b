"""Save, open, recent files, export, the unsaved-changes prompt and restored state."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QMessageBox

from explorer.core.analysis import analyze
from explorer.core.presets import preset
from explorer.core.render.table import format_csv, format_markdown, format_torchsummary
from explorer.core.spec import ArchSpec
from explorer.gui.settings import recent_files

from .conftest import expected_layers, open_window, table_layers, wait_current


def _edit(window) -> ArchSpec:  # type: ignore[no-untyped-def]
    window.editor.stage_rows[1].depth.setValue(3)
    window.editor.classes_spin.setValue(10)
    return window.session.spec


def test_save_and_reopen_round_trip(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = _edit(window)
    target = tmp_path / "mine"
    asked = []
    window.documents.ask_save_path = lambda *args: asked.append(args) or target  # type: ignore[method-assign]
    assert window.isWindowModified()
    assert window.documents.save()
    # A name the desktop recognises as a spec (the MIME type's glob), suggested and given.
    assert asked[0][1] == "architecture.resnet.json" and "*.resnet.json" in asked[0][2]
    saved = tmp_path / "mine.resnet.json"
    assert saved.read_text() == spec.to_json()
    assert ArchSpec.load(saved) == spec
    assert not window.isWindowModified()
    assert window.windowTitle().startswith("mine.resnet.json")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left

    window.documents.new_from_preset("resnet50")
    assert window.session.spec == preset("resnet50") and window.session.path is None
    assert window.documents.open_path(saved)
    wait_current(qtbot, window)
    assert window.session.spec == spec
    assert window.editor.current() == spec
    assert table_layers(window) == expected_layers(analyze(spec))
    assert recent_files(window.settings)[0] == saved.resolve()
    recent = [action.text() for action in window.documents.recent_menu.actions()]
    assert recent[0].endswith("mine.resnet.json")


def test_a_bad_file_is_reported_not_raised(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text('{"format_version": 1, "depths": [2, 0]}')
    reports = []
    window.documents.report = lambda title, text: reports.append(text)  # type: ignore[method-assign]
    assert not window.documents.open_path(bad)
    assert reports and "stage 2 depth" in reports[0] and "bad.json" in reports[0]
    assert window.session.spec == preset("resnet18")


def test_the_unsaved_changes_prompt(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    _edit(window)
    asked = []

    def answer(button):  # type: ignore[no-untyped-def]
        def ask():  # type: ignore[no-untyped-def]
            asked.append(button)
            return button

        return ask

    window.documents.ask_unsaved = answer(QMessageBox.StandardButton.Cancel)
    window.documents.new_from_preset("resnet50")
    assert window.session.spec != preset("resnet50")
    assert not window.close()
    assert window.isVisible()
    window.documents.ask_unsaved = answer(QMessageBox.StandardButton.Discard)
    assert window.close()
    assert asked == [QMessageBox.StandardButton.Cancel] * 2 + [QMessageBox.StandardButton.Discard]


def test_export_table(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    analysis = window.session.analysis
    for kind, render in (
        ("csv", format_csv),
        ("markdown", format_markdown),
        ("torchsummary", format_torchsummary),
    ):
        target = tmp_path / f"table-{kind}"
        window.documents.ask_save_path = lambda *_, t=target: t  # type: ignore[method-assign]
        assert window.documents.export_table(kind) == target
        assert target.read_text() == render(analysis)
        assert window.statusBar().currentMessage().endswith(f"to {target}")


def test_state_is_restored_at_the_next_launch(qtbot, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = open_window(qtbot, settings, preset("resnet18"))
    spec = _edit(first)
    first.documents.ask_save_path = lambda *_: tmp_path / "kept.json"  # type: ignore[method-assign]
    first.documents.save()
    first.resize(760, 560)  # within the offscreen screen (800x600), which restoreGeometry respects
    first.removeDockWidget(first.editor_dock)
    first.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, first.editor_dock)
    first.editor_dock.show()
    first.tabs.setCurrentIndex(1)
    qtbot.wait(10)
    state, size = first.saveState(), first.size()
    assert first.close()

    second = open_window(qtbot, settings)  # no spec given: the last one comes back
    wait_current(qtbot, second)
    assert second.session.spec == spec
    assert second.session.path == tmp_path / "kept.json"
    assert not second.isWindowModified()
    assert second.size() == size
    assert second.dockWidgetArea(second.editor_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert QByteArray(second.saveState()) == QByteArray(state)
    assert second.tabs.currentIndex() == 1
    assert table_layers(second) == expected_layers(analyze(spec))


def test_quitting_without_a_prompt_keeps_an_unsaved_custom_spec(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    first = open_window(qtbot, settings, preset("resnet50"))
    spec = _edit(first)
    first.shutdown()  # Ctrl+C in the terminal, or the session ending: nobody was asked
    second = open_window(qtbot, settings)
    assert second.session.spec == spec and second.session.path is None
    assert second.editor.preset_caption() == "custom (from resnet50)"


def test_discarded_edits_stay_discarded_at_the_next_launch(qtbot, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "custom.json"
    preset("cifar/resnet20").save(path)
    first = open_window(qtbot, settings, preset("cifar/resnet20"), path)
    first.editor.stage_rows[0].depth.setValue(5)
    assert first.isWindowModified()
    assert first.close()  # the prompt answers Discard
    second = open_window(qtbot, settings)
    assert second.session.spec == preset("cifar/resnet20") and second.session.path == path
    assert not second.isWindowModified()
    assert second.close()

    untitled = open_window(qtbot, settings, preset("resnet50"))
    _edit(untitled)
    assert untitled.close()
    third = open_window(qtbot, settings)
    assert third.session.spec == preset("resnet50") and not third.isWindowModified()


def test_diagram_options_are_restored_at_the_next_launch(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    first = open_window(qtbot, settings, preset("cifar/resnet20"))
    panel = first.show_tab("Diagram")
    assert (panel.level_box.currentData(), panel.style_box.currentData()) == ("block", "paper")
    assert (panel.fold_box.currentData(), panel.wrap_box.currentData()) == ("auto", "none")
    panel.set_options(level="stage", style="detailed", rankdir="LR", fold="repeats", wrap="stages")
    assert first.close()

    second = open_window(qtbot, settings)
    restored = second.show_tab("Diagram")
    options = (
        restored.level_box,
        restored.style_box,
        restored.direction_box,
        restored.fold_box,
        restored.wrap_box,
    )
    assert [box.currentData() for box in options] == ["stage", "detailed", "LR", "repeats", "stages"]
    assert restored.request.level == "stage" and restored.request.rankdir == "LR"
    assert (restored.request.fold, restored.request.wrap) == ("repeats", "stages")


def test_an_unknown_stored_diagram_option_keeps_the_default(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    settings.setValue("diagram/level", "molecule")
    settings.setValue("diagram/direction", "LR")
    window = open_window(qtbot, settings, preset("cifar/resnet20"))
    panel = window.show_tab("Diagram")
    assert (panel.level_box.currentData(), panel.direction_box.currentData()) == ("block", "LR")
    assert settings.value("diagram/level") == "molecule"  # reading back writes nothing
