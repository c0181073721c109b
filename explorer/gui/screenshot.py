"""Rendering the main window and each tab to PNG without a display."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from explorer.core.presets import SCREENSHOT_PRESET, preset
from explorer.core.spec import ArchSpec
from explorer.gui.app import application, create_window
from explorer.gui.main_window import TABS, MainWindow

SETTLE_TIMEOUT_S = 60.0


def wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        QApplication.processEvents()
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def settle(window: MainWindow, panel: object = None) -> None:
    """Let pending analyses, the module check and the panel's own work finish."""
    wait_until(lambda: window.session.is_current, SETTLE_TIMEOUT_S)
    wait_until(lambda: window.verifier.last.state != "pending", SETTLE_TIMEOUT_S)
    ready = getattr(panel, "is_ready", None)
    if callable(ready):
        wait_until(ready, SETTLE_TIMEOUT_S)
    for _ in range(5):
        QApplication.processEvents()
        time.sleep(0.02)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def take_screenshots(
    out: Path, spec: ArchSpec | None, path: Path | None, size: tuple[int, int]
) -> list[Path]:
    app = application()
    with tempfile.TemporaryDirectory(prefix="resnet-explorer-shots-") as folder:
        # A throw-away settings file: pictures never read or change the user's settings.
        settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
        window = create_window(settings, spec or preset(SCREENSHOT_PRESET), path)
        window.resize(*size)
        window.show()
        written = []
        try:
            settle(window)
            for title, _target in TABS:
                panel = window.show_tab(title)
                settle(window, panel)
                file = out / f"tab-{_slug(title)}.png"
                window.grab().save(str(file))
                written.append(file)
            window.show_tab(TABS[0][0])
            settle(window)
            file = out / "main-window.png"
            window.grab().save(str(file))
            written.insert(0, file)
        finally:
            window.session.load(window.session.spec)  # nothing unsaved: close without a prompt
            window.verifier.stop()
            window.hide()
            window.deleteLater()
            app.processEvents()
    return written
