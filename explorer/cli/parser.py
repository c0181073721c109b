"""The argument parser of every command: a mistake is one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from explorer.cli.errors import CliError
from explorer.core.ascii_numbers import parse_real_number, parse_whole_number
from explorer.core.quoting import quote_value


class CliParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, naming the command, without the usage block.

    Sub-parsers are made of the same class, so ``resnet-explorer summary --format x`` reads
    ``resnet-explorer summary: error: ...``. Values are quoted with ``quote_value`` so that a
    10,000-character argument never floods the terminal.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see '{self.prog} --help')\n")

    def reject_extras(self, extras: Sequence[str]) -> NoReturn:
        """Fail on arguments nothing took, quoting the first few of them briefly."""
        shown = ", ".join(quote_value(extra) for extra in extras[:3])
        more = f" and {len(extras) - 3} more" if len(extras) > 3 else ""
        self.error(f"unrecognized arguments: {shown}{more}")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if action.choices is not None and value not in action.choices:
            choices = ", ".join(map(str, action.choices))
            raise argparse.ArgumentError(
                action, f"invalid choice: {quote_value(value)} (choose from {choices})"
            )


def given_options(parser: argparse.ArgumentParser, arguments: Sequence[str]) -> frozenset[str]:
    """The destinations of the options ``arguments`` give ``parser``, whatever their values.

    A flag given at its default value counts as given: ``--optimizer sgd-momentum`` in
    inference mode does as little as ``--optimizer adamw``, and must be refused alike.
    """
    unset = object()
    defaults = [(action, action.default) for action in parser._actions]
    try:
        for action, _default in defaults:
            action.default = unset
        namespace, _extras = parser.parse_known_args(arguments)
    finally:
        for action, default in defaults:
            action.default = default
    return frozenset(
        action.dest for action in parser._actions if getattr(namespace, action.dest, unset) is not unset
    )


def refuse_unused(given: frozenset[str], flags: dict[str, str], applies_to: str, remedy: str) -> None:
    """``CliError`` for the first of ``flags`` (destination -> flag) that was given although it
    does nothing here: it applies to ``applies_to`` only."""
    for dest, flag in flags.items():
        if dest in given:
            raise CliError(f"{flag} applies to {applies_to} only: drop it or {remedy}")


def one_line(message: str) -> str:
    """``message`` with its line breaks turned into spaces: every error is a single line."""
    return " ".join(message.split("\n"))


def whole_number(text: str) -> int:
    """An argparse type: a whole number in the digits 0-9, its mistakes quoted briefly."""
    try:
        return parse_whole_number(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{quote_value(text)} is not a whole number in the digits 0-9, e.g. 4"
        ) from None


def real_number(text: str) -> float:
    """An argparse type: a number such as 2 or 0.5 in the digits 0-9 (limits are checked
    where it is used)."""
    try:
        return parse_real_number(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{quote_value(text)} is not a number in the digits 0-9, e.g. 0.5"
        ) from None


# A progress line left open on stderr by a run that stopped before its end (not a terminal:
# nothing can be erased there). The command's last word ends that line instead of adding one.
_open_progress: list[bool] = []


def leave_progress_open() -> None:
    _open_progress.append(True)


def close_progress() -> None:
    """End a progress line left open by a run that stopped early but whose command went on
    (a sweep that reached the memory limit)."""
    if _open_progress:
        _open_progress.clear()
        print(file=sys.stderr, flush=True)


def end_line(text: str) -> None:
    """Print ``text`` on stderr as the command's last line: after an unfinished progress line,
    on that same line, so that a stopped run says one line in all."""
    separator = " - " if _open_progress else ""
    _open_progress.clear()
    print(f"{separator}{text}", file=sys.stderr, flush=True)


def report(command: str | None, message: str) -> None:
    """Print ``message`` as the single error line of ``command``."""
    prefix = f"resnet-explorer {command}" if command else "resnet-explorer"
    end_line(f"{prefix}: error: {one_line(message)}")
