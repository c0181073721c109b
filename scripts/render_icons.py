"""Draw the app's PNG icons from its SVG (explorer/resources/icons/resnet-explorer.svg).

Run it after changing the SVG: python scripts/render_icons.py
The PNGs are shipped rather than drawn at install time, so that installing the desktop entry
needs no Qt; tests/gui/test_icons.py checks that they are the SVG's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtGui import QGuiApplication

from explorer.desktop.icon_files import ICON_RESOURCES, ICON_SIZES, icon_png_name
from explorer.gui.icons import render_app_icon


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    folder = Path(__file__).resolve().parent.parent / "explorer" / ICON_RESOURCES
    for size in ICON_SIZES:
        path = folder / icon_png_name(size)
        if not render_app_icon(size).save(str(path), "PNG", 9):
            print(f"cannot write {path}", file=sys.stderr)
            return 1
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
