"""resnet-explorer gui / screenshot: open the desktop app, or render it to PNG headless.

The GUI sits above the command line in the layering (it imports Qt, the command line
never does), so these commands hand over to it by module name at run time.

While the app runs, ``gui`` hands what it is given to the running window instead of opening
another (``explorer/gui/single_instance.py``); ``--new-window`` opens one of its own.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from pathlib import Path
from typing import Any

from explorer.cli.errors import CliError, RunFailed
from explorer.cli.paths import os_error_text
from explorer.cli.specargs import load_source
from explorer.core.ascii_numbers import ascii_fullmatch
from explorer.core.file_kind import checkpoint_type, is_comparison_file
from explorer.core.presets import PRESET_NAMES, SCREENSHOT_PRESET, preset
from explorer.core.quoting import quote_value
from explorer.core.spec import ArchSpec, SpecError

GUI_APP = "explorer.gui.app"
GUI_SCREENSHOT = "explorer.gui.screenshot"
GUI_SINGLE_INSTANCE = "explorer.gui.single_instance"
EXPLAIN_IN_WINDOW = "--explain-in-window"


def register(subparsers: Any) -> None:
    gui = subparsers.add_parser(
        "gui",
        help="open the desktop app (the default without a command)",
        description="Open the desktop app on a preset or a saved spec, or on the last one used.",
    )
    gui.add_argument(
        "sources",
        nargs="*",
        metavar="PRESET|FILE",
        help=(
            "default: the last spec; a spec (NAME.resnet.json), a comparison (NAME.resnet-compare.json, "
            "opened in the Compare tab); several are opened in turn"
        ),
    )
    gui.add_argument(
        "--new-window",
        action="store_true",
        help="open a window of its own even while the app runs (by default the running window "
        "opens what is given and comes to the front)",
    )
    gui.add_argument(
        EXPLAIN_IN_WINDOW,
        action="store_true",
        help="explain a file that cannot be opened in the window rather than here "
        "(what resnet-explorer-gui, the menu entry's program, does: it has no terminal)",
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


def _opening(source: str, explain_in_window: bool) -> tuple[Any, ArchSpec | None]:
    """What to open for ``source`` (a single_instance.Opening), and the spec it holds when the
    window can start on it. A file the window opens itself (a comparison, a checkpoint, with
    ``explain_in_window`` any file) is checked there; any other source is checked here, and
    a mistake is one line and exit 2 before any window opens."""
    opening = importlib.import_module(GUI_SINGLE_INSTANCE).Opening
    if source in PRESET_NAMES:
        return opening(preset=source), preset(source)
    path = Path(source)
    if checkpoint_type(path) is not None and path.is_file():
        return opening(path=path.absolute()), None
    if explain_in_window and (path.is_file() or source.endswith(".json")):
        try:
            return opening(path=path.absolute()), ArchSpec.load(path)
        except SpecError:
            return opening(path=path.absolute()), None
    if is_comparison_file(source):
        return opening(path=path.absolute()), None
    spec, spec_path = _spec_and_path(source)
    if spec_path is None:
        return opening(preset=source), spec
    return opening(path=spec_path.absolute()), spec


def run_gui(args: argparse.Namespace) -> int:
    openings = [_opening(source, args.explain_in_window) for source in args.sources]
    _check_display()
    instance = importlib.import_module(GUI_SINGLE_INSTANCE)
    claim = None
    if not args.new_window:
        try:
            claim = instance.hand_over_or_claim(instance.request_from([item for item, _spec in openings]))
        except instance.NoAnswer as exc:
            raise RunFailed(str(exc)) from None
        if claim is None:
            what = ", ".join(str(item.path or item.preset) for item, _spec in openings)
            print(
                f"opened {what} in the running window" if what else "brought the running window to the front"
            )
            return 0
    # The window starts on the first spec given (drawn first, as a remembered one would be);
    # everything after it is opened once the window is up, in order.
    first, first_spec = openings[0] if openings else (None, None)
    if first is None or first_spec is None:
        return _open_app(None, None, [item for item, _spec in openings], claim)
    rest = [item for item, _spec in openings[1:]]
    return _open_app(first_spec, first.path, rest, claim)


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
