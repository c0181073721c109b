"""A user's text as one cell of a CSV file, a Markdown table or an aligned text table.

A spreadsheet runs a cell that starts with ``= + - @`` (or a tab or carriage return
before one) as a formula, so such a cell is prefixed with a single quote, as OWASP
recommends. A line break or a ``|`` would end a table's row or cell early.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CARRIAGE_RETURN = re.compile(r"\r\n?")
_BREAKS = re.compile(r"\r\n?|[\x00-\x1f\x7f\u2028\u2029]")
_MARKDOWN_SPECIAL = re.compile(r"([\\|`*_<>\[\]])")


def csv_text(text: str) -> str:
    """``text`` that a spreadsheet shows as text, never runs as a formula.

    A carriage return becomes a line feed: the csv module quotes a cell that holds a line
    feed, but not one that holds a lone carriage return, which would end the row early.
    """
    safe = "'" + text if text.startswith(_FORMULA_START) else text
    return _CARRIAGE_RETURN.sub("\n", safe)


def one_line(text: str) -> str:
    """``text`` on one line: each line break or control character becomes a space."""
    return _BREAKS.sub(" ", text)


def markdown_text(text: str) -> str:
    """``text`` in a Markdown table cell, shown as written (no markup, no extra cell)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(text))


def markdown_code(text: str) -> str:
    """``text`` as inline code in a Markdown table cell."""
    body = one_line(text).replace("|", "\\|")
    longest = max((len(run) for run in re.findall("`+", body)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{padding}{body}{padding}{fence}"


def aligned_columns(lines: Sequence[Sequence[str]], right: Collection[int] = ()) -> list[str]:
    """The ``lines`` of cells as text, each column as wide as its widest cell (the header's
    included, so a long value never pushes the columns after it out of line), two spaces
    apart; the columns numbered in ``right`` are aligned to the right (numbers)."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))] if lines else []
    return [
        "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(line)
        ).rstrip()
        for line in lines
    ]
