"""resnet-explorer's command line: one sub-command per module, all on the core."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Callable, Sequence

from explorer import __version__
from explorer.cli.errors import CliError, RunFailed
from explorer.cli.parser import CliParser, report
from explorer.cli.paths import os_error_text

# Every module of this package that defines register(subparsers) adds its commands;
# the handler each sets returns an exit code. This order is the order of the help.
COMMAND_ORDER = (
    "gui",
    "summary",
    "diagram",
    "export",
    "bench",
    "profile",
    "memory",
    "compare",
    "screenshot",
)


def _command_modules() -> list[str]:
    names = [info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
    rank = {name: i for i, name in enumerate(COMMAND_ORDER)}
    return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))


def build_parser() -> tuple[CliParser, dict[str, CliParser]]:
    """The parser, and each command's own parser by its name."""
    parser = CliParser(
        prog="resnet-explorer",
        description="Explore residual network architectures: layers, shapes, parameters, MACs.",
    )
    parser.add_argument("--version", action="version", version=f"resnet-explorer {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _command_modules():
        module = importlib.import_module(f"{__name__}.{name}")
        if hasattr(module, "register"):
            module.register(subparsers)
    return parser, dict(subparsers.choices)


def _opens_app(first: str, commands: dict[str, CliParser]) -> bool:
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
    args, extras = parser.parse_known_args(arguments)
    if extras:
        commands.get(args.command, parser).reject_extras(extras)
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
    return _run(handler, args)


def _run(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command; the user's mistakes, as the core reports them, become one line and exit 2."""
    from explorer.core.benchtypes import BenchError
    from explorer.core.compare import ComparisonError
    from explorer.core.spec import SpecError

    try:
        return int(handler(args))
    except (CliError, SpecError, ComparisonError, BenchError) as exc:
        report(args.command, str(exc))
    except RunFailed as exc:
        report(args.command, str(exc))
        return 1
    except BrokenPipeError:
        return 0
    except OSError as exc:
        report(args.command, os_error_text(exc))
    except KeyboardInterrupt:
        print(f"resnet-explorer {args.command}: interrupted", file=sys.stderr)
        return 130
    return 2
