"""The analysis against forward hooks and FlopCounterMode on the built module."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from explorer.core.analysis import analyze
from explorer.core.build import build_model
from explorer.core.presets import preset
from explorer.core.spec import ArchSpec
from tests.oracles import flops_by_module, hooked_rows
from tests.strategies import small_specs

PRESETS = [
    "resnet18",
    "resnet50",
    "torchvision/resnet18",
    "torchvision/resnext50_32x4d",
    "cifar/resnet20",
    "timm/resnetrs50",
    "timm/ecaresnet50d",
    "timm/resnetblur50",
    "timm/resnetv2_50d",
]


def _check_hooks(spec: ArchSpec) -> None:
    analysis = analyze(spec)
    expected = [(row.name, row.type, row.output_shape, row.params) for row in analysis.summary_rows]
    assert hooked_rows(build_model(spec), spec.input_shape) == expected
    model = build_model(spec, "meta")
    assert sum(p.numel() for p in model.parameters()) == analysis.totals.total_params


def _check_flops(spec: ArchSpec) -> None:
    analysis = analyze(spec)
    flops = flops_by_module(build_model(spec), spec.input_shape)
    assert flops[""] == 2 * analysis.totals.macs
    for row in analysis.rows:
        # Every module's own count: convs, the 1-d conv of ECA, BlurPool's fixed filter, fc.
        if row.summary_id is not None and row.op != "block":
            expected = row.macs
            if row.op == "module":  # an attention module: the sum of its members
                expected = sum(r.macs for r in analysis.rows if r.name.startswith(row.name + "."))
            assert flops.get(row.name, 0) == 2 * expected, row.name
    for stage in analysis.stages:
        assert flops[stage.name] == 2 * stage.macs
        for block in stage.blocks:
            assert flops[block.name] == 2 * block.macs


@pytest.mark.slow
@pytest.mark.parametrize("name", PRESETS)
def test_presets_agree_with_hooks_and_flop_counter(name: str) -> None:
    _check_hooks(preset(name))
    _check_flops(preset(name))


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=small_specs(max_stages=6))
def test_generated_specs_agree_with_hooks_and_flop_counter(spec: ArchSpec) -> None:
    _check_hooks(spec)
    _check_flops(spec)
