"""Python source laid out as ``ruff format`` lays it out (line length 88).

The generator writes its calls as small trees of expressions: a name or literal, a call, a
keyword argument, a dictionary entry, a choice between expressions and a run of alike
modules. Each is written on one line where it fits; else split at its outermost brackets
as ruff splits it: the arguments on one line of their own if they fit there, else one a
line with a trailing comma (a layout ``ruff format`` keeps, whatever the lengths).
"""

from __future__ import annotations

from dataclasses import dataclass

LINE_LENGTH = 88
INDENT = "    "


@dataclass(frozen=True)
class Atom:
    """Text that is never split: a name, a literal, an attribute."""

    text: str

    def flat(self) -> str:
        return self.text


@dataclass(frozen=True)
class Call:
    """``head(args)``, or ``head{args}`` with braces for a dictionary; ``head`` may be
    ``def name`` for a signature."""

    head: str
    args: tuple[Expr, ...] = ()
    brackets: str = "()"

    def flat(self) -> str:
        inside = ", ".join(arg.flat() for arg in self.args)
        return f"{self.head}{self.brackets[0]}{inside}{self.brackets[1]}"


@dataclass(frozen=True)
class Keyword:
    """``name=value`` in a call, or ``"name": value`` in a dictionary (``separator``)."""

    name: str
    value: Expr
    separator: str = "="

    def flat(self) -> str:
        return f"{self.name}{self.separator}{self.value.flat()}"


@dataclass(frozen=True)
class Choice:
    """``a if use_a else b``: the first option whose condition holds, else ``otherwise``."""

    options: tuple[tuple[Expr, str], ...]
    otherwise: Expr

    def flat(self) -> str:
        chosen = " else ".join(f"{expr.flat()} if {condition}" for expr, condition in self.options)
        return f"{chosen} else {self.otherwise.flat()}"


@dataclass(frozen=True)
class Repeated:
    """``*[item for _ in range(count)]``: ``count`` alike modules, made one after another."""

    item: Expr
    count: int

    def flat(self) -> str:
        return f"*[{self.item.flat()} {self.loop}]"

    @property
    def loop(self) -> str:
        return f"for _ in range({self.count})"


Expr = Atom | Call | Keyword | Choice | Repeated


def fits(line: str) -> bool:
    return len(line) <= LINE_LENGTH


def lines_of(indent: int, expr: Expr, prefix: str = "", tail: str = "") -> list[str]:
    """``prefix``, ``expr`` and ``tail`` at ``indent`` levels, split as ruff splits them."""
    pad = INDENT * indent
    one_line = f"{pad}{prefix}{expr.flat()}{tail}"
    if fits(one_line):
        return [one_line]
    if isinstance(expr, Keyword):
        return lines_of(indent, expr.value, f"{prefix}{expr.name}{expr.separator}", tail)
    if isinstance(expr, Call) and expr.args:
        opening, closing = expr.brackets[0], expr.brackets[1]
        inside = f"{pad}{INDENT}{', '.join(arg.flat() for arg in expr.args)}"
        if fits(inside):
            return [f"{pad}{prefix}{expr.head}{opening}", inside, f"{pad}{closing}{tail}"]
        lines = [f"{pad}{prefix}{expr.head}{opening}"]
        for arg in expr.args:
            lines += lines_of(indent + 1, arg, tail=",")
        return [*lines, f"{pad}{closing}{tail}"]
    if isinstance(expr, Repeated):
        inside = f"{pad}{INDENT}{expr.item.flat()} {expr.loop}"
        if fits(inside):
            return [f"{pad}{prefix}*[", inside, f"{pad}]{tail}"]
        loop = f"{pad}{INDENT}{expr.loop}"
        return [f"{pad}{prefix}*[", *lines_of(indent + 1, expr.item), loop, f"{pad}]{tail}"]
    if isinstance(expr, Choice):
        # ruff splits a choice among arguments before each ``if`` and ``else``.
        split: list[str] = []
        for option, condition in expr.options:
            split += lines_of(indent, option, "else " if split else prefix)
            split.append(f"{pad}if {condition}")
        return split + lines_of(indent, expr.otherwise, "else ", tail)
    return [one_line]  # text that cannot be split, however long


def block(indent: int, lines: list[str]) -> list[str]:
    """``lines`` (laid out at indent 0) moved ``indent`` levels in; blank lines stay empty."""
    pad = INDENT * indent
    return [f"{pad}{line}" if line else "" for line in lines]
