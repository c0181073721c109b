"""Which kind of resnet-explorer file a path holds, so it can be opened where it belongs."""

from __future__ import annotations

from pathlib import Path

from explorer.core.files import read_user_bytes
from explorer.core.jsonable import parse_json_file

COMPARISON_KIND = "comparison"
# What a file that is neither says it is not, after the words saying what it is ("is empty").
NOT_A_DOCUMENT = "so it is not a spec or comparison saved by resnet-explorer"


def is_comparison_file(path: str | Path) -> bool:
    """Whether ``path`` is a regular file of JSON that says it holds a comparison.

    Anything else (a spec, a broken or unreadable file, a special file) is False: the
    spec loader then explains what is wrong with it.
    """
    try:
        data = parse_json_file(read_user_bytes(path))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("kind") == COMPARISON_KIND
