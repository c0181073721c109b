"""The window's part in the desktop: its files' names, the desktop's recent files, checkpoints
offered by "Open with", the icon drawn from its SVG, and Help › About saying where files live."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtGui import QIcon, QImage
from PySide6.QtWidgets import QMessageBox

import explorer.gui.panels.compare as compare_module
from explorer.core.compare import Comparison
from explorer.core.presets import preset
from explorer.desktop.install import ICON_SIZES, icon_png_name, icon_resource
from explorer.desktop.recent import file_uri
from explorer.gui import icons
from explorer.gui.app import create_window
from explorer.gui.settings import recent_files


def _reports(window) -> list[str]:  # type: ignore[no-untyped-def]
    reports: list[str] = []
    window.documents.report = lambda title, text: reports.append(f"{title}: {text}")  # type: ignore[method-assign]
    return reports


def _desktop_list(path: Path) -> dict[str, str]:
    """The entries of a recently-used.xbel: each file's URI and MIME type."""
    mime = "{http://www.freedesktop.org/standards/shared-mime-info}mime-type"
    return {
        entry.get("href", ""): entry.find(f"info/metadata/{mime}").get("type", "")  # type: ignore[union-attr]
        for entry in ET.parse(path).getroot().findall("bookmark")
    }


def test_files_opened_and_saved_join_the_desktops_recent_files(qtbot, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    desktop_list = tmp_path / "data" / "recently-used.xbel"
    window = create_window(settings, preset("resnet18"), verify=False, recently_used=desktop_list)
    qtbot.addWidget(window)
    window.finish_building()
    legacy, comparison = tmp_path / "old.json", tmp_path / "pair.resnet-compare.json"
    preset("cifar/resnet20").save(legacy)
    Comparison().add("a", preset("cifar/resnet20")).save(comparison)
    assert window.documents.open_path(legacy)
    assert window.documents.open_path(comparison)
    window.documents.ask_save_path = lambda *_args: tmp_path / "copy"  # type: ignore[method-assign]
    assert window.documents.save_as()
    saved = tmp_path / "copy.resnet.json"
    assert _desktop_list(desktop_list) == {
        file_uri(legacy): "application/json",  # a plain .json name is plain JSON to the desktop
        file_uri(comparison): "application/x-resnet-explorer-comparison",
        file_uri(saved): "application/x-resnet-explorer-spec",
    }
    # The app's own Open Recent is as it was: its list, in its settings.
    assert recent_files(settings) == [saved.resolve(), comparison.resolve(), legacy.resolve()]


def test_a_window_without_the_desktops_list_writes_none(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "net.resnet.json"
    preset("cifar/resnet20").save(spec)
    assert window.documents.open_path(spec)
    assert window.recently_used is None  # a window on throw-away settings (tests, pictures)
    assert not list(tmp_path.rglob("*.xbel"))
    assert not list(Path(os.environ["XDG_DATA_HOME"]).rglob("*.xbel"))


def test_a_checkpoint_from_open_with_is_explained_not_opened(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reports = _reports(window)
    for name in ("weights.pth", "tensors.safetensors", "model.onnx"):
        checkpoint = tmp_path / name
        checkpoint.write_bytes(b"PK\x03\x04" + b"\0" * 60)
        assert not window.documents.open_path(checkpoint)
        assert reports[-1].startswith("Cannot open a checkpoint yet"), name
        assert str(checkpoint) in reports[-1] and "Export model" in reports[-1]
    assert len(reports) == 3
    assert window.session.spec == preset("resnet18") and recent_files(window.settings) == []


def test_a_comparison_is_saved_under_a_name_the_desktop_recognises(
    qtbot, monkeypatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from explorer.gui.app import application
    from explorer.gui.session import Session
    from explorer.gui.workspace import Workspace

    application()
    session = Session(preset("resnet50"))
    panel = compare_module.ComparePanel(session, Workspace(tmp_path / "workspace.json", parent=session))
    qtbot.addWidget(panel)
    panel.add_preset("resnet18")
    asked = []

    def choose(*args):  # type: ignore[no-untyped-def]
        asked.append(args)
        return str(tmp_path / "pair"), args[3]

    monkeypatch.setattr(compare_module.QFileDialog, "getSaveFileName", choose)
    panel.save_file()
    assert asked[0][2] == "comparison.resnet-compare.json" and "*.resnet-compare.json" in asked[0][3]
    assert Comparison.load(tmp_path / "pair.resnet-compare.json") == panel.comparison


def test_the_installed_icons_are_the_svg_drawn_at_each_size() -> None:
    for size in ICON_SIZES:
        shipped = QImage.fromData(icon_resource(icon_png_name(size)))
        drawn = icons.render_app_icon(size)
        assert (shipped.width(), shipped.height()) == (size, size)
        # The same picture: at most a rounding step apart in any channel of any pixel.
        shipped = shipped.convertToFormat(QImage.Format.Format_ARGB32)
        worst = max(
            abs(a - b)
            for y in range(size)
            for x in range(0, size, max(1, size // 64))
            for a, b in zip(shipped.pixelColor(x, y).getRgb(), drawn.pixelColor(x, y).getRgb(), strict=True)
        )
        assert worst <= 2, f"{size} px: run scripts/render_icons.py after changing the SVG"


def test_the_window_wears_the_apps_icon() -> None:
    icon: QIcon = icons.app_icon()
    assert sorted(size.width() for size in icon.availableSizes()) == [s for s in ICON_SIZES if s <= 256]


def test_about_says_where_the_files_live_and_opens_that_folder(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    box = window.about_box()
    qtbot.addWidget(box)
    settings_file = Path(window.settings.fileName())
    text = box.text()
    assert str(settings_file) in text and str(window.workspace.path) in text
    assert "Where your files live" in text and "timings" in text
    opened: list[Path] = []
    window.open_folder = lambda folder: opened.append(folder) or True  # type: ignore[method-assign]
    button = next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.ActionRole)
    assert "settings folder" in button.text()
    button.click()
    assert opened == [settings_file.parent]
