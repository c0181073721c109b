"""A quick slice of the malformed-input campaign (benchmarks/malformed_inputs.py runs all of it)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.malformed_inputs import Case, cases_for, run_campaign

# Inputs whose safety is the spec loader's own (special files, huge numbers and deep nesting inside
# a file): the whole campaign replays them; this slice keeps to what the command line decides.
LOADER_INPUTS = {
    "FIFO",
    "symlink to /dev/zero",
    "huge integer",
    "huge negative integer",
    "huge format version",
    "deep nesting",
    "deep nesting in a field",
}


def one_case_per_group(cases: list[Case]) -> list[Case]:
    """From each group, one case, a different position in each so that the slice varies."""
    groups: dict[str, list[Case]] = {}
    for case in cases:
        if case.label not in LOADER_INPUTS:
            groups.setdefault(case.group, []).append(case)
    return [members[number % len(members)] for number, members in enumerate(groups.values())]


def test_a_slice_of_every_group_is_one_line_exit_2_and_leaves_nothing(tmp_path: Path) -> None:
    chosen = one_case_per_group(cases_for(tmp_path / "inputs"))
    assert len(chosen) >= 40
    outcomes = run_campaign(chosen, jobs=2, timeout_s=60)
    failures = [f"{o.case.name}: {'; '.join(o.problems)}" for o in outcomes if not o.ok]
    assert failures == []
