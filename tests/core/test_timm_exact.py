"""timm's ResNet variants: the timm/ presets and any spec timm can express equal timm's
own models in parameters, in the multiset of parameter and buffer shapes, and in MACs
(FlopCounterMode FLOPs / 2 on timm's model).

timm is the oracle here and only here: it is installed for the tests with
``pip install --no-deps timm huggingface_hub safetensors pyyaml`` and these tests skip
when it is absent. The published table (REFERENCE.md) is checked without timm.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from explorer.core.analysis import analyze
from explorer.core.build import build_model
from explorer.core.presets import preset, presets_in
from explorer.core.spec import DEFAULT_SE_RATIO, ArchSpec
from tests.timm_oracle import timm_or_skip

# timm 1.0.31, timm.create_model(name) at 3x224x224 with 1000 classes, measured with timm's own
# model code: parameters; MACs = FlopCounterMode FLOPs / 2; tensors = parameters plus buffers
# of dimension > 0. Source: REFERENCE.md, "timm's ResNet variants".
PUBLISHED = {
    "resnet18d": (11_708_744, 2_053_713_920, 112),
    "resnet34d": (21_816_904, 3_903_401_984, 192),
    "resnet26d": (16_014_408, 2_581_897_216, 157),
    "resnet50d": (25_576_264, 4_328_824_832, 277),
    "resnet101d": (44_568_392, 8_041_046_016, 532),
    "resnet50c": (25_576_264, 4_328_824_832, 277),
    "resnet50s": (25_680_808, 5_444_337_664, 277),
    "resnet50t": (25_573_728, 4_297_213_952, 277),
    "seresnet50": (28_088_024, 4_091_699_200, 331),
    "ecaresnet50d": (25_576_350, 4_328_912_640, 293),
    "resnetaa50d": (25_576_264, 5_369_274_368, 277),
    "resnetblur50": (25_557_032, 5_133_020_672, 271),
    "seresnext50_32x4d": (27_559_896, 4_232_994_816, 331),
    "resnetrs50": (35_691_912, 4_454_490_112, 346),
    "resnetv2_50": (25_549_352, 4_089_184_256, 251),
    "resnetv2_50d": (25_568_584, 4_328_824_832, 261),
}

Shapes = Counter[tuple[int, ...]]


def tensor_shapes(model: nn.Module) -> Shapes:
    """The multiset of parameter and buffer shapes (buffers of dimension > 0)."""
    tensors = [*model.parameters(), *model.buffers()]
    return Counter(tuple(t.shape) for t in tensors if t.dim() > 0)


def timm_macs(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    counter = FlopCounterMode(display=False)
    model.eval()
    with counter, torch.no_grad():
        model(torch.zeros(1, *input_shape))
    return int(counter.get_total_flops()) // 2


@dataclass(frozen=True)
class Measured:
    params: int
    shapes: Shapes
    macs: int


def measure_timm(model: nn.Module, input_shape: tuple[int, ...]) -> Measured:
    return Measured(
        sum(p.numel() for p in model.parameters()), tensor_shapes(model), timm_macs(model, input_shape)
    )


def measure_ours(spec: ArchSpec) -> Measured:
    analysis = analyze(spec)
    return Measured(
        analysis.totals.total_params, tensor_shapes(build_model(spec, "meta")), analysis.totals.macs
    )


def test_the_timm_family_is_the_published_table() -> None:
    assert sorted(name.split("/", 1)[1] for name in presets_in("timm")) == sorted(PUBLISHED)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_timm_presets_match_the_published_table(name: str) -> None:
    spec = preset(f"timm/{name}")
    params, macs, tensors = PUBLISHED[name]
    totals = analyze(spec).totals
    assert (totals.total_params, totals.macs) == (params, macs)
    assert sum(tensor_shapes(build_model(spec, "meta")).values()) == tensors
    assert spec.input_shape == (3, 224, 224) and totals.output_shape == (1000,)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_timm_presets_equal_timms_models(name: str) -> None:
    timm = timm_or_skip()
    spec = preset(f"timm/{name}")
    assert measure_ours(spec) == measure_timm(timm.create_model(name), spec.input_shape)


# Any combination timm can express: timm.models.resnet.ResNet and ResNetV2 keyword arguments.


def _v1_kwargs(timm: Any, spec: ArchSpec) -> dict[str, Any]:
    from timm.layers import BlurPool2d, EcaModule, SEModule

    kwargs: dict[str, Any] = {
        "block": timm.models.resnet.Bottleneck
        if spec.block == "bottleneck"
        else timm.models.resnet.BasicBlock,
        "layers": spec.depths,
        "channels": spec.stage_widths,
        "num_classes": spec.num_classes,
        "in_chans": spec.in_channels,
        "output_stride": spec.output_stride,
        "cardinality": spec.groups,
        "base_width": spec.width_per_group,
        "stem_width": spec.stem_width,
        "stem_type": {"imagenet": "", "deep": "deep", "deep-tiered": "deep_tiered"}[spec.stem],
        "replace_stem_pool": spec.stem_pool == "conv",
        "avg_down": spec.shortcut == "avg-down",
        "drop_path_rate": spec.drop_path,
        "aa_layer": {"none": None, "avgpool": nn.AvgPool2d, "blur": BlurPool2d}[spec.anti_alias],
    }
    if spec.attention == "se":
        kwargs["block_args"] = {"attn_layer": partial(SEModule, rd_ratio=spec.se_ratio)}
    elif spec.attention == "eca":
        kwargs["block_args"] = {"attn_layer": EcaModule}
    return kwargs


def _v2_kwargs(spec: ArchSpec) -> dict[str, Any]:
    from timm.layers import BatchNormAct2d, create_conv2d

    basic = spec.block == "preact-basic"
    return {
        "layers": spec.depths,
        "channels": tuple(spec.stage_out_channels(i) for i in range(spec.num_stages)),
        "num_classes": spec.num_classes,
        "in_chans": spec.in_channels,
        "output_stride": spec.output_stride,
        "stem_chs": spec.stem_out_channels,
        "stem_type": {"imagenet": "", "deep": "deep", "deep-tiered": "tiered"}[spec.stem],
        "avg_down": spec.shortcut == "avg-down",
        "basic": basic,
        "bottle_ratio": 1.0 if basic else 0.25,
        "drop_path_rate": spec.drop_path,
        "conv_layer": create_conv2d,
        "norm_layer": BatchNormAct2d,
    }


@st.composite
def timm_expressible_specs(draw: st.DrawFn) -> ArchSpec:
    """Specs timm's ResNet (v1) or ResNetV2 builds: four stages striding 1, 2, 2, 2 after a
    strided stem; widths in multiples of 8 (timm rounds pre-activation widths to 8)."""
    block = draw(st.sampled_from(["basic", "bottleneck", "preact-basic", "preact-bottleneck"]))
    preact = block.startswith("preact")
    stem = draw(st.sampled_from(["imagenet", "deep", "deep-tiered"]))
    base = draw(st.sampled_from([8, 16]))
    widths = (base, 2 * base, 4 * base, 8 * base)
    fields: dict[str, Any] = {
        "block": block,
        "depths": tuple(draw(st.lists(st.integers(1, 2), min_size=4, max_size=4))),
        "widths": widths,
        "stem": stem,
        "stem_width": 64 if stem == "imagenet" else draw(st.sampled_from([8, 16, 32])),
        "in_channels": draw(st.integers(1, 3)),
        "num_classes": draw(st.sampled_from([0, 10])),
        "shortcut": draw(st.sampled_from(["projection", "avg-down"])),
        "drop_path": draw(st.sampled_from([0.0, 0.2])),
        "output_stride": draw(st.sampled_from([32, 16, 8])),
        "input_size": (64, 64),
    }
    if preact:
        return ArchSpec(**fields)
    if block == "bottleneck" and draw(st.booleans()):
        fields["groups"] = draw(st.sampled_from([1, 2, 4]))
        fields["width_per_group"] = draw(st.sampled_from([16, 32, 64]))
    fields["stem_pool"] = draw(st.sampled_from(["max", "conv"]))
    fields["attention"] = draw(st.sampled_from(["none", "se", "eca"]))
    if fields["attention"] == "se":
        fields["se_ratio"] = draw(st.sampled_from([DEFAULT_SE_RATIO, 0.25]))
    fields["anti_alias"] = draw(st.sampled_from(["none", "avgpool", "blur"]))
    return ArchSpec(**fields)


def timm_model(spec: ArchSpec) -> nn.Module:
    timm = timm_or_skip()
    if spec.block.startswith("preact"):
        return timm.models.resnetv2.ResNetV2(**_v2_kwargs(spec))  # type: ignore[no-any-return]
    return timm.models.resnet.ResNet(**_v1_kwargs(timm, spec))  # type: ignore[no-any-return]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=timm_expressible_specs())
def test_any_spec_timm_expresses_equals_timms_model(spec: ArchSpec) -> None:
    assert measure_ours(spec) == measure_timm(timm_model(spec), spec.input_shape)
