"""The real program under a real X server: its window appears and Ctrl+Q closes it; launches
with files while it runs end up in that one window."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from explorer.core.compare import Comparison
from explorer.core.presets import preset
from explorer.desktop.recent import file_uri
from explorer.gui.single_instance import socket_path

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
def test_the_app_opens_and_quits_cleanly_under_xvfb(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    number = _free_display()
    server = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    app = None
    try:
        assert _wait_for(lambda: Path(f"/tmp/.X11-unix/X{number}").exists(), 15), "Xvfb did not start"
        runtime = tmp_path_factory.mktemp("r")  # short: a socket's path holds 107 bytes at most
        runtime.chmod(0o700)
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


@pytest.fixture
def x_server() -> Iterator[str]:
    """A fresh X server (no window manager): its DISPLAY."""
    if MISSING:
        pytest.skip(f"needs {' and '.join(MISSING)} (apt-get install xvfb xdotool)")
    number = _free_display()
    server = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait_for(lambda: Path(f"/tmp/.X11-unix/X{number}").exists(), 15), "Xvfb did not start"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(10)


def _windows(env: dict[str, str], name: str, sync: bool = False) -> list[str]:
    """The visible windows whose title holds ``name`` (with ``sync``, once there is one)."""
    found = subprocess.run(
        ["xdotool", "search", *(["--sync"] if sync else []), "--onlyvisible", "--name", name],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    return found.stdout.split()


def test_launches_with_files_end_up_in_one_window_with_every_file_opened(
    x_server: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    runtime = tmp_path_factory.mktemp("r")  # short: a socket's path holds 107 bytes at most
    runtime.chmod(0o700)
    env = {
        **os.environ,
        "DISPLAY": x_server,
        "QT_QPA_PLATFORM": "xcb",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_RUNTIME_DIR": str(runtime),
    }
    first, second = tmp_path / "first.resnet.json", tmp_path / "second.resnet.json"
    preset("cifar/resnet20").save(first)
    preset("cifar/resnet56").save(second)
    comparison = Comparison().add("small", preset("cifar/resnet20")).add("big", preset("cifar/resnet110"))
    compared = tmp_path / "pair.resnet-compare.json"
    comparison.save(compared)
    # What a crashed window leaves: the socket's file, with nothing listening on it.
    stale = socket_path(env)
    assert stale is not None
    crashed = socket.socket(socket.AF_UNIX)
    crashed.bind(os.fsencode(stale))
    crashed.close()

    app = subprocess.Popen(
        [str(PROGRAM), str(first)], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        window = _windows(env, "first.resnet.json", sync=True)
        assert len(window) == 1
        for later in (compared, second):
            done = subprocess.run(
                [str(PROGRAM), str(later)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=90
            )
            assert done.returncode == 0, done.stderr
            assert done.stdout.strip() == f"opened {later} in the running window"
        assert _windows(env, "second.resnet.json", sync=True) == window
        assert _windows(env, "ResNet Explorer") == window  # one window, no other
        subprocess.run(
            ["xdotool", "windowfocus", "--sync", window[0], "key", "ctrl+q"], env=env, timeout=30, check=True
        )
        _out, err = app.communicate(timeout=30)
        assert app.returncode == 0, err.decode(errors="replace")
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
    assert not stale.exists()  # the window's own socket went with it
    workspace = tmp_path / "config" / "resnet-explorer" / "comparison-workspace.json"
    assert Comparison.load(workspace) == comparison
    ini = (tmp_path / "config" / "resnet-explorer" / "resnet-explorer.ini").read_text()
    assert f"path={second}" in ini
    # Every file it opened is in the desktop's recent files.
    mime = "{http://www.freedesktop.org/standards/shared-mime-info}mime-type"
    listed = {
        entry.get("href"): entry.find(f"info/metadata/{mime}").get("type")  # type: ignore[union-attr]
        for entry in ET.parse(tmp_path / "data" / "recently-used.xbel").getroot().findall("bookmark")
    }
    assert listed == {
        file_uri(first): "application/x-resnet-explorer-spec",
        file_uri(compared): "application/x-resnet-explorer-comparison",
        file_uri(second): "application/x-resnet-explorer-spec",
    }
