"""Turning frozen records into plain JSON values, and reading JSON text strictly."""

from __future__ import annotations

import json
import math
from typing import Any

from explorer.core.quoting import quote_value


def plain(value: Any) -> Any:
    """``dataclasses.asdict`` output with tuples as lists, ready for ``json.dumps``."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


# Python refuses to turn more digits than this into an int (sys.get_int_max_str_digits).
MAX_INTEGER_DIGITS = 4300


class JsonError(ValueError):
    """Text that is not a JSON document this app reads; the message says why."""


def parse_json(text: str) -> Any:
    """The value of the JSON document ``text``, or ``JsonError``, whatever the text.

    Strict JSON: refused are ``NaN``, ``Infinity``, numbers too large for a float,
    integers too long for Python to convert and nesting deeper than its recursion limit.
    """
    try:
        return json.loads(text, parse_int=_integer, parse_float=_finite, parse_constant=_refuse_constant)
    except JsonError:
        raise
    except RecursionError:
        raise JsonError("it is nested too deeply") from None
    except ValueError as exc:  # json.JSONDecodeError and anything the parser lets through
        raise JsonError(str(exc)) from None


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise JsonError(
            f"it holds a whole number of {len(digits.lstrip('-')):,} digits, far more than "
            "any value in a resnet-explorer file"
        )
    return int(digits)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonError(f"the number {quote_value(text)} is too large: give a finite number")
    return value


def _refuse_constant(name: str) -> Any:
    raise JsonError(f"{name} is not a number JSON allows: give a finite number")
