"""Turning frozen records into plain JSON values."""

from __future__ import annotations

from typing import Any


def plain(value: Any) -> Any:
    """``dataclasses.asdict`` output with tuples as lists, ready for ``json.dumps``."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value
