"""resnet-explorer export: what it prints when it works, one line and exit 2 for a mistake."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from explorer.cli import export as export_cli
from explorer.cli import main, worker_run
from explorer.core.build import build_model
from explorer.core.spec import ArchSpec
from tests.cli.test_bad_input_cli import one_error_line

TINY = ["--block", "basic", "--depths", "1,1", "--widths", "8,16", "--stem-width", "8", "--input", "3x16x16"]


def test_export_py_prints_what_was_verified(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "model.py"
    assert main(["export", *TINY, "-o", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "verified: max abs difference 0 at batch 1 and 3 (bit for bit)" in out
    assert "parameters" in out and "MACs" in out
    assert path.read_text().startswith("# custom_resnet: ")


@pytest.mark.slow
def test_export_onnx_reports_the_graph_beside_the_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "model.onnx"
    assert main(["export", *TINY, "-o", str(path), "--opset", "18"]) == 0
    out, _ = capsys.readouterr()
    assert "ONNX, opset 18" in out and "(tolerance " in out
    spec_line = next(line for line in out.splitlines() if line.startswith("spec: "))
    graph_line = next(line for line in out.splitlines() if line.startswith("exported graph: "))
    assert spec_line.split(", ")[1] in graph_line  # the same MACs on both sides


def test_without_onnx_the_command_fails_naming_the_install(
    in_thread_worker: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    err = one_error_line(capsys, ["export", *TINY, "-o", str(tmp_path / "m.onnx")])
    assert "pip install 'resnet-explorer[export]'" in err
    assert not (tmp_path / "m.onnx").exists()


def test_a_mismatched_checkpoint_lists_keys_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = tmp_path / "w.pth"
    torch.save(build_model(ArchSpec(depths=(1,), widths=(8,), stem_width=8)).state_dict(), checkpoint)
    err = one_error_line(
        capsys, ["export", *TINY, "-o", str(tmp_path / "m.pt2"), "--weights", str(checkpoint)]
    )
    assert "does not match the spec" in err and "missing: layer2.0.conv1.weight" in err
    assert not (tmp_path / "m.pt2").exists()


@pytest.mark.parametrize(
    ("extra", "output", "expected"),
    [
        ([], "model.h5", "cannot tell the format"),
        (["--opset", "17"], "model.onnx", "opset must be 18 to"),
        (["--opset", "19"], "model.py", "--opset applies to ONNX only"),
        (["--opset", "18"], "model.py", "--opset applies to ONNX only"),  # the default, named
        (["--weights", "x.pth"], "model.py", "holds the code, not the weights"),
        (["--weights", "missing.pth"], "model.pt2", "cannot read"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(
    extra: list[str], output: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = one_error_line(capsys, ["export", *TINY, "-o", str(tmp_path / output), *extra])
    assert expected in err


# Valid, but far more memory than a machine has: 512 channels at 4096x4096 in every layer.
HUGE = [
    "--stem",
    "cifar",
    "--depths",
    "1,1",
    "--widths",
    "512,512",
    "--strides",
    "1,1",
    "--input",
    "3x4096x4096",
]


@pytest.mark.parametrize("suffix", [".py", ".onnx", ".pt2"])
def test_an_export_too_large_for_the_memory_is_refused_before_anything_is_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    def no_run(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("nothing may run in the worker")

    monkeypatch.setattr(worker_run, "run_job", no_run)
    assert main(["export", *HUGE, "-o", str(tmp_path / f"m{suffix}")]) == 1  # the machine's limit
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs about" in err and "GiB free" in err
    assert "--no-memory-check" in err
    assert list(tmp_path.iterdir()) == []


def test_no_memory_check_exports_what_the_check_would_refuse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_cli, "cpu_free_memory", lambda: 1)
    path = tmp_path / "m.py"
    assert main(["export", *TINY, "-o", str(path)]) == 1
    assert main(["export", *TINY, "-o", str(path), "--no-memory-check"]) == 0
    assert path.is_file() and "verified" in capsys.readouterr().out
