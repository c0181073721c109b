"""The app's icon as the package ships it: one SVG, and PNGs drawn from it at the sizes of the
hicolor icon theme (``scripts/render_icons.py`` draws them again after the SVG changes)."""

from __future__ import annotations

from pathlib import Path

APP_ID = "resnet-explorer"
# The hicolor theme's fixed sizes a desktop looks for, from menus (16) to launchers (512).
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICON_RESOURCES = "resources/icons"


def icon_png_name(size: int) -> str:
    return f"{APP_ID}-{size}.png"


def icon_svg_name() -> str:
    return f"{APP_ID}.svg"


def icon_file(name: str) -> Path:
    """An icon file shipped with the package (``explorer/resources/icons``). The package is
    installed as files (a wheel, an editable install), so a path beside its modules is the
    file itself; importlib.resources would add its import to the app's start."""
    return Path(__file__).resolve().parent.parent / ICON_RESOURCES / name


def icon_resource(name: str) -> bytes:
    return icon_file(name).read_bytes()
