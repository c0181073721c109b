"""resnet-explorer profile on a tiny network on the CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explorer.cli import main
from explorer.core.analysis import analyze
from explorer.core.spec import ArchSpec

TINY = ["--depths", "1,1", "--widths", "8,16", "--stem-width", "8", "--input", "3x16x16", "--device", "cpu"]
QUICK = [*TINY, "--warmup", "1", "--iters", "3", "--threads", "1"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["profile", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_has_the_end_to_end_time_every_layer_and_the_stages(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *QUICK, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["end_to_end_ms"] > 0
    spec = ArchSpec.from_dict(data["spec"])
    assert [layer["name"] for layer in data["layers"]] == [row.name for row in analyze(spec).rows]
    for layer in data["layers"]:
        assert {"name", "time_ms", "share", "macs", "gmacs_per_s"} <= layer.keys()
    assert [stage["name"] for stage in data["stages"]] == ["stem", "layer1", "layer2", "head"]
    timed = [layer for layer in data["layers"] if layer["leaf"]]
    assert sum(stage["time_ms"] for stage in data["stages"]) == pytest.approx(
        sum(layer["time_ms"] for layer in timed)
    )


def test_text_lists_the_stages_and_the_top_layers(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *QUICK, "--top", "3")
    assert code == 0
    assert "stage" in out and "layer1" in out and "check      per-layer sum" in out
    listed = out.split("the 3 slowest layers")[1].splitlines()[3:6]
    times = [float(line.split()[2]) for line in listed]
    assert len(times) == 3 and times == sorted(times, reverse=True)
    assert err.startswith("profile:")


def test_trace_and_save_write_valid_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    trace, saved = tmp_path / "trace.json", tmp_path / "profile.json"
    code, _, _ = run(capsys, *QUICK, "--trace", str(trace), "--save", str(saved))
    assert code == 0
    events = json.loads(trace.read_text())["traceEvents"]
    data = json.loads(saved.read_text())
    timed = [layer for layer in data["layers"] if layer["leaf"]]
    assert len([event for event in events if event["ph"] == "X"]) == len(timed) * 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--iters", "0"], "--iters 0: give a whole number"),
        (["--top", "0"], "--top 0: give a whole number from 1"),
        (["--device", "tpu"], "is not a device name"),
        (["--json", "--top", "5"], "--top applies to the text output only"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run(capsys, *QUICK, *args)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_train_mode_times_forward_and_backward_of_every_layer(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *QUICK, "--classes", "4", "--batch", "2", "--mode", "train", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["mode"] == "train" and data["config"]["optimizer"] == "sgd-momentum"
    for layer in data["layers"]:
        assert layer["forward_ms"] >= 0 and layer["backward_ms"] >= 0
        assert layer["time_ms"] == pytest.approx(layer["forward_ms"] + layer["backward_ms"])
    assert data["train"]["optimizer_ms"] > 0


def test_train_mode_text_has_the_split_and_the_step_outside_the_layers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, *QUICK, "--classes", "4", "--mode", "train", "--optimizer", "adamw")
    assert code == 0
    assert "training-step profile" in out and "forward ms" in out and "backward ms" in out
    assert "optimizer " in out and "adamw" in out and "plain training step" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "train"], "needs a classifier"),
        (["--classes", "4", "--mode", "train", "--dtype", "float16"], "--dtype float16 in train mode"),
        (["--amp"], "--amp is for train mode"),
        (["--optimizer", "adamw"], "--optimizer applies to --mode train only"),
        (["--optimizer", "sgd-momentum"], "--optimizer applies to --mode train only"),  # the default
    ],
)
def test_train_mode_mistakes_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run(capsys, *QUICK, *args)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_an_unwritable_trace_is_refused_before_the_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, *QUICK, "--trace", str(tmp_path / "missing" / "t.json"))
    assert code == 2 and "--trace" in err and err.startswith("resnet-explorer profile: error:")  # nothing ran
