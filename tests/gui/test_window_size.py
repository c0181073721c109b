"""The window opens at a size that fits the screen, and comes back no larger than it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, QSettings

from explorer.core.presets import preset
from explorer.gui.app import create_window
from explorer.gui.main_window import FRAME_ALLOWANCE, MainWindow
from explorer.gui.settings import GEOMETRY

# The free area of a 1024x700 screen, of a 1280x800 one under a 30-pixel panel, and of a
# 1920x1080 one at scale 2 (in the device-independent pixels the window is sized in).
SCREENS = [QRect(0, 0, 1024, 700), QRect(0, 30, 1280, 770), QRect(0, 0, 960, 540)]


def _open(qtbot, settings: QSettings) -> MainWindow:  # type: ignore[no-untyped-def]
    window = create_window(settings, preset("resnet18"), verify=False)
    qtbot.addWidget(window)
    window.show()
    return window


def _fits(window: MainWindow, free: QRect) -> bool:
    return free.marginsRemoved(FRAME_ALLOWANCE).contains(window.geometry())


@pytest.mark.parametrize("free", SCREENS, ids=lambda rect: f"{rect.width()}x{rect.height()}")
def test_the_window_fits_a_smaller_screen_and_comes_back_no_larger(  # type: ignore[no-untyped-def]
    qtbot, settings: QSettings, monkeypatch: pytest.MonkeyPatch, free: QRect
) -> None:
    large = _open(qtbot, settings)
    large.setGeometry(QRect(300, 200, 1800, 1000))  # left on a larger screen
    settings.setValue(GEOMETRY, large.saveGeometry())
    large.close()
    monkeypatch.setattr(MainWindow, "_free_area", lambda _window: QRect(free))
    fresh = _open(qtbot, QSettings(settings.fileName() + ".new", QSettings.Format.IniFormat))
    assert _fits(fresh, free), (fresh.geometry(), free)
    # As large as the screen allows, up to the size it was designed for.
    assert fresh.width() >= min(1280, free.width() - 100) and fresh.height() >= min(800, free.height() - 100)
    restored = _open(qtbot, settings)
    assert _fits(restored, free), (restored.geometry(), free)
