"""resnet-explorer diagram --color-by: coloured boxes and the legend in every format."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from explorer.cli import main
from explorer.core.render.colour_by import LEGEND_ID, VIRIDIS

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")
TINY = ["--depths", "1,1", "--widths", "8,16", "--stem-width", "8", "--input", "3x16x16"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["diagram", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("metric", ["params", "macs", "activations"])
def test_static_metrics_colour_the_dot_and_draw_the_legend(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], metric: str
) -> None:
    path = tmp_path / "net.dot"
    code, out, err = run(capsys, "resnet18", "-o", str(path), "--color-by", metric, "--show-values")
    assert (code, err) == (0, "")
    text = path.read_text()
    assert f'id="{LEGEND_ID}"' in text and VIRIDIS[-1] in text
    assert f"coloured by {metric}" in out


@needs_dot
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_exports_carry_the_colours(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    plain, coloured = tmp_path / f"plain.{fmt}", tmp_path / f"coloured.{fmt}"
    assert run(capsys, "resnet18", "-o", str(plain))[0] == 0
    assert run(capsys, "resnet18", "-o", str(coloured), "--colour-by", "macs")[0] == 0
    assert plain.read_bytes() != coloured.read_bytes()
    if fmt == "svg":
        assert (
            VIRIDIS[-1].lower() in coloured.read_text().lower() and "MACs per image" in coloured.read_text()
        )


def test_latency_profiles_the_model_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "net.dot"
    args = [
        *TINY,
        "-o",
        str(path),
        "--color-by",
        "latency",
        "--device",
        "cpu",
        "--iters",
        "2",
        "--threads",
        "1",
    ]
    code, _, err = run(capsys, *args)
    assert code == 0
    assert "profiled: per-layer sum" in err
    assert "time per batch" in path.read_text()


def test_show_values_without_a_metric_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "resnet18", "-o", str(tmp_path / "n.dot"), "--show-values")
    assert code == 2 and "give --color-by too" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "extra",
    # Given at their defaults they do nothing either.
    [["--device", "cpu"], ["--iters", "3"], ["--mode", "train"], ["--device", "auto"], ["--batch", "1"], []],
)
def test_profiling_flags_without_a_profiled_metric_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    code, _, err = run(capsys, "resnet18", "-o", str(tmp_path / "n.dot"), *extra)
    if extra:
        assert code == 2 and f"{extra[0]} applies to --color-by latency or gmacs only" in err
    else:
        assert (code, err) == (0, "")
