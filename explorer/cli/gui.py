"""resnet-explorer gui / screenshot: open the desktop app, or render it to PNG headless.

The GUI sits above the command line in the layering (it imports Qt, the command line
never does), so these commands hand over to it by module name at run time.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from pathlib import Path
from typing import Any

from explorer.cli.errors import CliError
from explorer.cli.paths import os_error_text
from explorer.cli.specargs import load_source
from explorer.core.ascii_numbers import ascii_fullmatch
from explorer.core.file_kind import is_comparison_file
from explorer.core.presets import PRESET_NAMES, SCREENSHOT_PRESET, preset
from explorer.core.quoting import quote_value
from explorer.core.spec import ArchSpec

GUI_APP = "explorer.gui.app"
GUI_SCREENSHOT = "explorer.gui.screenshot"


def register(subparsers: Any) -> None:
    gui = subparsers.add_parser(
        "gui",
        help="open the desktop app (the default without a command)",
        description="Open the desktop app on a preset or a saved spec, or on the last one used.",
    )
    gui.add_argument(
        "source",
        nargs="?",
        metavar="PRESET|CONFIG.json",
        help="default: the last spec; a comparison file opens in the Compare tab",
    )
    gui.set_defaults(handler=run_gui)

    shot = subparsers.add_parser(
        "screenshot",
        help="render the main window and each tab to PNG, headless",
        description="Render the main window and each of its tabs to PNG files, without a display.",
    )
    shot.add_argument("source", nargs="?", metavar="PRESET|CONFIG.json", help=f"default: {SCREENSHOT_PRESET}")
    shot.add_argument("--out", required=True, metavar="DIR", help="folder for the PNG files")
    shot.add_argument("--size", default="1280x800", metavar="WxH", help="window size (default 1280x800)")
    shot.set_defaults(handler=run_screenshot)


def _spec_and_path(source: str | None) -> tuple[ArchSpec | None, Path | None]:
    if source is None:
        return None, None
    spec = load_source(source)
    path = None if source in PRESET_NAMES else Path(source)
    return spec, path


def _check_display() -> None:
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    ):
        raise CliError(
            "no display to open the window on (DISPLAY is not set); run it in a desktop session, "
            "or use 'resnet-explorer screenshot --out DIR' and the other commands, which work headless"
        )


def run_gui(args: argparse.Namespace) -> int:
    source = getattr(args, "source", None)
    if source is not None and is_comparison_file(source):
        # The window opens on the last spec, with this comparison in its Compare tab.
        _check_display()
        return _open_app(None, None, comparison=Path(source))
    spec, path = _spec_and_path(source)
    _check_display()
    return _open_app(spec, path)


def _open_app(*args: Any, **kwargs: Any) -> int:
    # On the way to the window Python's collector runs about 80 times (15 ms) and finds
    # nothing to free; it waits until the window is up, when the app collects once and
    # freezes what exists.
    gc.disable()
    try:
        return int(importlib.import_module(GUI_APP).main(*args, **kwargs))
    finally:
        gc.enable()


def _size(text: str) -> tuple[int, int]:
    match = ascii_fullmatch(r"\s*(\d{1,9})\s*[xX]\s*(\d{1,9})\s*", text)
    if not match:
        raise CliError(f"--size {quote_value(text)}: give width x height in pixels, e.g. 1280x800")
    width, height = int(match.group(1)), int(match.group(2))
    if not (400 <= width <= 8000 and 300 <= height <= 8000):
        raise CliError(f"--size {quote_value(text)}: width and height must be between 400x300 and 8000x8000")
    return width, height


def run_screenshot(args: argparse.Namespace) -> int:
    size = _size(args.size)
    spec, path = _spec_and_path(args.source)
    if spec is None:
        spec = preset(SCREENSHOT_PRESET)
    if not args.out.strip():
        raise CliError(f"--out {quote_value(args.out)}: give a folder for the pictures")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"--out cannot create the folder {os_error_text(exc, args.out)}") from None
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    written = importlib.import_module(GUI_SCREENSHOT).take_screenshots(out, spec, path, size)
    for file in written:
        print(file)
    return 0
