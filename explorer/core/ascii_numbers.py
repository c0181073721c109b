"""Numbers a person types, read from ASCII digits only.

Python's ``int`` and ``float`` take the decimal digits of every script ("١٨" is 18, "３" is
3), so a flag or a field would accept a number the person may not see as one, or a value
pasted from somewhere else would change meaning silently. Every number read from text
(flags, typed sizes, shapes) goes through here; a spec file's numbers are JSON's, which
are ASCII already.
"""

from __future__ import annotations

import re


def _require_ascii(text: str, what: str) -> None:
    if not text.isascii():
        raise ValueError(f"{text!r} is not {what} written in the digits 0-9")


def parse_whole_number(text: str) -> int:
    """``int(text)`` for text in ASCII only; ``ValueError`` for anything else."""
    _require_ascii(text, "a whole number")
    return int(text)


def parse_real_number(text: str) -> float:
    """``float(text)`` for text in ASCII only; ``ValueError`` for anything else."""
    _require_ascii(text, "a number")
    return float(text)


def ascii_fullmatch(pattern: str, text: str) -> re.Match[str] | None:
    """``re.fullmatch`` with ``\\d`` and ``\\s`` meaning ASCII digits and spaces only."""
    return re.fullmatch(pattern, text, re.ASCII)
