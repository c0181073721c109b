"""Edits leave no reference cycles behind, so the window can keep what it shows out of the
garbage collector's sweeps (explorer/gui/app.py) without keeping garbage."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from explorer.core.presets import preset

from .conftest import open_window, wait_current


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_edits_of_every_kind_leave_no_reference_cycles(qtbot, settings, collector_off) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, preset("cifar/resnet56"))
    wait_current(qtbot, window)
    editor, session = window.editor, window.session
    qtbot.wait(50)
    gc.collect()  # what opening the window left
    edits = [
        lambda: editor.stage_rows[0].depth.setValue(10),  # an early edit: later rows shift
        lambda: editor.stage_rows[2].depth.setValue(8),  # rows removed
        lambda: editor.stage_rows[1].width.setValue(40),
        lambda: session.undo(),
        lambda: session.redo(),
        lambda: session.propose(session.spec.with_depths((9, 9, 9, 2))),  # a stage more
    ]
    for edit in edits:
        edit()
        wait_current(qtbot, window)
        qtbot.wait(20)  # the leftovers are freed once the event loop is idle
    assert gc.collect() == 0


def test_what_an_edit_shows_is_frozen_once_the_window_is_idle(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, preset("cifar/resnet20"))
    wait_current(qtbot, window)
    qtbot.wait(400)  # the first picture's freeze
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    window.editor.stage_rows[0].depth.setValue(4)
    wait_current(qtbot, window)
    qtbot.waitUntil(lambda: gc.get_freeze_count() > 0, timeout=2000)


def test_the_collector_paused_on_the_way_to_the_window_is_back_once_it_is_up(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    gc.disable()  # as main() leaves it on the way to the first picture
    try:
        window = open_window(qtbot, settings, preset("cifar/resnet20"))
        wait_current(qtbot, window)
        qtbot.waitUntil(gc.isenabled, timeout=2000)
    finally:
        gc.enable()


def test_opening_the_app_from_the_command_line_pauses_the_collector_until_then(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import importlib

    from explorer.cli import main

    seen = []
    gui_app = importlib.import_module("explorer.gui.app")
    monkeypatch.setattr(gui_app, "main", lambda *args, **kwargs: seen.append(gc.isenabled()) or 0)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert main(["cifar/resnet20"]) == 0
    assert seen == [False]
    assert gc.isenabled()  # also when the app returns or fails
