"""Which kind of resnet-explorer file a path holds, so it can be opened where it belongs."""

from __future__ import annotations

import json
from pathlib import Path

COMPARISON_KIND = "comparison"


def is_comparison_file(path: str | Path) -> bool:
    """Whether ``path`` is a regular file of JSON that says it holds a comparison.

    Anything else (a spec, a broken or unreadable file, a special file) is False: the
    spec loader then explains what is wrong with it.
    """
    path = Path(path)
    try:
        if not path.is_file():
            return False
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("kind") == COMPARISON_KIND
