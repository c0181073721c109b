"""The presets table: every column has a header and is as wide as what it holds."""

from __future__ import annotations

import re

from explorer.core.analysis import analyze
from explorer.core.presets import PRESET_NAMES, preset, preset_family
from explorer.core.render.presets_text import PRESET_COLUMNS, format_presets


def _entries() -> list[dict[str, object]]:
    """As `resnet-explorer presets --format json` gives them."""
    entries: list[dict[str, object]] = []
    for name in PRESET_NAMES:
        spec = preset(name)
        totals = analyze(spec).totals
        entries.append(
            {
                "name": name,
                "family": preset_family(name),
                "block": spec.block,
                "depths": list(spec.depths),
                "input": "x".join(map(str, spec.input_shape)),
                "params": totals.total_params,
                "macs": totals.macs,
            }
        )
    return entries


def _column_edges(line: str) -> list[tuple[int, int]]:
    """Where each cell of a line starts and ends (cells are two spaces or more apart)."""
    return [match.span() for match in re.finditer(r"\S+(?: \S+)*", line)]


def test_every_column_has_a_header_and_every_row_keeps_to_the_columns() -> None:
    header, rule, *rows = format_presets(_entries()).splitlines()
    assert len(rows) == len(PRESET_NAMES) and set(rule) == {"-"}
    headers = _column_edges(header)
    assert [header[start:end] for start, end in headers] == list(PRESET_COLUMNS)
    longest_block = max(len(preset(name).block) for name in PRESET_NAMES)
    assert longest_block == len("preact-bottleneck")
    for row in rows:
        cells = _column_edges(row)
        assert len(cells) == len(headers), row
        # Text columns start under their header, number columns end under theirs.
        for index, ((start, end), (head_start, head_end)) in enumerate(zip(cells, headers, strict=True)):
            assert (start if index < 5 else end) == (head_start if index < 5 else head_end), row
