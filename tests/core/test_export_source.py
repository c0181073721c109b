"""The standalone PyTorch source: it runs with torch alone, is ruff-clean, and computes what
``build_model`` computes, bit for bit, for every preset and kind of part."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import types
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings

from explorer.core import parts
from explorer.core import spec as spec_module
from explorer.core.analysis import analyze
from explorer.core.build import build_model
from explorer.core.export.pytorch_source import CUSTOM_NAME, factory_name, pytorch_source
from explorer.core.export.source_export import load_source
from explorer.core.parts import AttentionKind, ShortcutKind
from explorer.core.planning import BlockSite, PlanWriter
from explorer.core.presets import preset, presets_in
from explorer.core.spec import ArchSpec
from tests.conftest import SHARED
from tests.export_helpers import (
    assert_needs_only_torch,
    assert_same_state_dict_on_meta,
    assert_seeded_match,
    check_ruff,
    run_generated,
)
from tests.oracles import notebook_namespace
from tests.strategies import small_specs

NOTEBOOK = SHARED / "notebook" / "000_9b0507a8fd8cb05e.txt"
FAMILIES = ["notebook", "torchvision", "cifar", "timm"]
# One preset of each family matches seeded bit for bit in the quick tests; every preset in the slow ones.
FAMILY_PRESETS = ["resnet18", "cifar/resnet20", "torchvision/resnet18", "timm/resnet26d"]


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Each test's models on one thread: the tests run two at a time on two cores, and
    threads that wait on each other for a core make a tiny convolution take a thousand times
    as long."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _small_input(spec: ArchSpec) -> ArchSpec:
    """The spec at a small input (the network and its weights do not depend on it): every
    preset's last stage sees at least one pixel at 32x32."""
    return replace(spec, input_size=(32, 32))


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


class GeneratedPresets:
    """Each preset's source at a small input, written and loaded once for the module's tests."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._made: dict[str, tuple[ArchSpec, str, types.ModuleType]] = {}

    def __getitem__(self, name: str) -> tuple[ArchSpec, str, types.ModuleType]:
        if name not in self._made:
            spec = _small_input(preset(name))
            source = pytorch_source(spec)
            file_name = re.sub(r"\W", "_", name)
            (self.folder / f"{file_name}.py").write_text(source)
            self._made[name] = (spec, source, load_source(source))
        return self._made[name]


@pytest.fixture(scope="module")
def generated_presets(tmp_path_factory: pytest.TempPathFactory) -> GeneratedPresets:
    return GeneratedPresets(tmp_path_factory.mktemp("presets"))


def test_every_preset_has_the_models_state_dict_needs_only_torch_and_is_ruff_clean(
    generated_presets: GeneratedPresets,
) -> None:
    for family in FAMILIES:
        for name in presets_in(family):
            spec, source, module = generated_presets[name]
            assert_needs_only_torch(source)
            assert_same_state_dict_on_meta(spec, module)
    check_ruff(generated_presets.folder)


def test_one_preset_of_each_family_matches_build_model_seeded(generated_presets: GeneratedPresets) -> None:
    for name in FAMILY_PRESETS:
        spec, _, module = generated_presets[name]
        assert_seeded_match(spec, module)


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_every_preset_matches_build_model_seeded(family: str, generated_presets: GeneratedPresets) -> None:
    for name in presets_in(family):
        if name not in FAMILY_PRESETS:
            spec, _, module = generated_presets[name]
            assert_seeded_match(spec, module)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(spec=small_specs())
def test_generated_specs_match_build_model(spec: ArchSpec, tmp_path_factory: pytest.TempPathFactory) -> None:
    source = pytorch_source(spec)
    assert_needs_only_torch(source)
    assert_seeded_match(spec, load_source(source))
    folder = tmp_path_factory.mktemp("generated")
    (folder / "model.py").write_text(source)
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
    for used in ("EcaModule", "BlurPool2d", "use_aa", "groups=2", "math.comb"):
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


# A kind of part the exporter has never seen: a channel gate without a reduction (a pooled
# 1x1 conv and a sigmoid), and a shortcut that max-pools before its projection; both made of
# ops the plan already has, in arrangements of their own.


def _plan_gate(writer: PlanWriter, site: BlockSite, source: int) -> int:
    name = site.name("gate")
    channels = writer.channels(source)
    first = writer.next_index
    x = writer.same(f"{name}.pool", "mean", "attention", source)
    x = writer.conv(f"{name}.proj", "attention", x, channels, 1, bias=True)
    x = writer.same(f"{name}.act", "sigmoid", "attention", x)
    out = writer.add(
        f"{name}.mul", "mul", "attention", (source, x), in_channels=channels, out_channels=channels
    )
    writer.container(name, "module", "attention", source, first, "ChannelGate")
    return out


def _plan_max_down(writer: PlanWriter, site: BlockSite, source: int, preact: bool) -> int:
    x = source
    if site.stride > 1:
        x = writer.same(
            site.name("shortcut.0"), "maxpool", "shortcut", x, kernel_size=site.stride, stride=site.stride
        )
    return writer.conv(site.name("shortcut.1"), "shortcut", x, site.out_channels, 1)


GATE = AttentionKind(
    "gate",
    "channel gate",
    "Gates each channel by a sigmoid of a pooled 1x1 conv",
    "ChannelGate",
    False,
    _plan_gate,
)
MAX_DOWN = ShortcutKind(
    "max-down", "max-down", "Max-pools with the stride, then a 1x1 conv", True, _plan_max_down
)


@pytest.fixture
def new_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    for table, field, kind in (
        (parts.ATTENTIONS, "attention", GATE),
        (parts.SHORTCUTS, "shortcut", MAX_DOWN),
    ):
        monkeypatch.setitem(table, kind.key, kind)
        monkeypatch.setitem(parts.FIELD_KINDS[field], kind.key, kind)
    monkeypatch.setattr(spec_module, "ATTENTION_TYPES", (*spec_module.ATTENTION_TYPES, GATE.key))
    monkeypatch.setattr(spec_module, "SHORTCUT_TYPES", (*spec_module.SHORTCUT_TYPES, MAX_DOWN.key))


@pytest.mark.usefixtures("new_parts")
def test_a_new_kind_of_part_exports_and_matches_build_model(tmp_path: Path) -> None:
    specs = [
        _tiny(block, attention=GATE.key, shortcut=MAX_DOWN.key, depths=(2, 2), drop_path=0.2)
        for block in ("basic", "preact-bottleneck")
    ]
    source = pytorch_source(specs[0])
    assert "class ChannelGate(nn.Module):" in source
    assert f'"""{GATE.tooltip}"""' in source
    assert "self.gate = ChannelGate(" in source and "nn.MaxPool2d(" in source
    for spec in specs:
        assert_seeded_match(spec, load_source(pytorch_source(spec)))
    run_generated(specs, tmp_path)
    check_ruff(tmp_path)


def _string_literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_the_exporter_names_no_kind_of_part() -> None:
    tables = (
        parts.BLOCKS,
        parts.STEMS,
        parts.SHORTCUTS,
        parts.ATTENTIONS,
        parts.ANTI_ALIASES,
        parts.STEM_POOLS,
        parts.STRIDE_ON,
    )
    keys = {key for table in tables for key in table}
    export = Path(pytorch_source.__code__.co_filename).parent
    named = {path.name: sorted(_string_literals(path) & keys) for path in sorted(export.glob("*.py"))}
    assert {name: found for name, found in named.items() if found} == {}
