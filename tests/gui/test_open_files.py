"""Opening files: a comparison goes to the Compare tab (asking before it replaces one),
and a recent file that has gone away is explained and forgotten."""

from __future__ import annotations

import importlib
from pathlib import Path

from PySide6.QtCore import QMimeData, QUrl

from explorer.cli import main
from explorer.core.compare import Comparison
from explorer.core.presets import preset
from explorer.gui.settings import recent_files
from explorer.gui.single_instance import Opening

from .test_window import _drop


def _comparison_file(folder: Path) -> tuple[Path, Comparison]:
    comparison = Comparison().add("small", preset("cifar/resnet20")).add("big", preset("cifar/resnet110"))
    path = folder / "comp.json"
    comparison.save(path)
    return path, comparison


def _reports(window) -> list[str]:  # type: ignore[no-untyped-def]
    reports: list[str] = []
    window.documents.report = lambda title, text: reports.append(f"{title}: {text}")  # type: ignore[method-assign]
    return reports


def test_file_open_puts_a_comparison_in_the_compare_tab(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, comparison = _comparison_file(tmp_path)
    reports = _reports(window)
    window.documents.ask_open_path = lambda: path  # type: ignore[method-assign]
    window.documents.open()
    assert reports == []
    assert window.tabs.currentWidget() is window.tab_pages["Compare"]
    assert window.workspace.comparison == comparison
    assert window.session.spec == preset("resnet18") and window.session.path is None
    assert recent_files(window.settings)[0] == path.resolve()
    assert window.statusBar().currentMessage() == f"Opened the comparison {path}"


def test_dropping_a_comparison_file_opens_it_in_the_compare_tab(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, comparison = _comparison_file(tmp_path)
    reports = _reports(window)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    window.dropEvent(_drop(mime))
    assert reports == [] and window.workspace.comparison == comparison
    assert window.tabs.currentWidget() is window.tab_pages["Compare"]


def test_opening_a_comparison_asks_before_replacing_the_variants(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, comparison = _comparison_file(tmp_path)
    reports = _reports(window)
    panel = window.show_tab("Compare")
    asked = []
    panel.confirm_replace = lambda *args: asked.append(args) or False  # type: ignore[method-assign]
    assert panel.open_file(str(path))  # nothing there yet: no question
    assert asked == [] and window.workspace.comparison == comparison
    panel.add_preset("resnet50")
    mine = window.workspace.comparison
    assert not window.documents.open_path(path)
    assert len(asked) == 1 and window.workspace.comparison == mine
    panel.confirm_replace = lambda *_args: True  # type: ignore[method-assign]
    assert window.documents.open_path(path)
    assert window.workspace.comparison == comparison and reports == []


def test_the_command_line_opens_a_comparison_in_the_app(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, _comparison = _comparison_file(tmp_path)
    opened = []

    def fake_main(spec, path, then_open, instance):  # type: ignore[no-untyped-def]
        instance.release()
        opened.append((spec, path, list(then_open)))
        return 0

    gui_app = importlib.import_module("explorer.gui.app")
    monkeypatch.setattr(gui_app, "main", fake_main)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert main([str(path)]) == 0
    assert main(["gui", str(path)]) == 0
    # The window opens on the last spec, then opens the comparison in its Compare tab.
    assert opened == [(None, None, [Opening(path=path)])] * 2


def test_a_recent_file_that_is_gone_is_explained_and_forgotten(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "gone.json"
    preset("cifar/resnet20").save(path)
    assert window.documents.open_path(path)
    path.unlink()
    reports = _reports(window)
    entry = next(a for a in window.documents.recent_menu.actions() if a.text().endswith("gone.json"))
    entry.trigger()
    assert len(reports) == 1 and "Errno" not in reports[0]
    assert str(path) in reports[0] and "no longer exists" in reports[0]
    assert path.resolve() not in recent_files(window.settings)
    assert not any(a.text().endswith("gone.json") for a in window.documents.recent_menu.actions())
    assert window.session.spec == preset("cifar/resnet20")


def test_file_open_of_a_file_that_holds_no_spec_says_what_it_is(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty, picture = tmp_path / "empty.json", tmp_path / "picture.json"
    empty.write_bytes(b"")
    picture.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    reports = _reports(window)
    for path in (empty, picture):
        window.documents.ask_open_path = lambda chosen=path: chosen  # type: ignore[method-assign]
        window.documents.open()
    assert len(reports) == 2
    assert "is empty, so it is not a spec or comparison" in reports[0] and str(empty) in reports[0]
    assert "is not a text file" in reports[1] and "codec" not in reports[1]
    assert window.session.spec == preset("resnet18")
