"""`resnet-explorer screenshot` works on throw-away state: the user's files stay as they are."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QSettings

from explorer.core.presets import preset
from explorer.gui.workspace import WORKSPACE_FILE, workspace_of

from .conftest import open_window

PROGRAM = Path(sys.executable).parent / "resnet-explorer"


def test_a_window_keeps_its_workspace_beside_its_settings(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = QSettings(str(tmp_path / "elsewhere" / "settings.ini"), QSettings.Format.IniFormat)
    window = open_window(qtbot, settings, preset("resnet18"))
    assert workspace_of(window.session).path == tmp_path / "elsewhere" / WORKSPACE_FILE


def test_screenshots_leave_the_users_workspace_and_settings_alone(tmp_path: Path) -> None:
    folder = tmp_path / "resnet-explorer"
    folder.mkdir()
    workspace = folder / WORKSPACE_FILE
    workspace.write_text("{not a comparison")  # read by the Compare tab, it would be moved aside
    before = sorted(p.name for p in folder.iterdir())
    home = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **home}
    done = subprocess.run(
        [str(PROGRAM), "screenshot", "--out", str(tmp_path / "shots"), "cifar/resnet20"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in folder.iterdir()) == before
    assert workspace.read_text() == "{not a comparison"
