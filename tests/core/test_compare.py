"""Comparisons: figures, deltas, editing, the Pareto front, the structural diff, files."""

from __future__ import annotations

import json
import math
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.core.analysis import analyze
from explorer.core.compare import BenchFigures, Comparison, ComparisonError, pareto_front
from explorer.core.diff import spec_diff
from explorer.core.presets import preset
from explorer.core.render.compare_text import COMPARISON_FORMATTERS, format_comparison_json
from explorer.core.spec import ArchSpec

NOTEBOOK = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]


def _comparison(names: list[str]) -> Comparison:
    comparison = Comparison()
    for name in names:
        comparison = comparison.add(name, preset(name))
    return comparison


def test_table_figures_equal_each_variants_analysis() -> None:
    comparison = _comparison([*NOTEBOOK, "torchvision/resnet50"])
    for row in comparison.table():
        totals = analyze(row.variant.spec).totals
        assert row.cells["params"].value == totals.total_params
        assert row.cells["macs"].value == totals.macs
        assert row.cells["depth"].value == totals.depth
        assert row.cells["total_mib"].value == totals.total_size_mib
        assert row.cells["receptive_field"].value == totals.receptive_field
        assert row.cells["latency_ms"].value is None


def test_deltas_against_the_baseline_by_hand() -> None:
    small = ArchSpec(depths=(1,), widths=(4,), input_size=(4, 4))  # params 3*4*9 + 8 + block
    comparison = Comparison().add("a", small).add("b", small.with_depths((2,)))
    a, b = (analyze(v.spec).totals.total_params for v in comparison.variants)
    rows = comparison.with_baseline(1).table()
    assert rows[0].cells["params"].delta == a - b
    assert rows[0].cells["params"].delta_percent == pytest.approx(100 * (a - b) / b)
    assert rows[1].is_baseline and rows[1].cells["params"].delta == 0


def test_deltas_of_timings() -> None:
    spec = preset("cifar/resnet20")
    comparison = (
        Comparison()
        .add("x", spec)
        .add("y", spec)
        .with_bench(0, BenchFigures("cpu", 1, 10.0, 1.0, 100.0))
        .with_bench(1, BenchFigures("cpu", 1, 15.0, 1.0, 66.0))
    )
    cell = comparison.table()[1].cells["latency_ms"]
    assert (cell.value, cell.delta, cell.delta_percent) == (15.0, 5.0, 50.0)


def test_pareto_front_by_hand() -> None:
    points = [(1, 10), (2, 5), (3, 6), (4, 1), (4, 2), (1, 10)]
    # (3, 6) is beaten by (2, 5); (4, 2) by (4, 1); the two equal (1, 10) beat nobody and stay.
    assert pareto_front(points) == [0, 1, 3, 5]
    assert pareto_front([]) == []
    # With more x counted as better (compute bought with latency), (4, 1) is larger and faster
    # than every other point; of the last three, (2, 3) has less compute than (3, 2) and is slower.
    assert pareto_front(points, higher_x_is_better=True) == [3]
    assert pareto_front([(1, 1), (2, 3), (3, 2)], higher_x_is_better=True) == [0, 2]


def test_editing_keeps_the_baseline_on_its_variant() -> None:
    comparison = _comparison(["resnet18", "resnet34", "resnet50"]).with_baseline(1)
    assert comparison.move(1, 0).variants[comparison.move(1, 0).baseline].name == "resnet34"
    assert comparison.remove(0).variants[comparison.remove(0).baseline].name == "resnet34"
    duplicated = comparison.duplicate(0)
    assert [v.name for v in duplicated.variants] == ["resnet18", "resnet18 (2)", "resnet34", "resnet50"]
    assert duplicated.variants[duplicated.baseline].name == "resnet34"
    assert comparison.rename(2, "big").variants[2].name == "big"
    with pytest.raises(ComparisonError, match="already called"):
        comparison.rename(2, "resnet18")
    with pytest.raises(ComparisonError, match="no variant 9"):
        comparison.remove(8)


def test_stage_series_pad_shorter_variants() -> None:
    comparison = _comparison(["cifar/resnet20", "resnet18"])
    series = dict(comparison.stage_series("macs"))
    assert series["cifar/resnet20"][3] == 0
    assert series["resnet18"] == [stage.macs for stage in analyze(preset("resnet18")).stages]


def test_diff_of_resnet50_and_resnet101_names_stage_3_only() -> None:
    diff = spec_diff(preset("resnet50"), preset("resnet101"))
    assert diff.network_changes == ()
    assert len(diff.stage_changes) == 1
    change = diff.stage_changes[0]
    assert change.index == 2
    assert [(c.field, c.before, c.after) for c in change.changes] == [("depth", 6, 23)]
    assert "stage 3 (layer3): 6 against 23 blocks" in diff.describe()
    assert diff.layers_removed == () and diff.layers_changed == ()
    assert diff.blocks_differing_second == tuple(f"layer3.{i}" for i in range(6, 23))
    assert diff.blocks_differing_first == ()


def test_diff_of_different_blocks_and_stems() -> None:
    diff = spec_diff(preset("resnet18"), preset("torchvision/resnet50"))
    fields = {c.field for c in diff.network_changes}
    assert {"stem", "num_classes", "input_shape"} <= fields
    assert all(any(c.field == "block" for c in s.changes) for s in diff.stage_changes)
    assert spec_diff(preset("resnet18"), preset("resnet18")).identical


def test_files_round_trip_and_bad_files_are_clear(tmp_path: Path) -> None:
    comparison = _comparison(["resnet18", "cifar/resnet20"]).with_baseline(1)
    comparison = comparison.with_bench(0, BenchFigures("cpu", 2, 3.0, 0.2, 600.0))
    path = tmp_path / "cmp.json"
    comparison.save(path)
    assert Comparison.load(path) == comparison
    path.write_text(json.dumps({"kind": "comparison", "format_version": 7, "variants": []}))
    with pytest.raises(ComparisonError, match="update resnet-explorer"):
        Comparison.load(path)
    path.write_text("{")
    with pytest.raises(ComparisonError, match="not valid JSON"):
        Comparison.load(path)
    for content, words in (
        (b"", "is empty, so it is not a spec or comparison"),
        (b"\x89PNG\r\n\x1a\n", "is not a text file"),
        (b"[]", "holds a JSON list, not an object"),
    ):
        path.write_bytes(content)
        with pytest.raises(ComparisonError, match=re.escape(f"{path} {words}")):
            Comparison.load(path)
    bad = comparison.to_dict()
    bad["variants"][0]["spec"]["depths"] = [0]
    path.write_text(json.dumps(bad))
    with pytest.raises(ComparisonError, match=r"variant 1 \('resnet18'\): stage 1 depth"):
        Comparison.load(path)


_SAVE_THEN_DIE = """
import os, signal, sys
from explorer.core.compare import Comparison
from explorer.core.presets import preset
path = sys.argv[1]
comparison = Comparison.load(path).add("resnet152", preset("resnet152"))
comparison.save(path)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_saved_comparison_survives_the_process_being_killed(tmp_path: Path) -> None:
    path = tmp_path / "workspace.json"
    _comparison(["resnet18", "resnet50"]).save(path)
    result = subprocess.run([sys.executable, "-c", _SAVE_THEN_DIE, str(path)], capture_output=True)
    assert result.returncode == -signal.SIGKILL
    assert [v.name for v in Comparison.load(path).variants] == ["resnet18", "resnet50", "resnet152"]
    assert [p.name for p in tmp_path.iterdir()] == ["workspace.json"]


def _document(variants: list[dict], **fields: object) -> dict:
    return {"format_version": 1, "kind": "comparison", "baseline": 0, "variants": variants, **fields}


def _entry(name: object = "a", bench: object = None, spec: object = None) -> dict:
    return {"name": name, "spec": spec or preset("cifar/resnet20").to_dict(), "bench": bench}


_FIGURES = {"device": "cpu", "batch_size": 2, "median_ms": 3.0, "iqr_ms": 0.2, "images_per_s": 600.0}


def test_the_empty_comparison_the_app_saves_loads_and_works(tmp_path: Path) -> None:
    path = tmp_path / "workspace.json"
    Comparison().save(path)
    empty = Comparison.load(path)
    assert empty == Comparison()
    for formatter in COMPARISON_FORMATTERS.values():
        assert formatter(empty)
    assert empty.add("a", preset("cifar/resnet20")).variants[0].name == "a"
    empty.save(path)
    assert Comparison.load(path) == empty


def _refused(tmp_path: Path, document: object, words: str) -> None:
    path = tmp_path / "cmp.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    with pytest.raises(ComparisonError, match=words):
        Comparison.load(path)


@pytest.mark.parametrize(
    ("document", "words"),
    [
        (_document([], baseline=5), "baseline must be 0 when there are no variants"),
        (_document([_entry()], baseline=1), "baseline 2 is not one of the 1 variant "),
        (_document([_entry()], baseline=-1), "baseline 0 is not one of"),
        (_document([_entry()], baseline=True), "baseline must be a whole number"),
        (_document([_entry()], baseline=2.0), "baseline must be a whole number"),
        (_document([_entry(), _entry()]), "two variants are called 'a'"),
        (_document([_entry("  ")]), "needs a name"),
        (_document([_entry(7)]), "name must be text, got 7"),
        (_document([_entry("\ud800")]), "not valid Unicode"),
        (_document([_entry(bench=5)]), "'bench' must be an object or null"),
        (_document([_entry(bench={**_FIGURES, "batch_size": -5})]), "batch size -5: give a whole number"),
        (_document([_entry(bench={**_FIGURES, "batch_size": 1.9})]), "batch size 1.9"),
        (_document([_entry(bench={**_FIGURES, "batch_size": "5"})]), "batch size '5'"),
        (_document([_entry(bench={**_FIGURES, "batch_size": 2**40})]), "batch size"),
        (_document([_entry(bench={**_FIGURES, "median_ms": -1.0})]), "median_ms -1.0: give a finite number"),
        (_document([_entry(bench={**_FIGURES, "iqr_ms": "fast"})]), "iqr_ms 'fast': give a number"),
        (_document([_entry(bench={**_FIGURES, "device": ["cpu"]})]), "device must be text"),
        (_document([_entry(bench={"device": "cpu"})]), "lack batch_size, median_ms"),
        (_document([_entry(spec=5)]), r"variant 1 \('a'\): file: must hold a JSON object"),
    ],
)
def test_a_comparison_file_the_app_cannot_use_is_refused(tmp_path: Path, document: dict, words: str) -> None:
    _refused(tmp_path, document, words)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "1" + "0" * 400])
def test_non_finite_timings_are_refused(tmp_path: Path, number: str) -> None:
    text = json.dumps(_document([_entry(bench={**_FIGURES, "median_ms": 12345.5})]))
    _refused(tmp_path, text.replace("12345.5", number), "median_ms|not a number JSON allows|too large")


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        json.dumps(_document([])).replace("[]", "[" * 5000 + "]" * 5000),
        json.dumps(_document([])).replace('"baseline": 0', '"baseline": ' + "9" * 5000),
        json.dumps(_document([_entry()])).replace('"baseline": 0', '"baseline": ' + "9" * 4000),
        json.dumps(_document([_entry(name="N" * 10_000_000, spec=5)])),
    ],
    ids=["deep", "deep-variants", "huge-int", "huge-baseline", "huge-name"],
)
def test_huge_and_deep_documents_are_comparison_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cmp.json"
    path.write_text(text)
    with pytest.raises(ComparisonError) as info:
        Comparison.load(path)
    assert len(str(info.value)) < 300 + len(str(path))


def test_timings_are_checked_wherever_they_come_from() -> None:
    with pytest.raises(ComparisonError, match="median_ms nan"):
        BenchFigures("cpu", 1, math.nan, 0.0, 1.0)
    with pytest.raises(ComparisonError, match="batch size 0"):
        BenchFigures("cpu", 0, 1.0, 0.0, 1.0)
    assert BenchFigures("cpu", 1, 2, 0, 3).median_ms == 2.0


def test_a_tiny_baseline_timing_gives_no_infinite_percentage() -> None:
    spec = preset("cifar/resnet20")
    comparison = (
        Comparison()
        .add("x", spec)
        .add("y", spec)
        .with_bench(0, BenchFigures("cpu", 1, 5e-324, 0.0, 1.0))
        .with_bench(1, BenchFigures("cpu", 1, 1e300, 0.0, 1.0))
    )
    cell = comparison.table()[1].cells["latency_ms"]
    assert cell.delta_percent is None
    assert "Infinity" not in format_comparison_json(comparison)
    json.loads(format_comparison_json(comparison), parse_constant=pytest.fail)


def test_a_receptive_field_through_an_attention_gate_says_global_in_every_format() -> None:
    from dataclasses import replace

    from explorer.core.render.compare_text import COMPARISON_FORMATTERS

    plain = preset("torchvision/resnet152")
    comparison = Comparison().add("plain", plain).add("eca", replace(plain, attention="eca"))
    rows = comparison.table()
    plain_cell, eca_cell = (row.cells["receptive_field"] for row in rows)
    assert not plain_cell.whole_input and eca_cell.whole_input
    assert eca_cell.value == plain_cell.value == 1643  # the convolution path's figure, as without ECA
    table = COMPARISON_FORMATTERS["table"](comparison)
    assert "global (1,643)" in table and table.count("global") == 1
    assert "global (1,643)" in COMPARISON_FORMATTERS["markdown"](comparison)
    csv_lines = COMPARISON_FORMATTERS["csv"](comparison).splitlines()
    column = csv_lines[0].split(",").index("receptive_field_sees_whole_input")
    assert [line.split(",")[column] for line in csv_lines[1:]] == ["no", "yes"]
    data = json.loads(COMPARISON_FORMATTERS["json"](comparison))
    assert data["table"][1]["receptive_field"]["sees_whole_input"] is True
    assert "sees_whole_input" not in data["table"][0]["receptive_field"]
