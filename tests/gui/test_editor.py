"""The architecture editor: live updates, presets, stages and every kind of invalid input."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGroupBox, QLabel, QPushButton

from explorer.core import parts
from explorer.core.analysis import analyze
from explorer.core.presets import preset
from explorer.core.spec import ArchSpec, SpecError

from .conftest import expected_layers, open_window, table_layers, wait_current


def test_changing_a_depth_updates_rows_and_totals(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    before = len(table_layers(window))
    window.editor.stage_rows[2].depth.setValue(5)
    wait_current(qtbot, window)
    spec = window.session.spec
    assert spec.depths == (2, 2, 5, 2)
    analysis = analyze(spec)
    assert table_layers(window) == expected_layers(analysis)
    assert len(table_layers(window)) == before + 3 * 7
    card = window.totals.cards["params"]
    assert f"{analysis.totals.total_params:,}" in card.toolTip()
    assert card.value.text() == "14.71M"  # 11.17M before the edit
    assert window.editor.preset_caption() == "custom (from resnet18)"
    assert window.isWindowModified()


def test_choosing_a_preset_shows_its_name(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    combo = window.editor.preset_combo
    row = next(r for r in range(combo.count()) if combo.itemData(r, 257) == "torchvision/resnet50")
    combo.setCurrentIndex(row)
    combo.activated.emit(row)
    wait_current(qtbot, window)
    assert window.session.spec == preset("torchvision/resnet50")
    assert window.editor.preset_caption() == "torchvision/resnet50"
    window.editor.stage_rows[0].width.setValue(96)
    assert window.editor.preset_caption() == "custom (from torchvision/resnet50)"
    window.editor.stage_rows[0].width.setValue(64)
    assert window.editor.preset_caption() == "torchvision/resnet50"


def test_groups_are_for_the_bottleneck_only(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    editor = window.editor
    assert not editor.groups_spin.isEnabled() and not editor.width_per_group_spin.isEnabled()
    editor.block_combo.setCurrentIndex(editor.block_combo.findData("bottleneck"))
    assert editor.groups_spin.isEnabled() and editor.width_per_group_spin.isEnabled()
    editor.groups_spin.setValue(32)
    editor.width_per_group_spin.setValue(4)
    wait_current(qtbot, window)
    assert (window.session.spec.groups, window.session.spec.width_per_group) == (32, 4)
    editor.block_combo.setCurrentIndex(editor.block_combo.findData("basic"))
    assert (window.session.spec.groups, window.session.spec.width_per_group) == (1, 64)


def test_stages_can_be_added_and_removed_from_one_to_six(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    editor = window.editor
    while editor.add_stage_button.isEnabled():
        editor.add_stage_button.click()
    assert window.session.spec.num_stages == 6
    assert window.session.spec.stage_widths[-2:] == (1024, 2048)
    while editor.remove_stage_button.isEnabled():
        editor.remove_stage_button.click()
    assert window.session.spec.depths == (2,)
    wait_current(qtbot, window)
    assert table_layers(window) == expected_layers(analyze(window.session.spec))


def _set_stem_imagenet(editor) -> None:  # type: ignore[no-untyped-def]
    editor.stem_combo.setCurrentIndex(editor.stem_combo.findData("imagenet"))


INVALID_EDITS = [
    ("a stage without blocks", lambda e: e.stage_rows[1].depth.setValue(0), "depths[1]", "must be >= 1"),
    ("too many blocks", lambda e: e.stage_rows[0].depth.setValue(600), "depths[0]", "must be <= 512"),
    ("a zero width", lambda e: e.stage_rows[3].width.setValue(0), "widths[3]", "must be >= 1"),
    ("a stride of 5", lambda e: e.stage_rows[2].stride.setValue(5), "strides[2]", "must be <= 4"),
    ("a stem of no channels", lambda e: e.stem_width_spin.setValue(0), "stem_width", "must be >= 1"),
    ("65 input channels", lambda e: e.channels_spin.setValue(65), "in_channels", "must be <= 64"),
    ("a huge input", lambda e: e.height_spin.setValue(5000), "input_size[0]", "must be <= 4096"),
    ("too many classes", lambda e: e.classes_spin.setValue(200_000), "num_classes", "must be <= 100000"),
    (
        "a zero-pad shortcut that shrinks",
        lambda e: (e.shortcut_combo.setCurrentIndex(1), e.stage_rows[1].width.setValue(32)),
        "shortcut",
        "cannot shrink",
    ),
    (
        "a bottleneck of inner width 0",
        lambda e: (e.block_combo.setCurrentIndex(1), e.width_per_group_spin.setValue(0)),
        "width_per_group",
        "must be >= 1",
    ),
    (
        "groups that round the inner width to 0",
        lambda e: (
            e.block_combo.setCurrentIndex(1),
            e.stage_rows[0].width.setValue(16),
            e.width_per_group_spin.setValue(2),
        ),
        "width_per_group",
        "inner width of 0",
    ),
]


@pytest.mark.parametrize(("edit", "field", "reason"), [case[1:] for case in INVALID_EDITS],
                         ids=[case[0] for case in INVALID_EDITS])  # fmt: skip
def test_invalid_input_is_explained_inline(qtbot, settings, edit, field, reason) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, preset("resnet18"))
    edit(window.editor)
    error = window.session.spec_error
    assert isinstance(error, SpecError)
    assert error.field == field
    assert reason in error.reason
    shown = [label for label in window.editor.findChildren(QLabel) if label.isVisible()]
    messages = [label.text() for label in shown if label.property("role") == "field-error"]
    assert len(messages) == 1 and error.reason in messages[0]
    assert window.banner.isVisible() and error.reason in window.banner.text()
    assert not window.layer_view.isEnabled() and not window.totals.isEnabled()  # kept, greyed
    # The table keeps showing the last valid spec (for a compound edit, its valid first step).
    last_valid = window.session.spec
    qtbot.waitUntil(lambda: window.session.analysis.spec == last_valid)
    assert table_layers(window) == expected_layers(analyze(last_valid))
    # Putting the preset back clears every trace of the error.
    window.editor.set_spec(preset("resnet18"))
    window.editor.edited.emit(window.editor.current(), "")
    assert window.session.spec_error is None
    assert not window.banner.isVisible()
    assert window.layer_view.isEnabled() and window.totals.isEnabled()
    assert not any(label.isVisible() for label in window.editor.errors.values())


def test_the_stem_keeps_a_default_input_size_in_step(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    editor = window.editor
    editor.stem_combo.setCurrentIndex(editor.stem_combo.findData("imagenet"))
    assert (editor.height_spin.value(), editor.width_spin.value()) == (224, 224)
    assert window.session.spec.input_size is None
    editor.height_spin.setValue(160)
    editor.stem_combo.setCurrentIndex(editor.stem_combo.findData("cifar"))
    assert window.session.spec.input_size == (160, 224)


def test_undo_and_redo_walk_the_edits(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    editor, session = window.editor, window.session
    assert not window.undo_action.isEnabled() and not window.redo_action.isEnabled()
    editor.stage_rows[0].depth.setValue(3)
    editor.classes_spin.setValue(10)
    edited = session.spec
    assert window.undo_action.isEnabled()
    window.undo_action.trigger()
    assert session.spec == preset("resnet18").with_depths((3, 2, 2, 2))
    assert editor.current() == session.spec and editor.classes_spin.value() == 0
    window.undo_action.trigger()
    assert session.spec == preset("resnet18") and editor.preset_caption() == "resnet18"
    assert not window.undo_action.isEnabled() and window.redo_action.isEnabled()
    window.redo_action.trigger()
    window.redo_action.trigger()
    assert session.spec == edited == editor.current()
    wait_current(qtbot, window)
    assert table_layers(window) == expected_layers(analyze(edited))


def test_undo_first_leaves_invalid_fields(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    window.editor.stage_rows[0].depth.setValue(3)
    window.editor.stage_rows[1].depth.setValue(0)
    assert window.session.spec_error is not None
    window.undo_action.trigger()
    assert window.session.spec_error is None and not window.banner.isVisible()
    assert window.editor.stage_rows[1].depth.value() == 2
    assert window.session.spec.depths == (3, 2, 2, 2)
    window.undo_action.trigger()
    assert window.session.spec == preset("resnet18")


def test_an_invalid_spec_greys_only_what_shows_it(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    compare = window.show_tab("Compare")
    add_current = compare.findChild(QPushButton, "AddCurrent")
    window.editor.stage_rows[1].depth.setValue(0)
    assert window.session.spec_error is not None
    assert not window.tab_pages["Layers"].isEnabled() and not window.totals.isEnabled()
    assert window.tab_pages["Compare"].isEnabled() and compare.variants.isEnabled()
    assert not add_current.isEnabled()  # the one thing there that takes the spec being edited
    window.editor.stage_rows[1].depth.setValue(2)
    assert add_current.isEnabled() and window.tab_pages["Layers"].isEnabled()


def test_choosing_squeeze_and_excitation_gives_the_spec_with_it(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, preset("torchvision/resnet50"))
    editor = window.editor
    attention, ratio = editor.field_widgets["attention"], editor.field_widgets["se_ratio"]
    assert not ratio.isEnabled() and "reduction ratio" in ratio.toolTip()
    attention.setCurrentIndex(attention.findData("se"))
    wait_current(qtbot, window)
    assert window.session.spec == replace(preset("torchvision/resnet50"), attention="se")
    assert ratio.isEnabled()
    ratio.setValue(0.25)
    wait_current(qtbot, window)
    assert window.session.spec.se_ratio == 0.25


def test_every_kind_is_offered_with_its_label_and_tooltip(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    for field, kinds in parts.FIELD_KINDS.items():
        combo = next(w for w in window.editor._widgets_of(field) if isinstance(w, QComboBox))
        offered = {
            combo.itemData(i): (combo.itemText(i), combo.itemData(i, Qt.ItemDataRole.ToolTipRole))
            for i in range(combo.count())
        }
        assert offered == {key: (kind.label, kind.tooltip) for key, kind in kinds.items()}


def test_a_field_that_does_not_apply_is_held_at_its_default_with_the_reason(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, replace(preset("torchvision/resnet50"), stride_on="1x1"))
    editor = window.editor
    stride_on = editor.field_widgets["stride_on"]
    assert stride_on.isEnabled() and stride_on.currentData() == "1x1"
    block = next(key for key, kind in parts.BLOCKS.items() if not kind.bottleneck)
    editor.block_combo.setCurrentIndex(editor.block_combo.findData(block))
    wait_current(qtbot, window)
    assert not stride_on.isEnabled() and "bottleneck" in stride_on.toolTip()
    assert window.session.spec.stride_on == ArchSpec().stride_on
    assert window.session.spec.block == block


def test_the_fields_are_grouped_as_the_core_groups_them(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    boxes = {box.title(): box for box in window.editor.findChildren(QGroupBox)}
    for title, names in parts.FIELD_GROUPS.items():
        assert title in boxes, f"no {title!r} box"
        for name in names:
            widget = window.editor.field_widgets[name]
            assert boxes[title].isAncestorOf(widget), f"{name} is not in the {title!r} box"


def test_every_grouped_field_has_a_tooltip_naming_its_trick(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    # A spec where every grouped field applies, so no tooltip is a "does not apply" reason.
    window = open_window(qtbot, settings, replace(preset("timm/resnetrs50"), drop_path=0.1))
    for name, widget in window.editor.field_widgets.items():
        assert widget.isEnabled(), name
        tooltip = widget.toolTip()
        assert tooltip and "\n" not in tooltip, name
        if name not in parts.FIELD_KINDS:
            assert "et al." in tooltip or "arXiv" in tooltip or "timm" in tooltip, (name, tooltip)


def test_edits_after_a_stage_is_removed_leave_its_fields_alone(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    editor = window.editor
    specs: list[object] = []
    editor.edited.connect(lambda spec, _field: specs.append(spec))
    editor.remove_stage_button.click()
    qtbot.wait(10)  # the removed row's widgets are deleted
    editor.stage_rows[0].depth.setValue(3)
    assert specs[-1].depths == (3, 2, 2)  # type: ignore[attr-defined]


def test_a_depth_edit_repaints_that_field_alone(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """Fields held at their default (resnet18's groups and width per group) are not set
    again, so not repainted, at every edit: under a style sheet each repaint redraws the
    box around them too."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QAbstractSpinBox

    painted: list[QObject] = []

    class Watch(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                painted.append(watched)
            return False

    window.show()
    qtbot.waitExposed(window)
    spins = window.editor.findChildren(QAbstractSpinBox)
    assert not window.editor.field_widgets["groups"].isEnabled()  # held at its default
    watch = Watch()
    for spin in spins:
        spin.installEventFilter(watch)
    depth = window.editor.stage_rows[1].depth
    qtbot.wait(50)
    painted.clear()
    depth.setValue(depth.value() + 1)
    wait_current(qtbot, window)
    qtbot.wait(50)
    assert set(painted) == {depth}


def _tab_sequence(qtbot, editor) -> list:  # type: ignore[no-untyped-def]
    """The editor's fields in the order Tab visits them, from the preset list on."""
    from PySide6.QtWidgets import QApplication

    editor.window().activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is editor.window())
    editor.preset_combo.setFocus(Qt.FocusReason.TabFocusReason)
    found = [editor.preset_combo]
    while len(found) < 100:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        widget = QApplication.focusWidget()
        if not editor.widget().isAncestorOf(widget):
            return found
        found.append(widget)
    return found


@pytest.mark.parametrize("stages", [4, 6])
def test_tab_goes_through_the_form_from_top_to_bottom(qtbot, window, stages) -> None:  # type: ignore[no-untyped-def]
    editor = window.editor
    while len(editor.stage_rows) < stages:
        editor.add_stage()
    qtbot.waitUntil(lambda: editor.stage_rows[-1].stride.isVisible())
    sequence = _tab_sequence(qtbot, editor)
    body = editor.widget()
    places = [
        (w.mapTo(body, w.rect().topLeft()).y(), w.mapTo(body, w.rect().topLeft()).x()) for w in sequence
    ]
    names = [w.property("spec_field") or getattr(w, "text", str)() for w in sequence]
    assert places == sorted(places), list(zip(names, places, strict=True))
    stage_fields = [spin for row in editor.stage_rows for spin in row.spins()]
    assert [w for w in sequence if w in stage_fields] == stage_fields
    after_stages = sequence[sequence.index(stage_fields[-1]) + 1]
    assert after_stages in (editor.add_stage_button, editor.remove_stage_button)


def test_every_invalid_field_says_why_at_the_same_time(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    editor = window.editor

    def flagged() -> dict[str, str]:
        """Each field marked invalid, with the explanations shown where its errors go."""
        marked = [w for w in editor._error_labels if w.property("invalid")]
        return {
            str(w.property("spec_field")): editor._error_labels[w].text()
            for w in marked
            if editor._error_labels[w].isVisible()
        }

    editor.shortcut_combo.setCurrentIndex(editor.shortcut_combo.findData("zero-pad"))
    editor.stage_rows[1].width.setValue(8)
    assert set(flagged()) == {"shortcut"}
    editor.stem_combo.setCurrentIndex(editor.stem_combo.findData("deep-tiered"))
    editor.stem_width_spin.setValue(1)
    shown = flagged()
    assert set(shown) == {"shortcut", "stem_width"}
    assert "cannot shrink" in shown["shortcut"] and "at least 4" in shown["stem_width"]
    assert window.banner.isVisible() and "1 more field to fix" in window.banner.text()
    editor.stem_width_spin.setValue(64)  # one fixed: the other stays explained
    assert set(flagged()) == {"shortcut"}
    assert "more field" not in window.banner.text()
