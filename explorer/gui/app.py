"""main(): the application object, the remembered state and the main window."""

from __future__ import annotations

import gc
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QLocale,
    QMessageLogContext,
    QSettings,
    QTimer,
    QtMsgType,
    qFormatLogMessage,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QApplication

from explorer import __version__
from explorer.core.presets import preset
from explorer.core.spec import ArchSpec
from explorer.gui import icons
from explorer.gui.binding_check import guard_against_dropped_references
from explorer.gui.main_window import MainWindow
from explorer.gui.session import Session
from explorer.gui.settings import (
    APPLICATION,
    ORGANIZATION,
    WINDOW_STATE,
    restore_document,
    saved_tab,
    saved_window,
    user_settings,
)
from explorer.gui.style import apply_style
from explorer.gui.wheel_guard import guard_the_wheel

GC_YOUNG_THRESHOLD = 5000
SETTLE_AFTER_MS = 300
# How long a worker thread may hold the interpreter before the GUI thread gets it back
# (Python's default is 5 ms): the analysis of an edit runs in Python on a worker, and
# the window must not wait that long to handle a key or a paint meanwhile.
GIL_SWITCH_INTERVAL_S = 0.001
# Qt's offscreen and some X11 platform plugins say this at every window shown; it only
# means a size hint is not passed to the window manager, and nothing can be done about it.
HARMLESS_QT_WARNING = "This plugin does not support propagateSizeHints()"

_MessageHandler = Callable[[QtMsgType, QMessageLogContext, str], None]
_forward_to: _MessageHandler | None = None


def _filter_qt_message(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    if message == HARMLESS_QT_WARNING:
        return
    if _forward_to is not None:
        _forward_to(kind, context, message)
    else:
        sys.stderr.write(qFormatLogMessage(kind, context, message) + "\n")


def filter_qt_messages() -> None:
    """Drop Qt's one known harmless warning; every other message goes where it went before."""
    global _forward_to
    previous = qInstallMessageHandler(_filter_qt_message)
    if previous is not _filter_qt_message:
        _forward_to = previous


def application(argv: list[str] | None = None) -> QApplication:
    guard_against_dropped_references()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    filter_qt_messages()
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("ResNet Explorer")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("resnet-explorer")
    apply_style(app)  # type: ignore[arg-type]
    app.setWindowIcon(icons.app_icon())
    guard_the_wheel(app)  # type: ignore[arg-type]
    # Numbers are read and shown in ASCII digits, as on the command line and in spec files:
    # under an Arabic or Persian locale Qt's fields would take (and show) native digits.
    QLocale.setDefault(QLocale.c())
    return app  # type: ignore[return-value]


def _opens_on_the_table(settings: QSettings) -> bool:
    """Whether the window will open as it was left (its dock as wide), on the layer table:
    else the first picture is not the table, or the dock's width is not known before the
    editor is built."""
    return saved_window(settings, WINDOW_STATE) is not None and saved_tab(settings) == 0


def _freeze_what_exists() -> None:
    gc.collect()
    gc.freeze()
    gc.enable()  # paused by the command line on the way to the first picture


def _freeze_what_is_shown() -> None:
    # The young generation only: bounded (GC_YOUNG_THRESHOLD objects), a millisecond or two.
    gc.collect(0)
    gc.freeze()


def create_window(
    settings: QSettings,
    spec: ArchSpec | None = None,
    path: Path | None = None,
    verify: bool = True,
    staged: bool = False,
) -> MainWindow:
    """A window on ``spec`` (from ``path``), or on the spec remembered in ``settings``.

    ``staged``: when the window opens as it was left, on the layer table, the table is shown
    before the rest of the window is built (see MainWindow)."""
    saved: ArchSpec | None = None
    if spec is None:
        restored = restore_document(settings)
        if restored is not None:
            spec, path, saved = restored
        else:
            spec = preset("resnet18")
    session = Session(spec)
    window = MainWindow(session, settings, verify=verify, staged=staged and _opens_on_the_table(settings))
    session.setParent(window)
    session.load(spec, path, saved)
    if path is not None:
        window.settings.setValue("files/folder", str(path.resolve().parent))
    window.restore_state()
    # What exists once the window is up lives as long as the window: keep it out of the
    # collector's full passes, which would otherwise pause the window for tens of
    # milliseconds. Done once the first picture is shown, not on the way to it.
    QTimer.singleShot(SETTLE_AFTER_MS, _freeze_what_exists)
    # So is what each edit shows, until the next edit replaces it: frozen once the window is
    # idle, it stays out of the middle generation, whose sweep otherwise grows with the
    # edits since the last one (70 ms while an arrow key is held on resnet1202). Frozen
    # objects are still freed by reference counting when replaced, and an edit leaves no
    # reference cycles for a sweep to find (tests/gui/test_reference_cycles.py); a cycle the young
    # sweep missed would only be kept until the app quits.
    settle = QTimer(window, singleShot=True, interval=0)
    settle.timeout.connect(_freeze_what_is_shown)
    session.analysis_changed.connect(lambda _analysis: settle.start())
    # Every edit makes about a thousand short-lived records; with the default thresholds the
    # oldest generation is swept every few edits, the window's longest pause (45 ms on
    # resnet152). Sweeping it a hundred times less often brings that to about 17 ms; the
    # records hold no reference cycles, so reference counting still frees them at once.
    gc.set_threshold(GC_YOUNG_THRESHOLD, 50, 1000)
    return window


def _quit_on_signals(window: MainWindow) -> QTimer:
    """Ctrl+C in the terminal and SIGTERM end the app cleanly, state saved, no prompt."""

    def stop(_signum: int, _frame: object) -> None:
        QTimer.singleShot(0, window.shutdown)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # Python runs signal handlers only between bytecodes: wake it up now and then.
    wake = QTimer(window, interval=250)
    wake.timeout.connect(lambda: None)
    wake.start()
    return wake


def main(spec: ArchSpec | None = None, path: Path | None = None, comparison: Path | None = None) -> int:
    app = application()
    window = create_window(user_settings(), spec, path, staged=comparison is None)
    if comparison is not None:
        window.documents.open_path(comparison)
    _quit_on_signals(window)
    window.show()
    return app.exec()
