"""Tools > Cross-check with torchsummary: runs in the worker process, its verdict in a message box."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from explorer.core import crosscheck
from explorer.core.render.table import format_torchsummary
from explorer.core.spec import ArchSpec
from tests.gui.conftest import open_window

SMALL = ArchSpec(depths=(1, 1), widths=(8, 16), stem_width=8, input_size=(16, 16))


def run_check(qtbot, window) -> QMessageBox:  # type: ignore[no-untyped-def]
    tools = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Tools")
    action = next(a for a in tools.actions() if a.text().startswith("Cross-check with torchsummary"))
    action.trigger()
    assert not action.isEnabled()  # one check at a time
    qtbot.waitUntil(lambda: window.cross_check.box is not None, timeout=60_000)
    assert action.isEnabled()
    box = window.cross_check.box
    assert box is not None and box.isVisible()
    return box


def test_the_check_agrees_for_the_current_spec(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, SMALL)
    box = run_check(qtbot, window)
    assert box.text().startswith("torchsummary agrees")
    assert box.icon() == QMessageBox.Icon.Information


def test_a_difference_is_shown_with_its_first_line(
    in_thread_worker: None, qtbot, settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(crosscheck, "format_torchsummary", lambda analysis: format_torchsummary(analysis, 8))
    window = open_window(qtbot, settings, SMALL)
    box = run_check(qtbot, window)
    assert "torchsummary differs at line" in box.text() and "[8, 8, 16, 16]" in box.text()
    assert box.icon() == QMessageBox.Icon.Warning
