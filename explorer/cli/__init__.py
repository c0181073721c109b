"""resnet-explorer's command line: one sub-command per module, all on the core."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

from explorer import __version__
from explorer.cli.errors import CliError

# Every module of this package that defines register(subparsers) adds its commands;
# the handler each sets returns an exit code. This order is the order of the help.
COMMAND_ORDER = ("gui", "summary", "diagram", "bench", "compare", "screenshot")


def _command_modules() -> list[str]:
    names = [info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
    rank = {name: i for i, name in enumerate(COMMAND_ORDER)}
    return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))


def build_parser() -> tuple[argparse.ArgumentParser, set[str]]:
    """The parser, and the names of its commands."""
    parser = argparse.ArgumentParser(
        prog="resnet-explorer",
        description="Explore residual network architectures: layers, shapes, parameters, MACs.",
    )
    parser.add_argument("--version", action="version", version=f"resnet-explorer {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _command_modules():
        module = importlib.import_module(f"{__name__}.{name}")
        if hasattr(module, "register"):
            module.register(subparsers)
    return parser, set(subparsers.choices)


def _opens_app(first: str, commands: set[str]) -> bool:
    """Whether ``resnet-explorer FIRST`` names something to open rather than a command."""
    from explorer.core.presets import PRESET_NAMES

    if first.startswith("-") or first in commands:
        return False
    return first in PRESET_NAMES or first.endswith(".json") or os.path.isfile(first)


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and _opens_app(arguments[0], commands):
        # "resnet-explorer my-net.json" and "resnet-explorer resnet50" open the app on it.
        arguments.insert(0, "gui")
    args = parser.parse_args(arguments)
    handler = getattr(args, "handler", None)
    if handler is None:
        if args.command is None:
            # A bare "resnet-explorer" opens the desktop app.
            from explorer.cli.gui import run_gui

            args.command = "gui"
            handler = run_gui
        else:
            parser.print_help()
            return 0
    try:
        return int(handler(args))
    except CliError as exc:
        print(f"resnet-explorer {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
