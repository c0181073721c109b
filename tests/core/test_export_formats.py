"""ONNX and torch.export round trips, the weights an export carries, and failed checks
leaving no file behind."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from explorer.core.build import build_model
from explorer.core.export import source_export
from explorer.core.export.model_export import export_model
from explorer.core.export.onnx_export import onnx_modules
from explorer.core.export.result import (
    ExportError,
    ExportVerificationError,
    MissingExportDependency,
    WeightsError,
)
from explorer.core.export.verification import verify_outputs
from explorer.core.export.weights import model_with_weights, read_checkpoint
from explorer.core.presets import preset
from explorer.core.quoting import quote_value
from explorer.core.spec import ArchSpec

TINY = ArchSpec(
    block="bottleneck",
    depths=(1, 1),
    widths=(4, 8),
    stem="deep",
    stem_width=8,
    num_classes=3,
    attention="eca",
    shortcut="avg-down",
    input_size=(32, 32),
)
FAMILY_PRESETS = ["resnet18", "cifar/resnet20", "torchvision/resnet18", "timm/resnet50d"]


def _run_onnx(path: Path, x: torch.Tensor) -> torch.Tensor:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return torch.from_numpy(session.run(None, {"input": x.numpy()})[0])


def test_onnx_round_trip_at_two_batch_sizes(tmp_path: Path) -> None:
    torch.manual_seed(0)
    path = tmp_path / "tiny.onnx"
    result = export_model(TINY, path)
    assert path.is_file()
    assert "verified: max abs difference" in result.lines()[1] and "at batch 1 and 3" in result.lines()[1]
    assert result.graph_macs == result.spec_macs
    torch.manual_seed(0)
    model = build_model(TINY).eval()
    for batch in (2, 5):
        x = torch.randn(batch, *TINY.input_shape)
        with torch.no_grad():
            expected = model(x)
        got = _run_onnx(path, x)
        assert got.shape == expected.shape
        assert torch.allclose(got, expected, atol=result.verification.tolerance, rtol=0)


@pytest.mark.slow
@pytest.mark.parametrize("name", FAMILY_PRESETS)
def test_onnx_round_trip_of_each_family(name: str, tmp_path: Path) -> None:
    spec = preset(name)
    path = tmp_path / "model.onnx"
    result = export_model(spec, path)
    assert path.is_file()
    assert result.graph_macs == result.spec_macs


@pytest.mark.slow
@pytest.mark.parametrize("name", FAMILY_PRESETS)
def test_torch_export_round_trip_of_each_family(name: str, tmp_path: Path) -> None:
    spec = preset(name)
    path = tmp_path / "model.pt2"
    result = export_model(spec, path)
    assert result.graph_params == result.spec_params
    loaded = torch.export.load(path).module()
    torch.manual_seed(0)
    assert loaded(torch.randn(4, *spec.input_shape)).shape[0] == 4


@pytest.mark.slow
def test_torch_export_round_trip_at_two_batch_sizes(tmp_path: Path) -> None:
    torch.manual_seed(0)
    path = tmp_path / "tiny.pt2"
    result = export_model(TINY, path)
    assert result.graph_params == result.spec_params
    assert result.graph_macs == result.spec_macs
    torch.manual_seed(0)
    model = build_model(TINY).eval()
    loaded = torch.export.load(path).module()
    for batch in (2, 5):
        x = torch.randn(batch, *TINY.input_shape)
        with torch.no_grad():
            assert torch.equal(loaded(x), model(x))


def test_a_failed_check_leaves_no_file_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = source_export.pytorch_source
    monkeypatch.setattr(
        source_export,
        "pytorch_source",
        lambda spec: real(spec).replace("torch.flatten(", "2 * torch.flatten("),
    )
    path = tmp_path / "model.py"
    with pytest.raises(ExportVerificationError, match="differs from the model"):
        export_model(TINY, path)
    assert not path.exists()
    path.write_text("mine")
    with pytest.raises(ExportVerificationError):
        export_model(TINY, path)
    assert path.read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["model.py"]


def test_without_onnx_the_error_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingExportDependency, match=r"pip install 'resnet-explorer\[export\]'"):
        onnx_modules()


def test_an_unknown_extension_names_the_formats(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"\.py .*\.onnx .*\.pt2"):
        export_model(TINY, tmp_path / "model.h5")


def test_a_checkpoint_of_another_spec_lists_the_first_differing_keys(tmp_path: Path) -> None:
    other = replace(TINY, depths=(1, 2), num_classes=4)
    checkpoint = tmp_path / "other.pth"
    torch.save(build_model(other).state_dict(), checkpoint)
    with pytest.raises(WeightsError) as caught:
        model_with_weights(TINY, str(checkpoint))
    message = str(caught.value)
    assert "unexpected: layer2.1.conv1.weight" in message
    assert "other shape: fc.weight (4, 32) (the spec has (3, 32))" in message


def test_a_matching_checkpoint_is_what_the_export_carries(tmp_path: Path) -> None:
    trained = build_model(TINY)
    with torch.no_grad():
        for parameter in trained.parameters():
            parameter.add_(0.5)
    checkpoint = tmp_path / "trained.pth"
    torch.save({"state_dict": trained.state_dict()}, checkpoint)
    model = model_with_weights(TINY, str(checkpoint))
    for key, value in trained.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_a_hostile_checkpoint_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (Path.touch, (str(marker),))  # type: ignore[return-value]

    hostile = tmp_path / "hostile.pth"
    hostile.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(WeightsError, match="is a pickle that holds more than tensors"):
        read_checkpoint(hostile)
    assert not marker.exists()
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"\x00not a checkpoint")
    with pytest.raises(WeightsError, match="is not a PyTorch checkpoint: it is neither"):
        read_checkpoint(garbage)
    with pytest.raises(WeightsError, match="not a regular file"):
        read_checkpoint(tmp_path)
    plain = tmp_path / "list.pth"
    torch.save([1, 2], plain)
    with pytest.raises(WeightsError, match="holds no state dict"):
        read_checkpoint(plain)


def test_an_unreadable_checkpoint_is_said_in_words_never_suggesting_an_unsafe_load(tmp_path: Path) -> None:
    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("ran",))  # type: ignore[return-value]

    archive = io.BytesIO()
    torch.save({"weight": torch.zeros(1), "code": Payload()}, archive)
    cases = {
        "empty.pth": (b"", "is empty, not a PyTorch checkpoint"),
        "notes.pth": ("a text file, not weights: é\n".encode(), "is a text file, not a PyTorch checkpoint"),
        "code.pth": (archive.getvalue(), "is a pickle that holds more than tensors"),
        "cut.pth": (archive.getvalue()[:60], "is a damaged or incomplete PyTorch checkpoint"),
    }
    for name, (content, expected) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(WeightsError) as caught:
            read_checkpoint(path)
        message = str(caught.value)
        assert expected in message, message
        assert "weights_only" not in message and "False" not in message, message


def test_a_checkpoint_whose_weights_are_stored_as_integers_is_refused(tmp_path: Path) -> None:
    state = build_model(TINY).state_dict()
    key = next(name for name, tensor in state.items() if tensor.is_floating_point())
    checkpoint = tmp_path / "rounded.pth"
    torch.save({**state, key: state[key].round().to(torch.int64)}, checkpoint)
    with pytest.raises(WeightsError) as caught:
        model_with_weights(TINY, str(checkpoint))
    assert f"stores {key} as torch.int64 (whole numbers) where the spec has torch.float32" in str(
        caught.value
    )
    counter = next(name for name, tensor in state.items() if not tensor.is_floating_point())
    torch.save({**state, counter: state[counter].to(torch.float32)}, checkpoint)
    with pytest.raises(WeightsError, match=f"stores {counter} as torch.float32"):
        model_with_weights(TINY, str(checkpoint))
    # Half precision keeps the kind of number: a float16 checkpoint loads as before.
    torch.save({name: t.half() if t.is_floating_point() else t for name, t in state.items()}, checkpoint)
    model_with_weights(TINY, str(checkpoint))


# Reads a small and a large checkpoint with the address space limited to what the process
# uses plus HEADROOM: as `ulimit -v` or a container's limit would.
_UNDER_A_MEMORY_LIMIT = """
import resource, sys
from pathlib import Path
from explorer.core.export.result import WeightsError
from explorer.core.export.weights import read_checkpoint
with open("/proc/self/status") as status:
    used = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
limit = used + int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
print(len(read_checkpoint(Path(sys.argv[1]))))
try:
    read_checkpoint(Path(sys.argv[2]))
except WeightsError as exc:
    print(exc)
"""
HEADROOM = 64 * 1024**2


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the address space from /proc")
def test_under_a_memory_limit_a_checkpoint_reads_and_one_too_large_is_a_clear_error(tmp_path: Path) -> None:
    small, large = tmp_path / "small.pth", tmp_path / "large.pth"
    state = build_model(TINY).state_dict()
    torch.save(state, small)
    torch.save({"weight": torch.zeros(2 * HEADROOM // 4)}, large)
    done = subprocess.run(
        [sys.executable, "-c", _UNDER_A_MEMORY_LIMIT, str(small), str(large), str(HEADROOM)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert done.returncode == 0, done.stderr
    count, message = done.stdout.splitlines()
    assert int(count) == len(state)
    assert message == (
        f"{quote_value(str(large))} (128.00 MiB) is too large for the memory this process may use: "
        "free some memory or raise the limit (ulimit -v), then try again"
    )


def test_zero_init_zeroes_each_blocks_last_norm() -> None:
    model = model_with_weights(TINY, "zero-init")
    assert torch.count_nonzero(model.get_submodule("layer1.0.bn3").weight) == 0
    assert torch.count_nonzero(model_with_weights(TINY, "random").get_submodule("layer1.0.bn3").weight) > 0


def test_a_py_export_refuses_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="holds the code, not the weights"):
        export_model(TINY, tmp_path / "model.py", weights=str(tmp_path / "w.pth"))


def test_outputs_that_overflow_alike_pass_and_are_counted() -> None:
    class Overflowing(torch.nn.Module):
        def __init__(self, other: float) -> None:
            super().__init__()
            self.other = other

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = x.flatten(1)[:, :3].clone()
            out[:, 0] = float("nan")
            out[:, 1] = self.other
            return out

    spec = ArchSpec(depths=(1,), input_size=(4, 4))
    verification = verify_outputs(spec, Overflowing(float("inf")), Overflowing(float("inf")), "copy")
    assert verification.nonfinite == 2 * (1 + 3)
    assert "8 outputs not finite in the model, and alike in the export" in verification.describe()
    with pytest.raises(ExportVerificationError, match="not finite"):
        verify_outputs(spec, Overflowing(float("inf")), Overflowing(1.0), "copy")
