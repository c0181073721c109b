"""main(): the application object, the remembered state and the main window."""

from __future__ import annotations

import gc
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QLocale,
    QMessageLogContext,
    QSettings,
    Qt,
    QTimer,
    QtMsgType,
    qFormatLogMessage,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QApplication

from explorer import __version__
from explorer.core.presets import preset
from explorer.core.spec import ArchSpec, SpecError
from explorer.desktop.xdg import follows_freedesktop, recently_used_file
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
from explorer.gui.single_instance import InstanceClaim, Opening, Request
from explorer.gui.style import apply_style
from explorer.gui.wheel_guard import guard_the_wheel

if TYPE_CHECKING:
    from PySide6.QtNetwork import QLocalServer

GC_YOUNG_THRESHOLD = 5000
SETTLE_AFTER_MS = 300
# Long enough for the window's first picture to be on screen.
AFTER_FIRST_PICTURE_MS = 300
# How long a worker thread may hold the interpreter before the GUI thread gets it back
# (Python's default is 5 ms): the analysis of an edit runs in Python on a worker, and
# the window must not wait that long to handle a key or a paint meanwhile.
GIL_SWITCH_INTERVAL_S = 0.001
# Qt's offscreen and some X11 platform plugins say these at every window shown or brought to
# the front; they only mean a size hint or a raise is not passed to a window manager (there
# is none), and nothing can be done about it.
HARMLESS_QT_WARNINGS = frozenset(
    {"This plugin does not support propagateSizeHints()", "This plugin does not support raise()"}
)

_MessageHandler = Callable[[QtMsgType, QMessageLogContext, str], None]
_forward_to: _MessageHandler | None = None


def _filter_qt_message(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    if message in HARMLESS_QT_WARNINGS:
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
    recently_used: Path | None = None,
) -> MainWindow:
    """A window on ``spec`` (from ``path``), or on the spec remembered in ``settings``.

    ``staged``: when the window opens as it was left, on the layer table, the table is shown
    before the rest of the window is built (see MainWindow). ``recently_used``: the desktop's
    list of recent files, which the files opened and saved in the window join."""
    saved: ArchSpec | None = None
    if spec is None:
        restored = restore_document(settings)
        if restored is not None:
            spec, path, saved = restored
        else:
            spec = preset("resnet18")
    session = Session(spec)
    window = MainWindow(
        session,
        settings,
        verify=verify,
        staged=staged and _opens_on_the_table(settings),
        recently_used=recently_used,
    )
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


def open_all(window: MainWindow, openings: Sequence[Opening]) -> None:
    """Open each of ``openings`` in turn, as File › Open or New from preset would: a file
    that cannot be opened is explained, and the next is opened all the same."""
    window.finish_building()
    for opening in openings:
        if opening.preset is not None:
            try:
                preset(opening.preset)
            except SpecError as exc:
                window.documents.report("Cannot open the preset", str(exc))
                continue
            window.documents.new_from_preset(opening.preset)
        elif opening.path is not None:
            window.documents.open_path(opening.path)


def come_to_front(window: MainWindow, activation: dict[str, str] | None = None) -> None:
    """Show ``window`` (restored if minimised) in front, with the token the desktop gave the
    launch that asked for it, without which a desktop may refuse to let it take the focus."""
    for name, token in (activation or {}).items():
        os.environ[name] = token  # Qt's Wayland plugin reads it when the window asks to be activated
    window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
    window.show()
    window.raise_()
    window.activateWindow()


def take_request(window: MainWindow, request: Request) -> None:
    """What a later launch asked the running window to do: open its files, come to the front."""
    come_to_front(window, dict(request.activation))
    open_all(window, request.openings)


def desktop_recent_files() -> Path | None:
    """The desktop's list of recent files, where this system has one."""
    return recently_used_file() if follows_freedesktop() else None


def _tell_the_desktop(path: Path, recently_used: Path) -> None:
    # Imported here: the XML it writes is not on the way to the first picture.
    from explorer.core.file_kind import JSON_MIME_TYPE, mime_type_by_name
    from explorer.desktop.recent import add_recently_used

    add_recently_used(path, mime_type_by_name(path) or JSON_MIME_TYPE, to=recently_used)


def main(
    spec: ArchSpec | None = None,
    path: Path | None = None,
    then_open: Sequence[Opening] = (),
    instance: InstanceClaim | None = None,
) -> int:
    """The app: a window on ``spec`` (from ``path``) or the last one, which then opens
    ``then_open``; with ``instance``, later launches hand their files to this window."""
    app = application()
    recently_used = desktop_recent_files()
    window = create_window(user_settings(), spec, path, staged=not then_open, recently_used=recently_used)
    # What is not on the way to the first picture waits until it is shown: telling the
    # desktop about the file, and listening for later launches (which wait for it on the lock).
    if path is not None and recently_used is not None:
        QTimer.singleShot(AFTER_FIRST_PICTURE_MS, lambda: _tell_the_desktop(path, recently_used))
    servers: list[QLocalServer | None] = []
    if instance is not None:
        claim = instance

        def take(request: Request) -> None:
            # Once the event loop is free: a request may arrive while a prompt is open.
            QTimer.singleShot(0, lambda: take_request(window, request))

        QTimer.singleShot(AFTER_FIRST_PICTURE_MS, lambda: servers.append(claim.serve(window, take)))
    _quit_on_signals(window)
    window.show()
    if then_open:
        QTimer.singleShot(0, lambda: open_all(window, then_open))
    code = app.exec()
    for server in servers:
        if server is not None:
            server.close()  # its socket goes now, not whenever the interpreter frees it
    return code
