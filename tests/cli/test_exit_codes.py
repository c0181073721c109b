"""One rule for every command's exit status: 2 for a mistake in the input, 1 for a run that
could not be made or failed (a memory check's refusal among them: the machine's limit)."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.cli import main

TINY = ["--depths", "1,1", "--widths", "8,16", "--stem-width", "8", "--input", "3x16x16"]
QUICK = ["--device", "cpu", "--warmup", "0", "--iters", "1"]
# Valid, but far more memory than any machine has free.
HUGE_BATCH = ["--batch", "1000000000"]


def commands(tmp: Path) -> dict[str, list[str]]:
    """Each command that runs a real model, ready to run but for its batch."""
    return {
        "bench": ["bench", *TINY, *QUICK],
        "bench train": ["bench", *TINY, *QUICK, "--classes", "4", "--mode", "train"],
        "profile": ["profile", *TINY, *QUICK],
        "compare --bench": ["compare", "cifar/resnet20", "cifar/resnet32", "--bench", *QUICK],
        "diagram --color-by latency": [
            "diagram",
            *TINY,
            "-o",
            str(tmp / "n.dot"),
            "--color-by",
            "latency",
            *QUICK,
        ],
    }


@pytest.mark.parametrize(
    "name", ["bench", "bench train", "profile", "compare --bench", "diagram --color-by latency"]
)
def test_a_run_the_memory_check_refuses_exits_1_from_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert main([*commands(tmp_path)[name], *HUGE_BATCH]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "needs about" in last and "free" in last


@pytest.mark.parametrize(
    "name", ["bench", "bench train", "profile", "compare --bench", "diagram --color-by latency"]
)
def test_a_mistake_in_the_input_exits_2_from_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert main([*commands(tmp_path)[name], "--batch", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--batch 0" in err


# A valid network far too large for any machine's memory: 512 channels at 4096x4096 throughout.
HUGE_SPEC = ["--stem", "cifar", "--depths", "1,1", "--widths", "512,512", "--strides", "1,1"]
HUGE_SPEC += ["--input", "3x4096x4096"]


@pytest.mark.parametrize("command", [["export", "-o", "{tmp}/m.onnx"], ["summary", "--cross-check"]])
def test_a_network_the_memory_check_refuses_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    argv = [part.format(tmp=tmp_path) for part in command]
    assert main([*argv, *HUGE_SPEC]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "free" in err
    assert list(tmp_path.iterdir()) == []
