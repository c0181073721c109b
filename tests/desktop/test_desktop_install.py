"""resnet-explorer desktop install / uninstall: the files written under $XDG_DATA_HOME, what the
desktop's own tools make of them, and an uninstall that leaves the folder as it was."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import explorer.cli.desktop as desktop_command
from explorer.cli import main
from explorer.core.compare import Comparison
from explorer.core.file_kind import CHECKPOINT_TYPES, COMPARISON_TYPE, FILE_TYPES, SPEC_TYPE
from explorer.core.presets import preset
from explorer.desktop import install as integration
from explorer.desktop.entry import desktop_entry, exec_argument
from explorer.desktop.mime import MIME_NAMESPACE

ON_LINUX = sys.platform.startswith("linux")
SETUP_HINT = "scripts/setup.sh test installs it"

EXPECTED_FILES = sorted(
    [
        "applications/resnet-explorer.desktop",
        "mime/packages/resnet-explorer.xml",
        *(f"icons/hicolor/{n}x{n}/apps/resnet-explorer.png" for n in (16, 22, 24, 32, 48, 64, 128, 256, 512)),
        "icons/hicolor/scalable/apps/resnet-explorer.svg",
        "resnet-explorer/desktop-integration.json",
    ]
)


def _tool(name: str, package: str) -> str:
    """The path of a desktop tool the test needs; where such tools exist (Linux) a missing one
    fails the test, since the set-up installs it."""
    found = shutil.which(name)
    if found is None:
        if not ON_LINUX:
            pytest.skip(f"{name} is a freedesktop.org tool, not found on {sys.platform}")
        pytest.fail(f"{name} is missing: apt-get install {package} ({SETUP_HINT})")
    return found


def _is_database(name: str) -> bool:
    """Whether ``name`` is one of the databases the desktop's tools build from the files."""
    return (
        name.startswith("mime/") and not name.startswith("mime/packages")
    ) or name == "applications/mimeinfo.cache"


def _tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its content (None for a folder)."""
    if not folder.exists():
        return {}
    found: dict[str, bytes | None] = {}
    for path in sorted(folder.rglob("*")):
        found[str(path.relative_to(folder))] = None if path.is_dir() else path.read_bytes()
    return found


@pytest.fixture
def launcher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the installed resnet-explorer-gui, in a folder with spaces in its name."""
    program = tmp_path / "my apps" / "resnet-explorer-gui"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    monkeypatch.setattr(desktop_command, "installed_launcher", lambda: program)
    return program


def _run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    code = main(["desktop", *arguments])
    out, err = capsys.readouterr()
    return code, out, err


def _written(out: str, data: Path) -> list[str]:
    return sorted(
        str(Path(line.split(" ", 2)[1]).relative_to(data))
        for line in out.splitlines()
        if line.startswith("wrote ")
    )


def test_install_writes_the_listed_files_and_uninstall_leaves_the_folder_as_it_was(
    tmp_path: Path, launcher: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _tool("update-mime-database", "shared-mime-info")
    _tool("update-desktop-database", "desktop-file-utils")
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    # Another program's entry, MIME package and icon: kept, and still in the databases after.
    (data / "applications").mkdir(parents=True)
    (data / "applications" / "other.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Other\nExec=other %f\nMimeType=text/x-other;\n"
    )
    (data / "mime" / "packages").mkdir(parents=True)
    (data / "mime" / "packages" / "other.xml").write_text(
        f'<?xml version="1.0"?>\n<mime-info xmlns="{MIME_NAMESPACE}"><mime-type type="text/x-other">'
        '<comment>Other</comment><glob pattern="*.other"/></mime-type></mime-info>\n'
    )
    subprocess.run(["update-mime-database", str(data / "mime")], check=True)
    subprocess.run(["update-desktop-database", str(data / "applications")], check=True)
    (data / "icons" / "hicolor" / "48x48" / "apps").mkdir(parents=True)
    (data / "icons" / "hicolor" / "48x48" / "apps" / "other.png").write_bytes(b"png")
    before = _tree(data)

    code, out, err = _run(capsys, "install")
    assert code == 0, err
    assert _written(out, data) == EXPECTED_FILES
    assert f"ran update-mime-database {data / 'mime'}" in out
    assert f"ran update-desktop-database {data / 'applications'}" in out
    after_install = _tree(data)
    assert set(EXPECTED_FILES) <= set(after_install)
    assert b"application/x-resnet-explorer-spec" in (after_install["mime/globs2"] or b"")
    assert b"resnet-explorer.desktop" in (after_install["applications/mimeinfo.cache"] or b"")
    for name, content in before.items():
        if not _is_database(name):
            assert after_install[name] == content, name  # nothing but the databases changed
    # The icons are the package's own, at their sizes.
    for size in (16, 48, 512):
        png = after_install[f"icons/hicolor/{size}x{size}/apps/resnet-explorer.png"]
        assert png == integration.icon_resource(f"resnet-explorer-{size}.png")

    code, out, err = _run(capsys, "uninstall")
    assert code == 0, err
    assert sorted(
        str(Path(line.split(" ", 1)[1]).relative_to(data))
        for line in out.splitlines()
        if line.startswith("removed /")
    ) == sorted(EXPECTED_FILES)
    after = _tree(data)
    assert set(after) == set(before)
    for name, content in before.items():
        if not _is_database(name):
            assert after[name] == content, name
    assert b"resnet-explorer" not in (after["mime/globs2"] or b"")
    assert b"resnet-explorer" not in (after["applications/mimeinfo.cache"] or b"")
    assert b"text/x-other" in (after["mime/globs2"] or b"")


def test_into_an_empty_home_and_out_again_leaves_nothing(
    tmp_path: Path, launcher: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME")  # the default: ~/.local/share, made by install
    assert _run(capsys, "install")[0] == 0
    assert (home / ".local/share/applications/resnet-explorer.desktop").is_file()
    assert _run(capsys, "install")[0] == 0  # again, over itself
    code, out, _err = _run(capsys, "uninstall")
    assert code == 0 and "folders install had made" in out
    assert list(home.iterdir()) == []
    code, out, _err = _run(capsys, "uninstall")
    assert code == 0 and out.startswith("nothing to remove")


def test_without_the_desktop_tools_the_files_are_written_and_that_is_said(
    tmp_path: Path, launcher: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setattr(integration.shutil, "which", lambda _name: None)
    code, out, _err = _run(capsys, "install")
    assert code == 0 and _written(out, data) == EXPECTED_FILES
    assert "update-mime-database not found" in out and "update-desktop-database not found" in out
    assert _run(capsys, "uninstall")[0] == 0
    assert not data.exists()


def test_the_entry_validates_and_opens_the_apps_files(
    tmp_path: Path, launcher: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    validate = _tool("desktop-file-validate", "desktop-file-utils")
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    assert _run(capsys, "install")[0] == 0
    entry = data / "applications" / "resnet-explorer.desktop"
    checked = subprocess.run([validate, str(entry)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert not re.search(r": (error|warning):", checked.stdout + checked.stderr), checked.stdout
    text = entry.read_text()
    keys = dict(line.split("=", 1) for line in text.split("\n\n")[0].splitlines()[1:])
    # The program's path has a space: quoted as one argument; %F takes the chosen files.
    assert keys["Exec"] == f'"{launcher}" %F'
    assert keys["TryExec"] == str(launcher)
    assert keys["Categories"] == "Development;Science;Education;"
    assert keys["Icon"] == "resnet-explorer" and keys["Terminal"] == "false"
    assert keys["MimeType"] == "".join(f"{kind.mime_type};" for kind in FILE_TYPES)
    assert f'Exec="{launcher}" --new-window' in text
    # The MIME package declares each of those types with its globs.
    package = ET.parse(data / "mime" / "packages" / "resnet-explorer.xml").getroot()
    declared = {
        node.get("type"): sorted(glob.get("pattern") for glob in node.findall(f"{{{MIME_NAMESPACE}}}glob"))
        for node in package.findall(f"{{{MIME_NAMESPACE}}}mime-type")
    }
    assert declared == {kind.mime_type: sorted(kind.globs) for kind in FILE_TYPES}


def _saved_files(folder: Path) -> dict[str, str]:
    spec, comparison = folder / "net.resnet.json", folder / "pair.resnet-compare.json"
    preset("cifar/resnet20").save(spec)
    Comparison().add("a", preset("cifar/resnet20")).save(comparison)
    files = {str(spec): SPEC_TYPE.mime_type, str(comparison): COMPARISON_TYPE.mime_type}
    for kind in CHECKPOINT_TYPES:
        checkpoint = folder / f"weights{kind.suffixes[0]}"
        checkpoint.write_bytes(b"\0" * 16)
        files[str(checkpoint)] = kind.mime_type
    return files


def _desktop_env(data: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("XDG_CURRENT", "KDE_", "GNOME_"))
    }
    env.update(XDG_DATA_HOME=str(data), XDG_DATA_DIRS="/usr/share", **extra)
    env.pop("DESKTOP_SESSION", None)
    return env


def test_xdg_mime_gives_a_saved_spec_the_apps_type(
    tmp_path: Path, launcher: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    xdg_mime = _tool("xdg-mime", "xdg-utils")
    _tool("mimetype", "libfile-mimeinfo-perl")  # what xdg-mime asks outside GNOME and KDE
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    assert _run(capsys, "install")[0] == 0
    spec = next(path for path, kind in _saved_files(tmp_path).items() if kind == SPEC_TYPE.mime_type)
    env = _desktop_env(data)
    found = subprocess.run([xdg_mime, "query", "filetype", spec], capture_output=True, text=True, env=env)
    assert found.stdout.strip() == SPEC_TYPE.mime_type, found.stderr
    default = subprocess.run(
        [xdg_mime, "query", "default", SPEC_TYPE.mime_type], capture_output=True, text=True, env=env
    )
    assert default.stdout.strip() == "resnet-explorer.desktop"


def test_gio_gives_each_file_the_type_the_app_declares(
    tmp_path: Path, launcher: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GLib follows the shared MIME-info specification to the letter (the longest glob wins), as
    # GNOME and KDE do; xdg-mime's own fallback reads only globs of word characters as
    # extensions, and so takes *.resnet-compare.json for plain JSON.
    gio = _tool("gio", "libglib2.0-bin")
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    assert _run(capsys, "install")[0] == 0
    env = _desktop_env(data)
    for path, expected in _saved_files(tmp_path).items():
        found = subprocess.run(
            [gio, "info", "--attributes=standard::content-type", path],
            capture_output=True,
            text=True,
            env=env,
        )
        assert f"standard::content-type: {expected}" in found.stdout, (path, found.stdout, found.stderr)


def test_mistakes_are_one_line_and_a_non_zero_exit(
    tmp_path: Path, launcher: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for arguments in ([], ["frobnicate"], ["install", "--frobnicate"]):
        with pytest.raises(SystemExit) as stopped:
            main(["desktop", *arguments])
        assert stopped.value.code == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and "resnet-explorer desktop: error:" in err
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    code, _out, err = _run(capsys, "install")
    assert code == 1 and len(err.splitlines()) == 1 and str(blocker) in err
    monkeypatch.setattr(desktop_command, "installed_launcher", lambda: None)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    code, _out, err = _run(capsys, "install")
    assert code == 2 and "cannot find the resnet-explorer-gui program" in err
    assert not (tmp_path / "data").exists()
    monkeypatch.setattr(desktop_command.os, "access", lambda *_args: False)
    code, _out, err = _run(capsys, "install", "--system")
    assert code == 2 and "/usr/local/share" in err and "sudo" in err


def test_a_relative_xdg_data_home_is_ignored_as_the_specification_says(
    tmp_path: Path, launcher: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")
    monkeypatch.chdir(tmp_path)
    code, _out, err = _run(capsys, "install")
    assert code == 0 and "is not an absolute path, so it is ignored" in err
    assert (tmp_path / ".local/share/applications/resnet-explorer.desktop").is_file()
    assert not (tmp_path / "relative").exists()
    assert _run(capsys, "uninstall")[0] == 0


def test_the_launcher_is_the_one_beside_this_python_then_on_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv_bin, elsewhere = tmp_path / "venv" / "bin", tmp_path / "elsewhere"
    for folder in (venv_bin, elsewhere):
        folder.mkdir(parents=True)
        program = folder / "resnet-explorer-gui"
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
    monkeypatch.setattr(integration.sys, "executable", str(venv_bin / "python"))
    monkeypatch.setenv("PATH", str(elsewhere))
    assert integration.installed_launcher() == venv_bin / "resnet-explorer-gui"
    (venv_bin / "resnet-explorer-gui").unlink()
    assert integration.installed_launcher() == elsewhere / "resnet-explorer-gui"
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert integration.installed_launcher() is None


@pytest.mark.parametrize(
    ("argument", "written"),
    [
        ("/opt/app/bin/resnet-explorer-gui", "/opt/app/bin/resnet-explorer-gui"),
        ("/home/a b/bin/gui", '"/home/a b/bin/gui"'),
        ('/x/"q"$`\\/gui', '"/x/\\"q\\"\\$\\`\\\\/gui"'),
        ("/x/100%/gui", "/x/100%%/gui"),
    ],
)
def test_exec_arguments_are_quoted_as_the_specification_says(argument: str, written: str) -> None:
    assert exec_argument(argument) == written


def test_an_exec_path_with_every_reserved_character_still_validates(tmp_path: Path) -> None:
    validate = _tool("desktop-file-validate", "desktop-file-utils")
    entry = tmp_path / "resnet-explorer.desktop"
    entry.write_text(desktop_entry(["/home/o'neil & co/$HOME\\bin (1)/gui%"]))
    checked = subprocess.run([validate, str(entry)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_stale_manifest_entry_outside_the_data_folder_is_never_touched(
    tmp_path: Path, launcher: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    assert _run(capsys, "install")[0] == 0
    manifest = data / "resnet-explorer" / "desktop-integration.json"
    manifest.write_text(
        manifest.read_text().replace('"files": [', '"files": [\n    "../precious.txt", "/etc/hostname",')
    )
    assert _run(capsys, "uninstall")[0] == 0
    assert outside.read_text() == "keep"
