"""resnet-explorer gui / screenshot from the command line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from explorer.cli import main
from explorer.gui.main_window import TABS

PROGRAM = Path(sys.executable).parent / "resnet-explorer"


@pytest.mark.slow
def test_screenshot_renders_the_window_and_each_tab(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
    }
    done = subprocess.run(
        [str(PROGRAM), "screenshot", "--out", str(out), "--size", "1024x700", "cifar/resnet20"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    names = sorted(Path(line).name for line in done.stdout.split())
    tabs = [f"tab-{re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')}.png" for title, _ in TABS]
    assert names == sorted(["main-window.png", *tabs])
    assert "tab-layers.png" in names and "tab-charts.png" in names
    for name in names:
        image = QImage(str(out / name))
        assert (image.width(), image.height()) == (1024, 700)
    assert not (tmp_path / "resnet-explorer").exists()  # the user's settings were not touched


def test_a_bad_size_is_one_clear_line(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["screenshot", "--out", "x", "--size", "big"]) == 2
    assert "--size 'big': give width x height in pixels, e.g. 1280x800" in capsys.readouterr().err


def test_an_unknown_preset_is_one_clear_line(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["gui", "resnet51"]) == 2
    assert "unknown preset 'resnet51'" in capsys.readouterr().err


def test_without_a_display_the_app_says_what_to_do(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "no display" in err and "screenshot" in err


def test_a_spec_without_a_command_opens_the_app_on_it(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import importlib

    from explorer.core.presets import preset

    opened = []

    def fake_main(spec, path, then_open, instance):  # type: ignore[no-untyped-def]
        instance.release()
        opened.append((spec, path, list(then_open)))
        return 0

    gui_app = importlib.import_module("explorer.gui.app")
    monkeypatch.setattr(gui_app, "main", fake_main)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    config = tmp_path / "mine.json"
    preset("cifar/resnet56").save(config)
    assert main([str(config)]) == 0
    assert main(["torchvision/resnet50"]) == 0
    assert opened == [(preset("cifar/resnet56"), config, []), (preset("torchvision/resnet50"), None, [])]


def test_a_command_name_is_never_taken_for_a_spec(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["presets", "--format", "json"]) == 0
    import pytest

    with pytest.raises(SystemExit) as stopped:
        main(["nonsense"])
    assert stopped.value.code == 2
    assert "invalid choice: 'nonsense'" in capsys.readouterr().err


def test_every_command_is_named_beside_the_module_that_registers_it() -> None:
    from explorer.cli import COMMANDS_BY_MODULE, build_parser

    for module, names in COMMANDS_BY_MODULE.items():
        _, commands = build_parser([module])
        assert tuple(commands) == names, module
    _, every = build_parser()
    assert set(every) == {name for names in COMMANDS_BY_MODULE.values() for name in names}


# Opens the app with its window replaced by a report of the command modules imported.
_MODULES_ON_THE_WAY_TO_THE_WINDOW = r"""
import importlib, sys
gui_app = importlib.import_module("explorer.gui.app")
gui_app.main = lambda *args, **kwargs: print(
    " ".join(sorted(name for name in sys.modules if name.startswith(("explorer.cli.", "explorer.core."))))
) or 0
from explorer.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("arguments", [[], ["gui"], ["cifar/resnet20"]])
def test_opening_the_app_imports_no_other_command(arguments: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", _MODULES_ON_THE_WAY_TO_THE_WINDOW, *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    imported = set(done.stdout.split())
    assert "explorer.cli.gui" in imported
    commands = ("summary", "bench", "profile", "memory", "compare", "export")
    others = {f"explorer.cli.{name}" for name in commands}
    assert not imported & others
    assert "explorer.core.benchtypes" not in imported  # the errors the command line reports
