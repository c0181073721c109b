"""resnet-explorer desktop install|uninstall: the app in the desktop's menu, with its icon and
the file types it opens, as the freedesktop.org specifications describe them."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from explorer.cli.errors import CliError, RunFailed
from explorer.core.quoting import quote_value
from explorer.desktop.install import (
    LAUNCHER,
    IntegrationError,
    Outcome,
    install,
    installed_launcher,
    uninstall,
)
from explorer.desktop.xdg import SYSTEM_DATA_DIR, data_home, follows_freedesktop, ignored_data_home

ACTIONS = ("install", "uninstall")


def register(subparsers: Any) -> None:
    desktop = subparsers.add_parser(
        "desktop",
        help="add the app to the desktop's menu (entry, icon, file types), or take it out",
        description=(
            "install: write the app's desktop entry, its icon (16-512 px and SVG) and the MIME types of "
            "its files (NAME.resnet.json specs, NAME.resnet-compare.json comparisons; checkpoints offer "
            "'Open with') into $XDG_DATA_HOME (default ~/.local/share), then update the desktop's "
            "databases. uninstall: remove exactly what install wrote."
        ),
    )
    desktop.add_argument("action", choices=ACTIONS, metavar="install|uninstall")
    desktop.add_argument(
        "--system",
        action="store_true",
        help=f"for every user of this machine: into {SYSTEM_DATA_DIR} (needs root)",
    )
    desktop.set_defaults(handler=run_desktop)


def _data_dir(system: bool) -> Path:
    if not system:
        ignored = ignored_data_home()
        if ignored is not None:
            print(
                f"XDG_DATA_HOME={quote_value(ignored)} is not an absolute path, so it is ignored "
                "(as the XDG Base Directory specification says)",
                file=sys.stderr,
            )
        return data_home()
    folder = SYSTEM_DATA_DIR
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CliError(
            f"--system writes into {folder} for every user, and this account may not: run it as root "
            "(sudo), or without --system for your account only"
        )
    return folder


def _launcher() -> list[str]:
    program = installed_launcher()
    if program is None:
        raise CliError(
            f"cannot find the {LAUNCHER} program that the menu entry runs (installed with the package): "
            "install resnet-explorer (pipx install resnet-explorer, or pip install . in a checkout), "
            "then run this again"
        )
    return [str(program)]


def _report(outcome: Outcome) -> int:
    for line in outcome.done:
        print(line)
    for problem in outcome.problems:
        print(f"resnet-explorer desktop: warning: {problem}", file=sys.stderr)
    if outcome.problems:
        raise RunFailed(
            f"{len(outcome.problems)} of the desktop's databases could not be updated (see above)"
        )
    return 0


def run_desktop(args: argparse.Namespace) -> int:
    if not follows_freedesktop():
        raise CliError(
            f"desktop {args.action} follows the freedesktop.org specifications (Linux and the BSDs); "
            f"on this system ({sys.platform}) start the app with resnet-explorer or {LAUNCHER}"
        )
    data_dir = _data_dir(args.system)
    try:
        outcome = install(data_dir, _launcher()) if args.action == "install" else uninstall(data_dir)
    except IntegrationError as exc:
        raise RunFailed(str(exc)) from None
    return _report(outcome)
