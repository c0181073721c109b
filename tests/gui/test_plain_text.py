"""A person's text is shown as written wherever it appears: names that look like HTML
never become markup in labels, titles, legends or tooltips."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as QtGui
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel

from explorer.core.compare import BenchFigures, Comparison
from explorer.core.presets import preset
from explorer.gui.app import application
from explorer.gui.panels.compare_charts import ComparisonCharts, legend_name
from explorer.gui.panels.compare_diff import DiffView
from explorer.gui.plain_text import as_written

HOSTILE = "<h1 style='color:red'>big</h1><img src='/tmp/x.png'> & co"


def as_shown(text: str, text_format: Qt.TextFormat = Qt.TextFormat.AutoText) -> str:
    """The characters a person sees for ``text`` shown in ``text_format``."""
    rich = text_format == Qt.TextFormat.RichText or (
        text_format == Qt.TextFormat.AutoText and QtGui.mightBeRichText(text)
    )
    if not rich:
        return text
    document = QTextDocument()
    document.setHtml(text)
    return document.toPlainText()


def label_shows(label: QLabel) -> str:
    return as_shown(label.text(), label.textFormat())


def hostile_comparison() -> Comparison:
    comparison = Comparison().add("base", preset("resnet18")).add(HOSTILE, preset("resnet34"))
    for index, ms in ((0, 2.0), (1, 3.0)):
        comparison = comparison.with_bench(index, BenchFigures("cpu", 1, ms, 0.1, 1000 / ms))
    return comparison


def test_as_written_keeps_text_as_written_in_rich_text() -> None:
    assert as_shown(as_written(HOSTILE)) == HOSTILE
    assert as_shown(as_written("two\nlines")) == "two\nlines"
    assert as_written("") == ""


def test_diff_titles_show_variant_names_as_written(qtbot) -> None:  # type: ignore[no-untyped-def]
    application()
    view = DiffView()
    qtbot.addWidget(view)
    view.set_comparison(hostile_comparison())
    view.first_box.setCurrentIndex(1)
    assert label_shows(view.first_title).startswith(HOSTILE + " (highlighted")
    assert "<img" not in view.first_title.text()


def test_chart_legend_and_tooltips_show_variant_names_as_written(qtbot) -> None:  # type: ignore[no-untyped-def]
    application()
    charts = ComparisonCharts()
    qtbot.addWidget(charts)
    charts.set_comparison(hostile_comparison())
    legend = [label.item.toPlainText() for _sample, label in charts.legend.items]
    assert legend == ["base", legend_name(HOSTILE)] and legend[1].startswith("<h1 style=")
    tips = [item.toolTip() for item in charts.scatter_plot.items if item.toolTip()]
    assert any(as_shown(tip).startswith(HOSTILE + ":") for tip in tips)
    labels = [label.textItem.toPlainText() for label, _x, _y in charts._labels]
    assert HOSTILE in labels


def test_the_diagrams_saved_note_shows_the_path_as_written(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from explorer.core.render import export

    if export.find_dot() is None:
        pytest.skip("needs graphviz's dot")
    panel = window.show_tab("Diagram")
    path = tmp_path / "<b>bold<i> & co.dot"
    panel.export_to(path)
    qtbot.waitUntil(lambda: "Exporting" not in panel.message.text(), timeout=10_000)
    assert panel.message.text().startswith("Saved"), panel.message.text()
    assert str(path) in label_shows(panel.message)


def test_compare_messages_show_variant_names_as_written(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from explorer.gui.panels.compare import ComparePanel
    from explorer.gui.session import Session
    from explorer.gui.workspace import Workspace

    application()
    session = Session(preset("resnet18"))
    panel = ComparePanel(session, Workspace(tmp_path / "workspace.json", parent=session))
    qtbot.addWidget(panel)
    panel.workspace.set(hostile_comparison())
    panel.rename(0, HOSTILE)  # the name the other variant has
    assert HOSTILE in panel.message.text()
    assert label_shows(panel.message) == panel.message.text()


def test_window_messages_show_file_names_as_written(qtbot, window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: shown.append(text))
    window.documents.report("Could not open", f"Could not open {HOSTILE}.json")
    assert as_shown(shown[0]) == f"Could not open {HOSTILE}.json"
    window.session.analysis_failed.emit(HOSTILE)
    assert HOSTILE in label_shows(window.banner)


def test_recent_files_tooltips_show_paths_as_written(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from explorer.gui.settings import add_recent_file

    path = tmp_path / f"{HOSTILE.replace('/', '|')}.json"
    add_recent_file(window.documents.settings, path)
    window.documents.fill_recent_menu()
    actions = window.documents.recent_menu.actions()
    assert str(path) in [as_shown(action.toolTip()) for action in actions]
    # A menu takes "&" for a shortcut mark: the name is shown with its ampersand.
    assert any(action.text().endswith(path.name.replace("&", "&&")) for action in actions)
