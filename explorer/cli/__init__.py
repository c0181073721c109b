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
from explorer.cli.parser import CliParser, close_progress, end_line, given_options, report
from explorer.cli.paths import os_error_text

# Every module of this package that defines register(subparsers) adds its commands;
# the handler each sets returns an exit code. This order is the order of the help. Each
# module's commands are named here too, so that a command is told apart from a file or a
# preset to open without importing every module.
COMMANDS_BY_MODULE: dict[str, tuple[str, ...]] = {
    "gui": ("gui", "screenshot"),
    "summary": ("summary", "presets"),
    "diagram": ("diagram",),
    "export": ("export",),
    "bench": ("bench",),
    "profile": ("profile",),
    "memory": ("memory",),
    "compare": ("compare",),
    "desktop": ("desktop",),
}
COMMANDS = frozenset(name for names in COMMANDS_BY_MODULE.values() for name in names)
GUI_MODULE = "gui"


def _command_modules() -> list[str]:
    names = [info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
    rank = {name: i for i, name in enumerate(COMMANDS_BY_MODULE)}
    return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))


def build_parser(modules: Sequence[str] | None = None) -> tuple[CliParser, dict[str, CliParser]]:
    """The parser, and each command's own parser by its name: of every command, or of the
    commands of ``modules`` alone."""
    parser = CliParser(
        prog="resnet-explorer",
        description="Explore residual network architectures: layers, shapes, parameters, MACs.",
    )
    parser.add_argument("--version", action="version", version=f"resnet-explorer {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _command_modules() if modules is None else modules:
        module = importlib.import_module(f"{__name__}.{name}")
        if hasattr(module, "register"):
            module.register(subparsers)
    return parser, dict(subparsers.choices)


def _opens_app(first: str) -> bool:
    """Whether ``resnet-explorer FIRST`` names something to open rather than a command."""
    from explorer.core.presets import PRESET_NAMES

    if first.startswith("-") or first in COMMANDS:
        return False
    return first in PRESET_NAMES or first.endswith(".json") or os.path.isfile(first)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments:
        arguments = ["gui"]  # a bare "resnet-explorer" opens the desktop app
    elif _opens_app(arguments[0]):
        # "resnet-explorer my-net.json" and "resnet-explorer resnet50" open the app on it.
        arguments.insert(0, "gui")
    # Opening the app needs its own command only: importing every command's module (the
    # benchmark's, the profiler's, the exporters') would delay the window by about 80 ms.
    parser, commands = build_parser([GUI_MODULE] if arguments[0] == "gui" else None)
    args, extras = parser.parse_known_args(arguments)
    if extras:
        commands.get(args.command, parser).reject_extras(extras)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    # Which options the command line named (not only those that differ from their defaults),
    # so that a command can refuse one that would do nothing in its mode.
    args.given = given_options(commands[args.command], arguments[arguments.index(args.command) + 1 :])
    return _run(handler, args)


def gui_main() -> int:
    """``resnet-explorer-gui``, the program the desktop entry runs: the app, or the running
    window, on the files it is given; one it cannot open is explained in the window, since
    nothing shows what a program started from a menu writes on its terminal."""
    return main(["gui", "--explain-in-window", *sys.argv[1:]])


def _user_errors() -> tuple[type[Exception], ...]:
    """The core's errors that mean the input was wrong; imported only when one is raised
    (the benchmark's module is not on the way to the window)."""
    from explorer.core.benchtypes import BenchError
    from explorer.core.compare import ComparisonError
    from explorer.core.spec import SpecError

    return SpecError, ComparisonError, BenchError


def _machine_limits() -> tuple[type[Exception], ...]:
    """The core's refusals that come from this machine's limits, not from the input: a run
    that could not be made, exit 1 as a run that failed."""
    from explorer.core.benchtypes import InsufficientMemory

    return (InsufficientMemory,)


def _run(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command; the user's mistakes, as the core reports them, become one line and exit 2."""
    try:
        code = int(handler(args))
        close_progress()
        return code
    except CliError as exc:
        report(args.command, str(exc))
    except RunFailed as exc:
        report(args.command, str(exc))
        return 1
    except BrokenPipeError:
        return 0
    except OSError as exc:
        report(args.command, os_error_text(exc))
    except KeyboardInterrupt:
        end_line(f"resnet-explorer {args.command}: interrupted")
        return 130
    except Exception as exc:
        if not isinstance(exc, _user_errors()):
            raise
        report(args.command, str(exc))
        if isinstance(exc, _machine_limits()):
            return 1
    return 2
