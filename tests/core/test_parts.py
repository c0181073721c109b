"""The parts' definitions drive validation and the plan; the new fields keep old specs'
meaning, name the culprit field when they do not fit, and mean what timm means by them."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core import parts
from explorer.core.analysis import analyze
from explorer.core.build import build_model
from explorer.core.plan import NETWORK_INPUT, PlanWriter, layer_plan
from explorer.core.presets import PRESET_NAMES, preset
from explorer.core.spec import ArchSpec, SpecError
from tests.strategies import small_specs

_R50 = preset("torchvision/resnet50")


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"block": "preact-basic", "groups": 2}, "groups", "'preact-bottleneck'"),
        ({"stride_on": "1x1"}, "stride_on", "3x3 conv"),
        ({"stride_on": "2x2"}, "stride_on", "'3x3', '1x1'"),
        ({"stem_pool": "conv"}, "stem_pool", "has no pool"),
        ({"se_ratio": 0.25}, "se_ratio", "only to attention 'se'"),
        ({"attention": "se", "se_ratio": 0}, "se_ratio", "> 0"),
        ({"attention": "se", "se_ratio": 1.5}, "se_ratio", "<= 1"),
        ({"attention": "cbam"}, "attention", "'se', 'eca'"),
        ({"anti_alias": "gauss"}, "anti_alias", "'avgpool', 'blur'"),
        ({"drop_path": 1.0}, "drop_path", "< 1"),
        ({"drop_path": "0.1"}, "drop_path", "a number"),
        ({"output_stride": 12}, "output_stride", "32, 16, 8"),
        ({"output_stride": 8}, "output_stride", "reaches 8"),
        ({"stem": "imagenet", "depths": (2, 2, 2), "output_stride": 8}, "output_stride", "reaches 16"),
        ({"stem": "deep-tiered", "stem_width": 3}, "stem_width", "at least 4"),
        ({"stem": "imagenet", "anti_alias": "blur", "input_size": (8, 8)}, "anti_alias", "too small"),
        (
            {"stem": "imagenet", "anti_alias": "avgpool", "input_size": (40, 40)},
            "anti_alias",
            "halves evenly",
        ),
        ({"stem": "deep", "shortcut": "zero-pad", "widths": (64, 128, 256, 512)}, "shortcut", "shrink 128"),
    ],
)
def test_invalid_combinations_name_the_field(changes: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(SpecError) as info:
        ArchSpec(**changes)
    assert info.value.field == field
    assert words in info.value.reason


def test_every_defined_kind_is_a_valid_choice() -> None:
    for block in parts.BLOCKS:
        for stem, stem_kind in parts.STEMS.items():
            pools = tuple(parts.STEM_POOLS) if stem_kind.pools else ("max",)
            for pool in pools:
                for shortcut in parts.SHORTCUTS:
                    if not parts.SHORTCUTS[shortcut].can_shrink:
                        continue
                    spec = ArchSpec(
                        block=block, stem=stem, stem_pool=pool, shortcut=shortcut, input_size=(64, 64)
                    )
                    assert analyze(spec).totals.total_params > 0
    for attention in parts.ATTENTIONS:
        for anti_alias in parts.ANTI_ALIASES:
            ArchSpec(stem="imagenet", attention=attention, anti_alias=anti_alias)


def test_old_spec_files_keep_their_meaning() -> None:
    """A file saved before the new fields existed loads with each new field at the value
    that leaves the network as it was."""
    old_fields = (
        "block", "depths", "widths", "strides", "stem", "stem_width", "in_channels", "num_classes",
        "zero_init_residual", "groups", "width_per_group", "shortcut", "input_size",
    )  # fmt: skip
    for name in PRESET_NAMES:
        spec = preset(name)
        if name.startswith("timm/"):
            continue
        data = {
            "format_version": 1,
            **{key: value for key, value in spec.to_dict().items() if key in old_fields},
        }
        loaded = ArchSpec.from_json(json.dumps(data))
        assert loaded == spec
        assert analyze(loaded) == analyze(spec)


def test_new_fields_round_trip_and_are_listed_last() -> None:
    spec = preset("timm/resnetrs50")
    assert ArchSpec.from_json(spec.to_json()) == spec
    names = [f.name for f in fields(ArchSpec)]
    assert names[-7:] == [
        "stem_pool",
        "stride_on",
        "attention",
        "se_ratio",
        "anti_alias",
        "drop_path",
        "output_stride",
    ]


def test_stride_on_1x1_keeps_params_and_changes_macs() -> None:
    v1 = replace(_R50, stride_on="1x1")
    assert analyze(v1).totals.total_params == analyze(_R50).totals.total_params
    assert analyze(v1).totals.macs < analyze(_R50).totals.macs
    # He et al. 2015, Table 1: 3.8e9 FLOPs (multiply-adds) for the 50-layer net with the stride on the 1x1.
    assert analyze(v1).totals.macs / 1e9 == pytest.approx(3.8, abs=0.1)


def test_drop_path_follows_timms_linear_rule_and_adds_nothing() -> None:
    spec = replace(_R50, drop_path=0.1)
    blocks = [block for stage in analyze(spec).stages for block in stage.blocks]
    assert [block.drop_path for block in blocks] == pytest.approx([0.1 * i / 15 for i in range(16)])
    assert analyze(spec).totals.total_params == analyze(_R50).totals.total_params
    assert analyze(spec).totals.macs == analyze(_R50).totals.macs
    rates = [row.rate for row in analyze(spec).rows if row.op == "droppath"]
    assert len(rates) == 15 and rates[-1] == pytest.approx(0.1)


def test_output_stride_dilates_the_later_stages() -> None:
    for output_stride, side in ((16, 14), (8, 28)):
        spec = replace(_R50, output_stride=output_stride)
        analysis = analyze(spec)
        assert analysis.stages[-1].output_shape == (2048, side, side)
        assert analysis.totals.total_params == analyze(_R50).totals.total_params
        dilated = {row.dilation for row in analysis.rows if row.dilation}
        assert dilated == ({2} if output_stride == 16 else {2, 4})


def test_the_plan_names_every_merge_and_its_inputs() -> None:
    plan = layer_plan(preset("timm/seresnet50"))
    for block in plan.blocks:
        merge = plan.layers[block.merge_layer]
        assert merge.op == "add" and len(merge.inputs) == 2
    multiplies = [layer for layer in plan.layers if layer.op == "mul"]
    assert len(multiplies) == 16 and all(len(layer.inputs) == 2 for layer in multiplies)
    v2 = layer_plan(preset("timm/resnetv2_50"))
    first = v2.blocks[0]
    # A pre-activation block's projection starts from its pre-activated input.
    assert v2.layers[first.shortcut_source].op == "relu"
    assert v2.blocks[1].shortcut_source == v2.layers[v2.blocks[1].first_layer].inputs[0]


def _measured_receptive_field(spec: ArchSpec) -> int:
    """The input rows the centre pixel of the last stage's output depends on, by its gradient
    (positive weights and input, so every path carries gradient)."""
    model = build_model(spec).eval()
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.constant_(module.weight, 0.1)
    captured: list[torch.Tensor] = []
    last = layer_plan(spec).blocks[-1].name
    model.get_submodule(last).register_forward_hook(lambda _m, _i, out: captured.append(out))
    x = torch.ones(1, *spec.input_shape, requires_grad=True)
    model(x)
    out = captured[0]
    out[0, :, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
    assert x.grad is not None
    rows = (x.grad[0].abs().sum(dim=(0, 2)) > 0).nonzero()
    return int(rows.max() - rows.min() + 1)


@pytest.mark.parametrize("anti_alias", ["none", "blur"])
def test_receptive_field_under_dilation_and_anti_aliasing(anti_alias: str) -> None:
    spec = ArchSpec(
        block="basic",
        depths=(1, 1, 1, 1),
        widths=(1, 1, 1, 1),
        strides=(2, 2, 2, 2),
        stem="imagenet",
        stem_width=1,
        stem_pool="none",
        output_stride=8,
        anti_alias=anti_alias,
        input_size=(512, 32),
    )
    analysis = analyze(spec)
    last = analysis.stages[-1].blocks[-1]
    receptive_field = analysis.rows[last.last_row].receptive_field
    assert receptive_field < 512 // 2, "the measurement needs no border in reach"
    assert _measured_receptive_field(spec) == receptive_field
    undilated = analyze(replace(spec, output_stride=32))
    assert undilated.rows[undilated.stages[-1].blocks[-1].last_row].jump > analysis.rows[last.last_row].jump


def _input_pixels_seen(spec: ArchSpec) -> tuple[int, int]:
    """The rows and columns of the input the centre pixel of the last stage's output depends
    on, by its gradient (positive weights and input, so every path carries gradient)."""
    model = build_model(spec).eval()
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.constant_(module.weight, 0.1)
    # Small weights in the gates keep their sigmoid off its flat ends, where the gradient is 0.
    gates = {row.name for row in analyze(spec).rows if row.role == "attention"}
    for name, module in model.named_modules():
        if name in gates and isinstance(module, (torch.nn.Conv2d, torch.nn.Conv1d, torch.nn.Linear)):
            torch.nn.init.constant_(module.weight, 1e-3)
    captured: list[torch.Tensor] = []
    last = layer_plan(spec).blocks[-1].name
    model.get_submodule(last).register_forward_hook(lambda _m, _i, out: captured.append(out))
    x = torch.ones(1, *spec.input_shape, requires_grad=True)
    model(x)
    out = captured[0]
    out[0, :, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
    assert x.grad is not None
    seen = x.grad[0].abs().sum(dim=0) > 0
    return int(seen.any(dim=1).sum()), int(seen.any(dim=0).sum())


@pytest.mark.parametrize("attention", [key for key in parts.ATTENTIONS if key != "none"])
def test_through_an_attention_gate_each_output_sees_the_whole_input(attention: str) -> None:
    plain = ArchSpec(depths=(1, 1), widths=(8, 16), stem_width=8, input_size=(48, 48))
    gated = replace(plain, attention=attention)
    plain_last = analyze(plain).rows[layer_plan(plain).blocks[-1].last_layer]
    figure = plain_last.receptive_field
    assert figure < 48 and not plain_last.sees_whole_input
    assert _input_pixels_seen(plain) == (figure, figure)
    assert _input_pixels_seen(gated) == (48, 48)
    analysis = analyze(gated)
    last = analysis.rows[layer_plan(gated).blocks[-1].last_layer]
    assert last.sees_whole_input and analysis.totals.sees_whole_input
    # The figure beside "global" is the convolution path's: the same as without the gates.
    assert last.receptive_field == figure
    assert analysis.totals.receptive_field == analyze(plain).totals.receptive_field
    first_gate = next(row.index for row in analysis.rows if row.role == "attention")
    assert not any(row.sees_whole_input for row in analysis.rows[:first_gate])
    assert all(row.sees_whole_input for row in analysis.rows[analysis.stages[-1].blocks[0].first_row :])


@pytest.mark.parametrize(
    ("name", "attention"),
    [("torchvision/resnet152", "eca"), ("timm/seresnet50", None), ("timm/ecaresnet50d", None)],
)
def test_an_attention_net_keeps_its_convolution_paths_figure(name: str, attention: str | None) -> None:
    spec = preset(name) if attention is None else replace(preset(name), attention=attention)
    without = analyze(replace(spec, attention="none", se_ratio=ArchSpec().se_ratio)).totals
    totals = analyze(spec).totals
    assert totals.sees_whole_input and not without.sees_whole_input
    assert totals.receptive_field == without.receptive_field


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=small_specs(max_stages=6))
def test_zero_init_residual_zeroes_the_last_layer_of_every_block(spec: ArchSpec) -> None:
    spec = replace(spec, zero_init_residual=True)
    model = build_model(spec)
    for block in layer_plan(spec).blocks:
        assert torch.count_nonzero(model.get_submodule(block.zero_init).weight) == 0


@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            "block": st.sampled_from(tuple(parts.BLOCKS)),
            "stem": st.sampled_from(tuple(parts.STEMS)),
            "stem_pool": st.sampled_from(tuple(parts.STEM_POOLS)),
            "stride_on": st.sampled_from(tuple(parts.STRIDE_ON)),
            "shortcut": st.sampled_from(tuple(parts.SHORTCUTS)),
            "attention": st.sampled_from(tuple(parts.ATTENTIONS)),
            "se_ratio": st.one_of(st.floats(allow_nan=True), st.integers()),
            "anti_alias": st.sampled_from(tuple(parts.ANTI_ALIASES)),
            "drop_path": st.one_of(st.floats(allow_nan=True), st.integers()),
            "output_stride": st.one_of(st.sampled_from([8, 16, 32]), st.integers()),
            "groups": st.integers(1, 8),
            "stem_width": st.integers(1, 16),
            "depths": st.lists(st.integers(1, 3), min_size=1, max_size=5),
            "input_size": st.lists(st.integers(1, 300), min_size=2, max_size=2),
        },
    )
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_combination_is_a_spec_or_a_spec_error(data: dict[str, Any]) -> None:
    """Only SpecError escapes, and a valid spec always has a consistent analysis."""
    try:
        spec = ArchSpec.from_dict({"format_version": 1, **data})
    except SpecError as exc:
        assert exc.field.split("[")[0] in {f.name for f in fields(ArchSpec)}
        return
    totals = analyze(spec).totals
    assert totals.total_params == sum(p.numel() for p in build_model(spec, "meta").parameters())


def test_inapplicable_options_are_those_validation_keeps_at_their_defaults() -> None:
    defaults = ArchSpec()
    for spec in (ArchSpec(), preset("timm/resnet50d"), preset("timm/seresnet50"), preset("timm/resnetv2_50")):
        for name, reason in parts.inapplicable_options(spec).items():
            assert reason
            other = {"groups": 2, "width_per_group": 32, "stride_on": "1x1", "stem_pool": "conv"}
            other |= {"se_ratio": 0.25, "output_stride": 16}
            with pytest.raises(SpecError) as info:
                replace(spec, **{name: other[name]})
            assert info.value.field == name
            assert getattr(spec, name) == getattr(defaults, name)
    assert set(parts.inapplicable_options(ArchSpec())) == {
        "groups", "width_per_group", "stride_on", "stem_pool", "se_ratio", "output_stride"
    }  # fmt: skip
    assert parts.inapplicable_options(preset("timm/seresnet50")) == {}


def test_field_tables_cover_the_kind_fields_and_every_group_names_real_fields() -> None:
    names = {f.name for f in fields(ArchSpec)}
    assert set(parts.FIELD_KINDS) <= names
    grouped = [name for group in parts.FIELD_GROUPS.values() for name in group]
    assert len(grouped) == len(set(grouped)) and set(grouped) <= names
    for name, table in parts.FIELD_KINDS.items():
        assert getattr(ArchSpec(), name) in table
        assert all(kind.key == key and kind.label and kind.tooltip for key, kind in table.items())
    assert set(parts.FIELD_TOOLTIPS) <= names


def test_a_module_name_given_to_two_different_ops_fails_the_plan() -> None:
    writer = PlanWriter(ArchSpec())
    first = writer.add("pool", "maxpool", "stem", (NETWORK_INPUT,), kernel_size=3, stride=2)
    writer.add("relu", "relu", "stem", (first,))
    writer.add("relu", "relu", "stem", (first,))  # one module called twice, as torchvision's relu
    with pytest.raises(ValueError, match="'pool' is given to a maxpool and a pool"):
        writer.add("pool", "pool", "head", (first,), kernel_size=2, stride=2)
