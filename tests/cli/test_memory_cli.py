"""resnet-explorer memory: the predicted training-step memory, as text and as JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from explorer.cli import main
from explorer.core.presets import preset
from explorer.core.spec import ArchSpec
from explorer.core.training_memory import largest_batch_that_fits, predict_training_memory
from explorer.core.units import format_bytes


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_has_the_totals_and_the_stages(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "memory", "torchvision/resnet50", "--batch", "16", "--optimizer", "adamw", "--json"
    )
    assert (code, err) == (0, "")
    result = json.loads(out)
    expected = predict_training_memory(preset("torchvision/resnet50"), 16, "adamw")
    for key in (
        "saved_activation_bytes",
        "param_bytes",
        "grad_bytes",
        "optimizer_state_bytes",
        "total_bytes",
    ):
        assert result[key] == getattr(expected, key)
    assert result["batch"] == 16
    assert result["preset"] == "torchvision/resnet50"
    assert [row["name"] for row in result["stages"]] == [
        "stem",
        "layer1",
        "layer2",
        "layer3",
        "layer4",
        "head",
    ]
    assert sum(row["saved_bytes"] for row in result["stages"]) == result["saved_activation_bytes"]
    assert "max_batch" not in result


@pytest.mark.parametrize(
    ("size", "in_bytes"),
    [
        ("24GiB", 24 * 1024**3),
        ("8GB", 8 * 10**9),
        ("1.5e9", 1_500_000_000),
        ("1EiB", 1024**6),
        ("2PB", 2 * 10**15),
    ],
)
def test_fit_gives_the_largest_batch(capsys: pytest.CaptureFixture[str], size: str, in_bytes: int) -> None:
    code, out, _ = run(
        capsys, "memory", "torchvision/resnet18", "--dtype", "float16", "--fit", size, "--json"
    )
    assert code == 0
    result = json.loads(out)
    assert result["fit_bytes"] == in_bytes
    assert result["max_batch"] == largest_batch_that_fits(
        preset("torchvision/resnet18"), in_bytes, precision="float16"
    )
    assert result["max_batch"] > 0


def test_text_shows_stages_totals_what_is_counted_and_the_fit(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "memory", "torchvision/resnet50", "--batch", "32", "--fit", "24GiB")
    assert code == 0
    memory = predict_training_memory(preset("torchvision/resnet50"), 32)
    for group in memory.stages:
        assert any(
            line.split()[:1] == [group.name] and format_bytes(group.saved_bytes) in line
            for line in out.splitlines()
        )
    assert format_bytes(memory.total_bytes) in out
    assert "Not counted:" in out and "cuDNN workspaces" in out
    best = largest_batch_that_fits(preset("torchvision/resnet50"), 24 * 1024**3)
    assert f"Largest batch that fits in 24.00 GiB: {best}" in out


def test_spec_flags_change_the_prediction(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "memory", "torchvision/resnet18", "--attention", "se", "--input", "3x64x64", "--json"
    )
    assert code == 0
    spec = ArchSpec(
        block="basic",
        depths=(2, 2, 2, 2),
        stem="imagenet",
        num_classes=1000,
        attention="se",
        input_size=(64, 64),
    )
    assert json.loads(out)["saved_activation_bytes"] == predict_training_memory(spec).saved_activation_bytes


def test_nothing_fits_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "memory", "resnet18", "--fit", "1KiB")
    assert code == 0
    assert "none (even batch 1 needs more)" in out


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--fit", "24G"], "--fit"),
        (["--fit", "lots"], "--fit"),
        (["--fit", "1e30"], "--fit"),
        (["--batch", "0"], "--batch"),
        (["--batch", "two"], "--batch"),
        (["--optimizer", "adam"], "--optimizer"),
        (["--dtype", "float64"], "--dtype"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], named: str
) -> None:
    try:
        code = main(["memory", "resnet18", *argv])
    except SystemExit as exit_:  # argparse's own checks (choices, whole numbers) exit directly
        code = int(exit_.code or 0)
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1
    assert named in err
    assert "Traceback" not in err


def test_runs_as_a_real_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "explorer", "memory", "cifar/resnet20", "--fit", "512MiB", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["max_batch"] > 0
    bad = subprocess.run(
        [sys.executable, "-m", "explorer", "memory", "cifar/resnet20", "--fit", "big"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("resnet-explorer memory: error: --fit")


def _block_after(lines: list[str], title: str) -> list[str]:
    start = lines.index(title) + 1
    return lines[start : lines.index("", start)]


def test_the_figures_stay_in_their_column_however_large(capsys: pytest.CaptureFixture[str]) -> None:
    # A batch as large as the prediction takes: hundreds of thousands of TiB.
    code, out, _ = run(capsys, "memory", "resnet18", "--batch", "99999999999")
    assert code == 0
    lines = out.splitlines()
    stages, totals = _block_after(lines, "Saved activations per stage"), _block_after(lines, "Totals")
    assert any(len(" ".join(line.split()[-2:])) > 12 for line in totals)  # wider than a figure usually is
    # Right-aligned figures: every line of a block ends in the same column.
    assert len({len(line) for line in stages}) == 1 and len({len(line) for line in totals}) == 1
