"""Shared test set-up: Qt renders offscreen unless a test starts its own X server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The in_thread_worker fixture, for tests that patch the core under a job of the app or the CLI.
pytest_plugins = ["tests.worker_double"]

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
# The reference material lies beside the checkout (../shared) on development and CI machines.
SHARED = REPO.parent / "shared"


def pytest_addoption(parser):  # type: ignore[no-untyped-def]
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files under tests/golden from the current output",
    )


@pytest.fixture(autouse=True)
def _private_desktop(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # The desktop files of whoever runs the tests (recent files, menu entries) and their running
    # window's socket are never touched: each test has a data and a runtime folder of its own.
    runtime = tmp_path_factory.mktemp("run")
    runtime.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))
