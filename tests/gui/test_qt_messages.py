"""Qt's messages reach the terminal, all but one known harmless warning."""

from __future__ import annotations

from PySide6.QtCore import qWarning

from explorer.gui.app import application


def test_the_harmless_size_hints_warning_is_dropped_and_others_kept(qtlog) -> None:  # type: ignore[no-untyped-def]
    application()
    qWarning("This plugin does not support propagateSizeHints()")
    qWarning("a warning worth reading")
    application()  # installing the filter again neither loops nor loses messages
    qWarning("another one")
    messages = [record.message for record in qtlog.records]
    assert messages == ["a warning worth reading", "another one"]
