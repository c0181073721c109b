"""The error of an invalid architecture, below everything that can find one (the spec's own
checks, the parts, the op shape rules) so that none of them imports another to raise it."""

from __future__ import annotations

import re

from explorer.core.quoting import quote_value

_STAGE_FIELDS = {"depths": "depth", "widths": "width", "strides": "stride"}
_INDEXED_FIELD = re.compile(r"(?P<name>[a-z_]+)\[(?P<index>\d+)\]")


def field_label(field: str) -> str:
    """``field`` in the words the app shows: ``depths[2]`` is "stage 3 depth"."""
    match = _INDEXED_FIELD.fullmatch(field)
    if match is None:
        return field if len(field) <= 40 else quote_value(field, 40)
    name, index = match.group("name"), int(match.group("index"))
    if name in _STAGE_FIELDS:
        return f"stage {index + 1} {_STAGE_FIELDS[name]}"
    if name == "input_size" and index < 2:
        return f"input {('height', 'width')[index]}"
    return field


class SpecError(ValueError):
    """An invalid architecture: ``field`` names the culprit as the code knows it
    (``depths[2]``), ``label`` as a person reads it ("stage 3 depth"), ``reason`` the fix."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.label = field_label(field)
        self.reason = reason
        super().__init__(f"{self.label}: {reason}")
