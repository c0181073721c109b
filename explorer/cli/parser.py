"""The argument parser of every command: a mistake is one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

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


def report(command: str | None, message: str) -> None:
    """Print ``message`` as the single error line of ``command``."""
    prefix = f"resnet-explorer {command}" if command else "resnet-explorer"
    print(f"{prefix}: error: {one_line(message)}", file=sys.stderr)
