"""A window that opens as it was left, on the layer table, shows the table first and builds
the rest (the editor, the menus' actions, documents) once the table has painted."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QModelIndex, QObject, QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from explorer.core.analysis import analyze
from explorer.core.presets import preset
from explorer.gui.app import create_window
from explorer.gui.main_window import FINISH_BUILDING_AT_LATEST_MS, MENU_TITLES, MainWindow
from explorer.gui.models.layer_tree import LayerTreeModel
from explorer.gui.panels.layer_view import LayerView
from explorer.gui.session import Session
from explorer.gui.settings import CURRENT_TAB, WINDOW_STATE
from explorer.gui.workspace import Workspace

from .conftest import open_window
from .test_incremental_tree import fresh_model, shown


def _left_on_the_table(qtbot, settings: QSettings) -> None:  # type: ignore[no-untyped-def]
    """The settings a closed window leaves: its spec, its state, the Layers tab."""
    window = open_window(qtbot, settings, preset("cifar/resnet56"))
    window.save_state()
    window.close()


def _staged_window(qtbot, settings: QSettings) -> MainWindow:  # type: ignore[no-untyped-def]
    window = create_window(settings, verify=False, staged=True)
    qtbot.addWidget(window)
    return window


def test_the_table_is_painted_before_the_editor_is_built(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    _left_on_the_table(qtbot, settings)
    window = _staged_window(qtbot, settings)
    assert not hasattr(window, "editor") and not hasattr(window, "documents")
    assert window.layer_view.model.rowCount() > 0  # the table is there from the start
    assert [menu.title() for menu in window.menus.values()] == list(MENU_TITLES)
    assert window.windowTitle().startswith("cifar/resnet56")
    built_at_paint: list[bool] = []

    class Paints(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                built_at_paint.append(hasattr(window, "editor") or not window.layer_view.model.rows_to_come)
            return False

    paints = Paints()
    window.layer_view.tree.viewport().installEventFilter(paints)
    window.show()
    qtbot.waitUntil(lambda: hasattr(window, "editor"), timeout=5000)
    assert built_at_paint[0] is False  # neither the editor nor every row yet
    assert window.editor_dock.widget() is window.editor
    assert not window.layer_view.model.rows_to_come
    assert window.editor.field_values()["depths"] == (9, 9, 9)
    assert window.menus["&File"].actions() and window.undo_action.isEnabled() is False
    assert window.windowTitle().startswith("cifar/resnet56")
    # Edits go through the editor as in any window.
    window.documents.ask_unsaved = lambda: QMessageBox.StandardButton.Discard  # type: ignore[method-assign]
    window.editor.stage_rows[0].depth.setValue(10)
    qtbot.waitUntil(lambda: window.session.spec.depths == (10, 9, 9), timeout=5000)


def test_a_window_left_elsewhere_or_never_left_is_built_at_once(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    assert hasattr(_staged_window(qtbot, settings), "editor")  # no saved state: the dock's width is unknown
    _left_on_the_table(qtbot, settings)
    settings.setValue(CURRENT_TAB, 1)  # the Diagram tab: the table is not the first picture
    assert hasattr(_staged_window(qtbot, settings), "editor")
    settings.setValue(CURRENT_TAB, 0)
    assert not hasattr(_staged_window(qtbot, settings), "editor")
    window = create_window(settings, verify=False)
    qtbot.addWidget(window)
    assert hasattr(window, "editor")  # not staged unless asked


def test_hand_edited_window_settings_open_a_window(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    _left_on_the_table(qtbot, settings)
    settings.setValue(CURRENT_TAB, "Layers")
    settings.setValue(WINDOW_STATE, "not a saved state")
    window = _staged_window(qtbot, settings)
    assert hasattr(window, "editor") and window.tabs.currentIndex() == 0


def test_what_needs_the_rest_builds_it_first(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    _left_on_the_table(qtbot, settings)
    window = _staged_window(qtbot, settings)
    compare = window.show_tab("Compare")  # its panel needs the workspace
    assert hasattr(window, "editor")
    assert compare.workspace is window.workspace
    assert len(window.session.findChildren(Workspace)) == 1

    window = _staged_window(qtbot, settings)
    closed = window.close()  # asks about unsaved edits: needs the documents
    assert closed and hasattr(window, "documents")

    window = _staged_window(qtbot, settings)
    window.session.propose(window.session.spec.with_depths((3, 3, 3)))
    window.finish_building()
    window.documents.ask_unsaved = lambda: QMessageBox.StandardButton.Cancel  # type: ignore[method-assign]
    assert window.close() is False  # the edit is not lost
    window.documents.ask_unsaved = lambda: QMessageBox.StandardButton.Discard  # type: ignore[method-assign]


def test_a_window_that_never_paints_is_built_all_the_same(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    _left_on_the_table(qtbot, settings)
    window = _staged_window(qtbot, settings)  # never shown
    qtbot.wait(FINISH_BUILDING_AT_LATEST_MS // 2)
    assert not hasattr(window, "editor")
    qtbot.waitUntil(lambda: hasattr(window, "editor"), timeout=FINISH_BUILDING_AT_LATEST_MS * 3)


def _row_count(model: LayerTreeModel, parent: QModelIndex | None = None) -> int:
    parent = parent or QModelIndex()
    return sum(1 + _row_count(model, model.index(row, 0, parent)) for row in range(model.rowCount(parent)))


def test_a_first_table_of_a_few_rows_makes_the_rest_later_as_a_full_one_would(qtbot) -> None:  # type: ignore[no-untyped-def]
    analysis = analyze(preset("torchvision/resnet152"))
    full = fresh_model(analysis)
    session = Session(preset("torchvision/resnet152"))
    view = LayerView(session, first_rows=90)
    qtbot.addWidget(view)
    assert 90 <= _row_count(view.model) < 120 < _row_count(full)
    assert view.model.rows_to_come
    first = shown(view.model)
    assert first == shown(full)[: len(first) - 1] + first[-1:]  # the same rows, in order, so far
    view.show()
    view.model.finish_rows()
    assert not view.model.rows_to_come
    assert shown(view.model) == shown(full)
    expanded = [view.tree.isExpanded(view.model.index(row, 0)) for row in range(view.model.rowCount())]
    assert all(expanded[:-1])  # the stages that came later open as the others (not the head's layers)


@pytest.mark.parametrize("first_use", ["edit", "sort", "filter", "select", "another network"])
def test_using_a_table_with_rows_to_come_makes_them_first(qtbot, first_use: str) -> None:  # type: ignore[no-untyped-def]
    session = Session(preset("cifar/resnet56"), debounce_ms=0)
    view = LayerView(session, first_rows=20)
    qtbot.addWidget(view)
    assert view.model.rows_to_come
    if first_use == "edit":
        session.propose(session.spec.with_depths((9, 10, 9)))
    elif first_use == "sort":
        view.model.sort(3, Qt.SortOrder.DescendingOrder)
        view.model.sort(-1)
    elif first_use == "filter":
        view.model.set_filter("conv")
        view.model.set_filter("")
    elif first_use == "select":
        session.select_rows({len(session.analysis.rows) - 2})
    else:
        session.propose(preset("cifar/resnet20"))
    qtbot.waitUntil(lambda: session.is_current, timeout=10_000)
    qtbot.wait(20)
    assert not view.model.rows_to_come
    assert shown(view.model) == shown(fresh_model(session.analysis))


@pytest.mark.parametrize("staged", [False, True])
def test_the_table_columns_fit_their_content_after_a_start_on_another_tab(qtbot, settings, staged) -> None:  # type: ignore[no-untyped-def]
    _left_on_the_table(qtbot, settings)
    settings.setValue(CURRENT_TAB, 2)  # left on the Charts tab
    window = create_window(settings, verify=False, staged=staged)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.show_tab("Layers")
    view = window.layer_view
    qtbot.waitUntil(view.tree.isVisible)
    header = view.tree.header()
    shown = [header.sectionSize(column) for column in range(header.count())]
    assert shown != [header.defaultSectionSize()] * header.count()
    view._fit_columns()  # what the view fits when it is shown on its own
    assert [header.sectionSize(column) for column in range(header.count())] == shown
    # The figures are whole: every numeric column is at least as wide as its widest entry.
    for column in range(2, header.count()):
        assert header.sectionSize(column) >= view._content_width(column), column
