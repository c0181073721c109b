"""The window's menus, shortcuts, About box and small manners."""

from __future__ import annotations

from importlib import metadata

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QKeySequence, QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox, QMessageBox, QWidget

from explorer.gui.about import shortcuts_html, versions

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def _actions(window):  # type: ignore[no-untyped-def]
    found, pending = {}, list(window.menuBar().actions())
    while pending:
        action = pending.pop()
        if action.menu() is not None:
            pending.extend(action.menu().actions())
        elif action.text():
            found[action.text().replace("&", "")] = action
    return found


def test_the_usual_actions_have_their_usual_keys(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    actions = _actions(window)
    expected = {
        "New (resnet18)": QKeySequence.StandardKey.New,
        "Open…": QKeySequence.StandardKey.Open,
        "Save": QKeySequence.StandardKey.Save,
    }
    for text, key in expected.items():
        assert actions[text].shortcut() == QKeySequence(key), text
    assert actions["Save As…"].shortcut() == QKeySequence("Ctrl+Shift+S")
    assert actions["Quit"].shortcut() == QKeySequence("Ctrl+Q")
    assert {"CSV…", "Markdown…", "torchsummary text…", "About ResNet Explorer"} <= set(actions)
    listed = shortcuts_html(window.menuBar())
    assert "Save As" in listed and "Ctrl+Shift+S" in listed and "Copy the selected rows" in listed


def test_about_names_the_versions_without_importing_torch(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    found = versions()
    assert found["torch"] == metadata.version("torch")
    assert found["graphviz (Python)"] == metadata.version("graphviz")
    assert found["Qt"].count(".") == 2


def _wheel(widget: QWidget) -> bool:
    """Turns the wheel one step down over ``widget``; whether the widget took it."""
    event = QWheelEvent(
        QPointF(5, 5), QPointF(widget.mapToGlobal(QPoint(5, 5))), QPoint(0, 0), QPoint(0, -120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def _value(widget: QWidget) -> object:
    return widget.currentIndex() if isinstance(widget, QComboBox) else widget.value()  # type: ignore[attr-defined]


def test_the_wheel_changes_a_field_only_once_it_has_focus(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    editor = window.editor
    benchmark = window.show_tab("Benchmark")
    fields = [
        editor.stem_combo,
        editor.field_widgets["attention"],
        editor.stage_rows[0].depth,
        benchmark.options.iterations_box,
    ]
    window.show_tab("Diagram")
    fields += window.tab_pages["Diagram"].panel.findChildren(QComboBox)
    for field in fields:
        # The wheel must never hand a field the focus: that would change it at once.
        assert field.focusPolicy() == Qt.FocusPolicy.StrongFocus, field
        editor.preset_combo.setFocus()
        before = _value(field)
        # Not taken: Qt hands the wheel on to the scrolling area around the field.
        assert not _wheel(field) and _value(field) == before, field
    spin = editor.stage_rows[0].depth
    spin.setFocus()
    assert _wheel(spin) and spin.value() == 1
    editor.stem_combo.setFocus()
    assert _wheel(editor.stem_combo) and editor.stem_combo.currentData() != "cifar"


def test_dropping_a_spec_file_opens_it(qtbot, window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QMimeData, QUrl

    from explorer.core.presets import preset

    path = tmp_path / "dropped.json"
    preset("cifar/resnet20").save(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    window.dropEvent(_drop(mime))
    assert window.session.spec == preset("cifar/resnet20")
    assert window.session.path == path
    assert window.statusBar().currentMessage() == f"Opened {path}"
    text = QMimeData()
    text.setText("not a file")
    window.dropEvent(_drop(text))
    assert window.session.path == path


def _drop(mime):  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QDropEvent

    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    return QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, left, none)


def test_view_architecture_hides_and_shows_the_editor(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    toggle = _actions(window)["Architecture"]
    assert toggle.isEnabled() and toggle.isChecked()
    toggle.trigger()
    assert not window.editor_dock.isVisible() and not toggle.isChecked()
    toggle.trigger()
    assert window.editor_dock.isVisible() and toggle.isChecked()


def _activate(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def test_f1_opens_the_help_and_every_key_of_an_action_is_listed(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    actions = _actions(window)
    assert QKeySequence(QKeySequence.StandardKey.HelpContents) in actions["Keyboard shortcuts"].shortcuts()
    assert actions["About ResNet Explorer"].shortcut().isEmpty()
    listed = shortcuts_html(window.menuBar())
    assert "F1, Ctrl+/" in listed and "Fit the diagram" in listed and "Ctrl+0" in listed


def test_ctrl_shift_a_takes_the_focus_to_the_editor_and_never_hides_it(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    _activate(qtbot, window)
    for dock_shown in (True, True, False):
        window.editor_dock.setVisible(dock_shown)
        window.layer_view.tree.setFocus()
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_A, CTRL_SHIFT)
        assert window.editor_dock.isVisible()
        assert window.editor.isAncestorOf(QApplication.focusWidget())


def test_the_diagram_zooms_from_the_keyboard_wherever_the_focus_is(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    _activate(qtbot, window)
    panel = window.show_tab("Diagram")
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    view = panel.view
    view.actual_size()
    window.tabs.tabBar().setFocus()  # not a click in the diagram
    qtbot.keyClick(window.tabs.tabBar(), Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == pytest.approx(1.25)
    window.editor.stage_rows[0].depth.setFocus()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == pytest.approx(min(view._fit_zooms()))
    window.show_tab("Layers")  # elsewhere the keys are left alone
    assert not any(action.isEnabled() for action in window.diagram_zoom_actions)


def test_alt_d_discards_in_the_unsaved_changes_box(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    box = window.documents.unsaved_changes_box()
    qtbot.addWidget(box)
    box.show()
    _activate(qtbot, box)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: box.clickedButton() is not None)  # a mnemonic's click is animated
    assert box.clickedButton() is box.button(QMessageBox.StandardButton.Discard)
