"""Python lines laid out as ``ruff format`` lays them out (line length 88), for the calls,
signatures and lists the source generator writes."""

from __future__ import annotations

LINE_LENGTH = 88
INDENT = "    "


def call(indent: int, head: str, args: list[str], tail: str = "") -> list[str]:
    """``head(args)tail`` at ``indent`` levels: on one line if it fits, else the arguments on
    one line of their own, else one argument a line with a trailing comma.

    The arguments must be short and hold no brackets that would need splitting themselves."""
    pad = INDENT * indent
    one_line = f"{pad}{head}({', '.join(args)}){tail}"
    if len(one_line) <= LINE_LENGTH:
        return [one_line]
    inner = f"{pad}{INDENT}{', '.join(args)}"
    if len(inner) <= LINE_LENGTH:
        return [f"{pad}{head}(", inner, f"{pad}){tail}"]
    return exploded(indent, head, args, tail)


def exploded(indent: int, head: str, items: list[str], tail: str = "") -> list[str]:
    """``head(`` then one item a line with a trailing comma, then ``)tail``: a layout that
    ``ruff format`` keeps whatever the lengths (the trailing comma says so)."""
    pad = INDENT * indent
    return [f"{pad}{head}(", *(f"{pad}{INDENT}{item}," for item in items), f"{pad}){tail}"]


def block(indent: int, lines: list[str]) -> list[str]:
    """``lines`` (already laid out at indent 0) moved ``indent`` levels in; blank lines stay empty."""
    pad = INDENT * indent
    return [f"{pad}{line}" if line else "" for line in lines]
