"""resnet-explorer compare."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from explorer.cli import main
from explorer.core.analysis import analyze
from explorer.core.compare import Comparison
from explorer.core.presets import preset

NOTEBOOK = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]


def test_csv_of_the_notebook_family_has_five_rows_with_the_right_params(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["compare", *NOTEBOOK, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["variant"] for row in rows] == NOTEBOOK
    for row in rows:
        assert int(row["params"]) == analyze(preset(row["variant"])).totals.total_params
    assert rows[0]["baseline"] == "yes"


def test_table_names_the_structural_difference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "resnet50", "resnet101"]) == 0
    out = capsys.readouterr().out
    assert "resnet101 vs resnet50: stage 3 (layer3): 6 against 23 blocks" in out
    assert "+18,992,128" in out  # 42,492,480 - 23,500,352


def test_baseline_files_and_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "mine.json"
    preset("cifar/resnet56").save(config)
    saved = tmp_path / "cmp.json"
    code = main(
        [
            "compare",
            "cifar/resnet20",
            str(config),
            "--baseline",
            "2",
            "--format",
            "json",
            "--save",
            str(saved),
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["baseline"] == 1
    assert [row["variant"] for row in data["table"]] == ["cifar/resnet20", "mine"]
    assert Comparison.load(saved).variants[1].spec == preset("cifar/resnet56")


def test_bench_adds_timings(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "compare",
            "cifar/resnet20",
            "cifar/resnet32",
            "--bench",
            "--iters",
            "2",
            "--warmup",
            "0",
            "--format",
            "json",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    for row in data["table"]:
        assert row["latency_ms"]["value"] > 0
        assert row["images_per_s"]["value"] == pytest.approx(1000 / row["latency_ms"]["value"])


def test_bench_in_train_mode_times_a_training_step_of_every_variant(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["compare", "cifar/resnet20", "cifar/resnet32", "--bench", "--mode", "train"]
    options = ["--optimizer", "adamw", "--amp", "--iters", "1", "--warmup", "0", "--device", "cpu"]
    assert main([*argv, *options, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for row in data["table"]:
        assert row["train_step_ms"]["value"] > 0 and row["latency_ms"]["value"] is None
    for variant in data["variants"]:
        assert variant["bench"] is None and variant["train_bench"] is not None


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["compare", "resnet18", "resnet99"], "unknown preset 'resnet99'"),
        (["compare", "resnet18", "resnet34", "--baseline", "0"], "give a number from 1 to 2"),
        (["compare", "resnet18", "resnet34", "--bench", "--batch", "0"], "--batch 0"),
        (["compare", "resnet18", "resnet34", "--iters", "3"], "--iters applies to --bench only"),
        (["compare", "resnet18", "resnet34", "--mode", "inference"], "--mode applies to --bench only"),
        (["compare", "resnet18", "resnet34", "--bench", "--amp"], "--amp is for train mode"),
        (
            ["compare", "resnet18", "resnet34", "--bench", "--optimizer", "adamw"],
            "--optimizer applies to --mode train only",
        ),
        # The timing options are checked before any spec is read (the second one is missing).
        (["compare", "resnet18", "missing.json", "--bench", "--device", "bogus"], "'bogus' is not a device"),
    ],
)
def test_bad_input_exits_2(capsys: pytest.CaptureFixture[str], argv: list[str], words: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err
    assert len(err.strip().splitlines()) == 1


def test_one_variant_is_a_clear_line_not_a_table_of_blanks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "resnet18"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "needs two variants or more, got 1" in err


def test_a_saved_comparison_opens_and_takes_more_specs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    saved = tmp_path / "pair.json"
    assert main(["compare", "resnet18", "resnet34", "--baseline", "2", "--save", str(saved)]) == 0
    capsys.readouterr()
    assert main(["compare", "--open", str(saved), "resnet50", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["variant"] for row in rows] == ["resnet18", "resnet34", "resnet50"]
    assert [row["baseline"] for row in rows] == ["", "yes", ""]  # the saved baseline is kept


# (gui is left out: the app may open a comparison file in its Compare tab.)
@pytest.mark.parametrize("command", ["summary", "diagram", "bench", "screenshot"])
def test_a_comparison_given_as_a_spec_says_what_it_is_and_how_to_open_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    saved = tmp_path / "pair.json"
    Comparison().add("a", preset("resnet18")).add("b", preset("resnet34")).save(saved)
    extra = {"diagram": ["-o", str(tmp_path / "x.svg")], "screenshot": ["--out", str(tmp_path / "shots")]}
    assert main([command, str(saved), *extra.get(command, [])]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "is a saved comparison, not a spec" in err and "compare --open" in err
    assert "baseline" not in err
