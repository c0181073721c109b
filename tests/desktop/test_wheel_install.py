"""The sdist and the wheel carry what the app needs and nothing of the tests: the wheel alone,
installed into a fresh environment, gives a working command line, desktop entry and app."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tarfile
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from explorer.core.analysis import analyze
from explorer.core.compare import Comparison
from explorer.core.presets import preset
from explorer.desktop.install import ICON_SIZES
from explorer.desktop.recent import file_uri
from explorer.gui.single_instance import socket_path

REPO = Path(__file__).resolve().parents[2]
# What a checkout holds besides the package: none of it belongs in a release.
NOT_SHIPPED = ("tests/", "benchmarks/", "resources/screenshots/", "scripts/", ".ci/", "Makefile")
ICON_FILES = [f"explorer/resources/icons/resnet-explorer-{size}.png" for size in ICON_SIZES] + [
    "explorer/resources/icons/resnet-explorer.svg"
]
START_WAIT_S = 120


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return done


def _build(tmp_path: Path) -> tuple[Path, Path]:
    """The sdist and the wheel, as a release builds them: the wheel from the sdist, from a copy
    of the checkout (building writes its egg-info beside the sources)."""
    source = tmp_path / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", ".*_cache", ".hypothesis"
        ),
    )
    dist = tmp_path / "dist"
    # Without isolation: the build backend of this environment (the set-up installs it), so
    # that the test needs no package index.
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)])
    (sdist,) = dist.glob("*.tar.gz")
    (wheel,) = dist.glob("*.whl")
    return sdist, wheel


def _fresh_environment(tmp_path: Path, wheel: Path) -> Path:
    """A new virtual environment with the wheel installed. Its dependencies (torch, Qt) are this
    environment's, reached through a path entry of its site-packages folder: that entry runs
    none of the .pth files there, so this checkout (installed editable here) is not on the path,
    and only the wheel's files provide ``explorer``."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ]
    )
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    dependencies = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "dependencies-of-the-test.pth").write_text("\n".join(sorted(dependencies)) + "\n")
    return venv


def _listening(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX)
    try:
        probe.connect(os.fsencode(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


@pytest.mark.slow
def test_the_wheel_alone_gives_the_command_the_desktop_entry_and_the_app(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    sdist, wheel = _build(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = archive.namelist()
        entry_points = next(
            archive.read(name) for name in in_wheel if name.endswith("entry_points.txt")
        ).decode()
    with tarfile.open(sdist) as archive:
        in_sdist = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    for name in ICON_FILES:
        assert name in in_wheel and name in in_sdist, name
    for names in (in_wheel, in_sdist):
        assert not [name for name in names if name.startswith(NOT_SHIPPED)]
    assert "resnet-explorer = explorer.cli:main" in entry_points
    assert "[gui_scripts]\nresnet-explorer-gui = explorer.cli:gui_main" in entry_points

    venv = _fresh_environment(tmp_path, wheel)
    runtime = tmp_path_factory.mktemp("r")  # short: a socket's path holds 107 bytes at most
    runtime.chmod(0o700)
    work = tmp_path / "work"
    work.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(
        HOME=str(work),
        XDG_CONFIG_HOME=str(work / "config"),
        XDG_DATA_HOME=str(work / "data"),
        XDG_RUNTIME_DIR=str(runtime),
        QT_QPA_PLATFORM="offscreen",
    )
    bin_dir = venv / "bin"
    where = _run(
        [str(bin_dir / "python"), "-c", "import explorer; print(explorer.__file__)"], env=env, cwd=work
    )
    assert Path(where.stdout.strip()).is_relative_to(venv)

    summary = _run([str(bin_dir / "resnet-explorer"), "summary", "resnet50"], env=env, cwd=work)
    assert f"Params: {analyze(preset('resnet50')).totals.total_params:,} " in summary.stdout

    # The desktop entry: its icons are the wheel's, and it runs the wheel's launcher.
    _run([str(bin_dir / "resnet-explorer"), "desktop", "install"], env=env, cwd=work)
    entry = (work / "data" / "applications" / "resnet-explorer.desktop").read_text()
    assert f"Exec={bin_dir / 'resnet-explorer-gui'} %F\n" in entry
    assert (work / "data" / "icons" / "hicolor" / "512x512" / "apps" / "resnet-explorer.png").is_file()

    # The app, started as the menu entry starts it; a second launch hands it a comparison.
    spec, compared = work / "net.resnet.json", work / "pair.resnet-compare.json"
    preset("cifar/resnet20").save(spec)
    comparison = Comparison().add("small", preset("cifar/resnet20")).add("big", preset("cifar/resnet56"))
    comparison.save(compared)
    app = subprocess.Popen(
        [str(bin_dir / "resnet-explorer-gui"), str(spec)],
        env=env,
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        address = socket_path(env)
        assert address is not None
        deadline = time.monotonic() + START_WAIT_S
        while app.poll() is None and not _listening(address) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert app.poll() is None and _listening(address), app.stderr.read().decode() if app.stderr else ""
        handed = _run([str(bin_dir / "resnet-explorer-gui"), str(compared)], env=env, cwd=work)
        assert handed.stdout.strip() == f"opened {compared} in the running window"
        workspace = work / "config" / "resnet-explorer" / "comparison-workspace.json"
        deadline = time.monotonic() + START_WAIT_S
        while not (workspace.exists() and Comparison.load(workspace) == comparison):
            assert time.monotonic() < deadline, "the running window did not open the comparison"
            time.sleep(0.1)
        app.send_signal(signal.SIGTERM)  # the app saves its state and quits cleanly
        _out, err = app.communicate(timeout=60)
        assert app.returncode == 0, err.decode(errors="replace")
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
    listed = [entry.get("href") for entry in ET.parse(work / "data" / "recently-used.xbel").getroot()]
    assert listed == [file_uri(spec), file_uri(compared)]
