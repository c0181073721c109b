"""Quoting a user's value inside a one-line message, whatever its size or content."""

from __future__ import annotations

MAX_QUOTED_CHARS = 60


def quote_value(value: object, limit: int = MAX_QUOTED_CHARS) -> str:
    """``repr`` of ``value`` cut to about ``limit`` characters, on one line.

    A huge integer is never converted in full: Python refuses to make a decimal string of
    more than 4,300 digits, and a message does not need one.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        digits = int(value.bit_length() * 0.30103) + 1
        sign = "-" if value < 0 else ""
        return f"{sign}<an integer of about {digits:,} digits>"
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        text = f"<{type(value).__name__}>"
    if len(text) > limit:
        keep = max(limit - 1, 1)
        text = f"{text[: keep - keep // 4]}…{text[-(keep // 4) :]}" if keep >= 8 else text[:keep] + "…"
    return text
