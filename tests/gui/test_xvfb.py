"""The real program under a real X server: its window appears and Ctrl+Q closes it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.xvfb

MISSING = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
PROGRAM = Path(sys.executable).parent / "resnet-explorer"


def _free_display() -> int:
    for number in range(140, 400):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            return number
    raise RuntimeError("no free X display number between :140 and :399")


def _wait_for(condition, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(bool(MISSING), reason=f"needs {' and '.join(MISSING)} (apt-get install xvfb xdotool)")
def test_the_app_opens_and_quits_cleanly_under_xvfb(tmp_path: Path) -> None:
    number = _free_display()
    server = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    app = None
    try:
        assert _wait_for(lambda: Path(f"/tmp/.X11-unix/X{number}").exists(), 15), "Xvfb did not start"
        runtime = tmp_path / "runtime"
        runtime.mkdir(mode=0o700)
        env = {
            **os.environ,
            "DISPLAY": f":{number}",
            "QT_QPA_PLATFORM": "xcb",
            "HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_RUNTIME_DIR": str(runtime),
        }
        app = subprocess.Popen(
            [str(PROGRAM)], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        found = subprocess.run(
            ["xdotool", "search", "--sync", "--onlyvisible", "--name", "ResNet Explorer"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        window = found.stdout.split()[0]
        title = subprocess.run(["xdotool", "getwindowname", window], env=env, capture_output=True, text=True)
        assert title.stdout.strip() == "resnet18 — ResNet Explorer"
        subprocess.run(
            ["xdotool", "windowfocus", "--sync", window, "key", "ctrl+q"], env=env, timeout=30, check=True
        )
        _out, err = app.communicate(timeout=30)
        assert app.returncode == 0, err.decode(errors="replace")
        # A clean quit leaves the state for the next launch.
        assert (tmp_path / "config" / "resnet-explorer" / "resnet-explorer.ini").is_file()
    finally:
        if app is not None and app.poll() is None:
            app.kill()
            app.wait(10)
        server.terminate()
        server.wait(10)
