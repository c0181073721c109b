"""GUI fixtures: a window on a throw-away settings file, and helpers to read it back."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QThreadPool
from PySide6.QtWidgets import QMessageBox

from explorer.core.analysis import Analysis
from explorer.core.presets import preset
from explorer.core.units import format_shape
from explorer.gui.app import application, create_window
from explorer.gui.main_window import MainWindow


@pytest.fixture(autouse=True)
def _private_user_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Anything that asks for the user's settings gets a temporary folder instead.
    folder = tmp_path_factory.mktemp("user-settings")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))


@pytest.fixture(scope="session", autouse=True)
def _one_worker_process() -> Iterator[None]:
    # Every window of the session shares one warm worker process, as one window's tabs do:
    # a process of each test's own would import torch again for every window.
    import explorer.gui.bench_runner as bench_runner
    from explorer.core.worker import Worker

    shared = Worker()
    bench_runner.Worker = lambda: shared  # type: ignore[assignment,misc]
    yield
    bench_runner.Worker = Worker  # type: ignore[misc]
    shared.close()


@pytest.fixture(autouse=True)
def _application() -> None:
    # Icons and fonts need the application object: whichever test a worker runs first.
    application()


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread() -> Iterator[None]:
    # A test's objects die with it, as a window's do when it closes; collected here, their Qt
    # parts (socket notifiers, timers) are destroyed on the GUI thread, never by a collection
    # that a later test's worker thread happens to run.
    yield
    QThreadPool.globalInstance().waitForDone(30_000)
    gc.collect()


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def open_window(qtbot, settings: QSettings, spec=None, path=None) -> MainWindow:  # type: ignore[no-untyped-def]
    application()
    window = create_window(settings, spec, path, verify=False)
    qtbot.addWidget(window)
    window.documents.ask_unsaved = lambda: QMessageBox.StandardButton.Discard  # type: ignore[method-assign]
    window.show()
    return window


@pytest.fixture
def window(qtbot, settings: QSettings) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    yield open_window(qtbot, settings, preset("resnet18"))


def wait_current(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: window.session.is_current, timeout=10_000)


def table_layers(window: MainWindow) -> list[tuple[str, str, int, int, int]]:
    """The layer rows the tree holds, depth first: (path, shape, params, MACs, RF)."""
    found = []
    pending = list(reversed(window.layer_view.model.root().children))
    while pending:
        node = pending.pop()
        if node.kind == "layer":
            found.append(
                (
                    node.full_name,
                    format_shape(node.figure("output_shape")),
                    node.figure("params"),
                    node.figure("macs"),
                    node.figure("receptive_field")[0],
                )
            )
        pending.extend(reversed(node.children))
    return found


def expected_layers(analysis: Analysis) -> list[tuple[str, str, int, int, int]]:
    return [
        (row.name, format_shape(row.output_shape), row.params, row.macs, row.receptive_field)
        for row in analysis.rows
        if row.op != "block"
    ]
