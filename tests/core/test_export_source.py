"""The standalone PyTorch source: it runs with torch alone, is ruff-clean, and computes what
``build_model`` computes, bit for bit, for every preset and kind of part."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core import parts
from explorer.core.analysis import analyze
from explorer.core.build import build_model
from explorer.core.export.pytorch_source import CUSTOM_NAME, factory_name, pytorch_source
from explorer.core.export.source_export import load_source
from explorer.core.presets import preset, presets_in
from explorer.core.spec import ArchSpec
from tests.conftest import SHARED
from tests.export_helpers import check_ruff, run_generated
from tests.oracles import notebook_namespace
from tests.strategies import small_specs

NOTEBOOK = SHARED / "notebook" / "000_9b0507a8fd8cb05e.txt"
# One preset of each family; every preset runs in the slow tests.
FAMILY_PRESETS = ["resnet18", "cifar/resnet20", "torchvision/resnet18", "timm/resnet26d"]


def _small_input(spec: ArchSpec) -> ArchSpec:
    """The spec at a small input (the network and its weights do not depend on it)."""
    side = 32 if spec.stem == "cifar" else 64
    return replace(spec, input_size=(side, side))


def _tiny(block: str, **fields: object) -> ArchSpec:
    """A small network of ``block`` with ``fields``: every kind of part at a few channels."""
    base: dict[str, object] = {
        "block": block,
        "depths": (1, 2),
        "widths": (8, 16),
        "stem": "deep",
        "stem_width": 8,
        "num_classes": 5,
        "input_size": (32, 32),
    }
    return ArchSpec(**{**base, **fields})  # type: ignore[arg-type]


def _every_kind() -> list[ArchSpec]:
    """Each block kind with each shortcut, attention, anti-aliasing, stem, stem pool,
    dilation, drop-path and zero-init."""
    specs = []
    for block, kind in parts.BLOCKS.items():
        bottleneck = {"groups": 2, "width_per_group": 32, "stride_on": "1x1"} if kind.bottleneck else {}
        specs += [
            _tiny(block, shortcut="projection", attention="se", se_ratio=0.25, stem="imagenet"),
            _tiny(block, shortcut="avg-down", attention="eca", anti_alias="blur", **bottleneck),
            _tiny(block, shortcut="zero-pad", stem="cifar", widths=(8, 16), stem_width=8, drop_path=0.3),
            _tiny(
                block,
                depths=(1, 1, 1, 1),
                widths=(8, 8, 16, 16),
                stem="deep-tiered",
                stem_pool="conv",
                anti_alias="avgpool",
                output_stride=8,
                zero_init_residual=True,
                input_size=(64, 64),
            ),
            _tiny(block, stem_pool="none", num_classes=0, depths=(2,), widths=(8,)),
        ]
    return specs


def test_every_kind_of_part_runs_in_a_fresh_interpreter_and_matches_build_model(tmp_path: Path) -> None:
    run_generated(_every_kind(), tmp_path)
    check_ruff(tmp_path)


@pytest.mark.slow
def test_one_preset_of_each_family_matches_build_model(tmp_path: Path) -> None:
    run_generated([_small_input(preset(name)) for name in FAMILY_PRESETS], tmp_path)
    check_ruff(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["notebook", "torchvision", "cifar", "timm"])
def test_every_preset_matches_build_model(family: str, tmp_path: Path) -> None:
    specs = [_small_input(preset(name)) for name in presets_in(family)]
    run_generated(specs, tmp_path)
    check_ruff(tmp_path)


@pytest.mark.slow
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(specs=st.lists(small_specs(), min_size=10, max_size=10))
def test_generated_specs_match_build_model(
    specs: list[ArchSpec], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("generated")
    run_generated(specs, folder)
    check_ruff(folder)


def test_the_source_is_the_same_bytes_in_every_interpreter() -> None:
    spec = _every_kind()[1]
    script = (
        "import sys; from explorer.core.export.pytorch_source import pytorch_source; "
        "from explorer.core.spec import ArchSpec; "
        "sys.stdout.buffer.write(pytorch_source(ArchSpec.from_json(sys.stdin.read())).encode())"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", script],
            input=spec.to_json().encode(),
            capture_output=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert outputs == {pytorch_source(spec).encode()}


def test_the_header_holds_the_spec_and_its_totals() -> None:
    spec = preset("timm/resnet50d")
    source = pytorch_source(spec)
    lines = source.split("\n")
    start, end = lines.index("# {"), lines.index("# }")
    assert ArchSpec.from_json("\n".join(line[2:] for line in lines[start : end + 1])) == spec
    totals = analyze(spec).totals
    assert f"{totals.total_params:,} parameters" in source
    assert f"{totals.macs:,} multiply-accumulates" in source
    assert "resnet-explorer" not in source and "explorer" not in source


def test_the_factory_is_named_after_the_variant() -> None:
    assert factory_name(preset("timm/resnet50d")) == "resnet50d"
    assert factory_name(preset("torchvision/wide_resnet50_2")) == "wide_resnet50_2"
    custom = replace(preset("resnet18"), depths=(1, 1))
    assert factory_name(custom) == CUSTOM_NAME
    assert f"def {CUSTOM_NAME}() -> ResNet:" in pytorch_source(custom)


def _code(source: str) -> str:
    """The source after its header comment (which names every field of the spec)."""
    return source.split("\n\nimport ", 1)[1]


def test_only_the_parts_a_spec_uses_are_written() -> None:
    plain = _code(pytorch_source(preset("resnet18")))
    for unused in (
        "SEModule",
        "EcaModule",
        "DropPath",
        "BlurPool2d",
        "ZeroPadShortcut",
        "AvgPool2dSame",
        "dilation",
        "use_aa",
        "project=",
        "groups",
        "math",
        "Bottleneck",
        "maxpool",
        "fc",
    ):
        assert unused not in plain, unused
    assert "class ResidualBlock(nn.Module):" in plain
    fancy = _code(pytorch_source(_tiny("bottleneck", attention="eca", anti_alias="blur", groups=2)))
    for used in ("EcaModule", "BlurPool2d", "use_aa", "groups=2", "math.log2"):
        assert used in fancy, used
    # A network whose blocks never change shape has no shortcut code at all.
    assert "self.shortcut" not in _code(
        pytorch_source(_tiny("basic", depths=(2,), widths=(16,), stem="cifar", stem_width=16))
    )


def test_the_notebooks_resnet50_weights_load_strictly() -> None:
    if not NOTEBOOK.is_file():
        pytest.skip(f"the notebook is not at {NOTEBOOK}")
    notebook = notebook_namespace(NOTEBOOK)
    source = pytorch_source(preset("resnet50"))
    assert "class BottleneckBlock(nn.Module):" in source
    generated = load_source(source).resnet50()
    generated.load_state_dict(notebook["resnet50"]().state_dict(), strict=True)  # type: ignore[operator]


def test_a_generated_model_trains_a_step_in_a_fresh_interpreter(tmp_path: Path) -> None:
    spec = _every_kind()[0]
    (tmp_path / "model.py").write_text(pytorch_source(spec))
    script = f"""
import sys, torch
sys.modules["explorer"] = None
sys.path.insert(0, {str(tmp_path)!r})
from model import {factory_name(spec)} as make
torch.manual_seed(0)
model = make()
before = [p.detach().clone() for p in model.parameters()]
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
x = torch.randn(4, *{spec.input_shape!r})
loss = torch.nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 2, 3]))
optimizer.zero_grad()
loss.backward()
optimizer.step()
changed = sum(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
print(loss.item(), changed, len(before))
"""
    done = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    loss, changed, total = done.stdout.split()
    assert torch.isfinite(torch.tensor(float(loss)))
    assert int(changed) == int(total)


def test_zero_init_residual_is_written_as_the_model_initialises() -> None:
    spec = _tiny("preact-bottleneck", zero_init_residual=True)
    torch.manual_seed(0)
    generated = load_source(pytorch_source(spec)).custom_resnet()
    assert torch.count_nonzero(generated.layer1[0].conv3.weight) == 0
    torch.manual_seed(0)
    assert json.dumps(sorted(generated.state_dict())) == json.dumps(sorted(build_model(spec).state_dict()))
