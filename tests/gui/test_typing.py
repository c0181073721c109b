"""Typing into the editor's fields: one undo step per field typed into, Undo and Redo
from inside a field, a value out of range kept and explained, never clipped."""

from __future__ import annotations

from dataclasses import fields

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from explorer.core.analysis import analyze
from explorer.core.presets import preset
from explorer.core.spec import ArchSpec, SpecError

from .conftest import expected_layers, open_window, table_layers, wait_current


def _type(qtbot, spin, text: str) -> None:  # type: ignore[no-untyped-def]
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, text)


def _press(qtbot, widget, key, modifiers=Qt.KeyboardModifier.ControlModifier) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(widget, key, modifiers)


def _focused_window(qtbot, settings, spec):  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, spec)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    return window


def test_typing_a_value_is_one_undo_step_and_ctrl_z_works_in_the_field(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    window = _focused_window(qtbot, settings, preset("cifar/resnet110"))
    session, editor = window.session, window.editor
    spin = editor.stage_rows[0].depth
    _type(qtbot, spin, "150")  # through 1 and 15
    _press(qtbot, spin, Qt.Key.Key_Backspace, Qt.KeyboardModifier.NoModifier)
    _press(qtbot, spin, Qt.Key.Key_Backspace, Qt.KeyboardModifier.NoModifier)
    qtbot.keyClicks(spin, "00")  # 100, through 10
    assert session.spec.depths == (100, 18, 18)
    assert editor.preset_caption() == "custom (from cifar/resnet110)"
    _press(qtbot, spin, Qt.Key.Key_Z)  # in the field: the window's Undo, not the line edit's
    assert session.spec == preset("cifar/resnet110") and spin.value() == 18
    assert not session.can_undo()
    _press(qtbot, spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert session.spec.depths == (100, 18, 18) and spin.value() == 100
    assert editor.preset_caption() == "custom (from cifar/resnet110)"  # the origin stays
    wait_current(qtbot, window)
    assert table_layers(window) == expected_layers(analyze(session.spec))


def test_typing_in_another_field_or_after_leaving_one_is_a_new_step(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    window = _focused_window(qtbot, settings, preset("cifar/resnet20"))
    session, rows = window.session, window.editor.stage_rows
    _type(qtbot, rows[0].depth, "12")
    _type(qtbot, rows[1].depth, "7")
    _press(qtbot, rows[1].depth, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier)  # typing done
    _type(qtbot, rows[1].depth, "9")
    assert session.spec.depths == (12, 9, 3)
    for depths in ((12, 7, 3), (12, 3, 3), (3, 3, 3)):
        window.undo_action.trigger()
        assert session.spec.depths == depths


def test_a_value_beyond_the_range_is_kept_and_explained(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    window = _focused_window(qtbot, settings, preset("cifar/resnet20"))
    session, editor = window.session, window.editor
    spin = editor.stage_rows[0].depth
    _type(qtbot, spin, "99999")  # 9 and 99 are valid on the way
    assert spin.value() == 99999 and spin.text() == "99999"
    error = session.spec_error
    assert isinstance(error, SpecError) and error.field == "depths[0]" and "99999" in error.reason
    assert "99999" in editor.errors["depths"].text() and "99999" in window.banner.text()
    # The valid architecture shown is the one from before the typing, not a keystroke on the way.
    assert session.spec == preset("cifar/resnet20")
    qtbot.waitUntil(lambda: session.analysis.spec == preset("cifar/resnet20"))
    _press(qtbot, spin, Qt.Key.Key_Z)
    assert spin.value() == 3 and session.spec_error is None
    assert not session.can_undo()


def test_every_spec_field_has_a_widget_and_a_place_for_its_errors(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, preset("resnet50"))
    editor = window.editor
    for field in fields(ArchSpec):
        assert editor._widgets_of(field.name), f"no editor widget for ArchSpec.{field.name}"
        label = editor.errors.get(field.name)
        assert isinstance(label, QLabel), f"no place for the errors of ArchSpec.{field.name}"
        editor.show_error(SpecError(field.name, "a reason"))
        assert label.isVisibleTo(editor) and "a reason" in label.text()
        assert all(widget.property("invalid") for widget in editor._widgets_of(field.name))
    editor.show_error(None)
