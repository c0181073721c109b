"""The presets as a text table: name, family, block, depths, input, parameters and MACs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from explorer.core.render.cells import aligned_columns
from explorer.core.units import format_count, format_macs

PRESET_COLUMNS = ("preset", "family", "block", "depths", "input", "params", "≈ params", "MACs")
_NUMBER_COLUMNS = frozenset({5, 6, 7})


def format_presets(entries: Sequence[Mapping[str, Any]]) -> str:
    """``entries`` (as ``resnet-explorer presets --format json`` gives them) as a table whose
    columns are as wide as what they hold."""
    body = [
        (
            entry["name"],
            entry["family"],
            entry["block"],
            ",".join(map(str, entry["depths"])),
            entry["input"],
            f"{entry['params']:,}",
            format_count(entry["params"]),
            format_macs(entry["macs"]),
        )
        for entry in entries
    ]
    header, *rows = aligned_columns([PRESET_COLUMNS, *body], right=_NUMBER_COLUMNS)
    return "\n".join([header, "-" * len(header), *rows]) + "\n"
