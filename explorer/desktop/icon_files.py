"""The app's icon as the package ships it: one SVG, and PNGs drawn from it at the sizes of the
hicolor icon theme (``scripts/render_icons.py`` draws them again after the SVG changes)."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable

APP_ID = "resnet-explorer"
# The hicolor theme's fixed sizes a desktop looks for, from menus (16) to launchers (512).
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICON_RESOURCES = "resources/icons"


def icon_png_name(size: int) -> str:
    return f"{APP_ID}-{size}.png"


def icon_svg_name() -> str:
    return f"{APP_ID}.svg"


def icon_file(name: str) -> Traversable:
    """An icon file shipped with the package (``explorer/resources/icons``)."""
    return resources.files("explorer") / ICON_RESOURCES / name


def icon_resource(name: str) -> bytes:
    return icon_file(name).read_bytes()
