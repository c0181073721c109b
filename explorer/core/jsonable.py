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


def parse_json_file(data: bytes) -> Any:
    """The value of a file's bytes read as a JSON document, or ``JsonError`` saying in words
    what the file is instead: "is empty", "is not a text file", "is text, not JSON" or "is not
    valid JSON (the parser's reason)", each to follow the file's name."""
    if not data.strip():
        raise JsonError("is empty" if not data else "is empty (white space only)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonError("is not a text file (it is not UTF-8)") from None
    if "\0" in text:
        raise JsonError("is not a text file (it holds NUL bytes)")
    try:
        return parse_json(text)
    except JsonError as exc:
        if text.lstrip()[:1] not in ("{", "["):
            raise JsonError("is text, not JSON") from None
        raise JsonError(f"is not valid JSON ({exc})") from None


def json_type_name(value: Any) -> str:
    """What JSON calls the type of a parsed value: "list", "string", "number"..."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "number"
    names = {dict: "object", list: "list", str: "string", type(None): "null"}
    return names.get(type(value), type(value).__name__)


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
