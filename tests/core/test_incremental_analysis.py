"""An analysis computed from the one before an edit equals a fresh one, whatever the edit."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core import parts
from explorer.core.analysis import Analysis, analyze, analyze_after
from explorer.core.plan import layer_plan, layer_plan_after
from explorer.core.presets import preset
from explorer.core.spec import ArchSpec, SpecError
from tests.strategies import small_specs

FIELD_CHOICES: dict[str, st.SearchStrategy[object]] = {
    "block": st.sampled_from(tuple(parts.BLOCKS)),
    "stem": st.sampled_from(tuple(parts.STEMS)),
    "shortcut": st.sampled_from(tuple(parts.SHORTCUTS)),
    "attention": st.sampled_from(tuple(parts.ATTENTIONS)),
    "anti_alias": st.sampled_from(tuple(parts.ANTI_ALIASES)),
    "stem_pool": st.sampled_from(tuple(parts.STEM_POOLS)),
    "stride_on": st.sampled_from(tuple(parts.STRIDE_ON)),
    "drop_path": st.sampled_from([0.0, 0.1, 0.5]),
    "num_classes": st.sampled_from([0, 1, 7]),
    "zero_init_residual": st.booleans(),
    "stem_width": st.integers(1, 8),
    "groups": st.integers(1, 4),
    "output_stride": st.sampled_from([8, 16, 32]),
    "input_size": st.tuples(st.integers(4, 40), st.integers(4, 40)),
}


@st.composite
def edits(draw: st.DrawFn, spec: ArchSpec) -> ArchSpec:
    """One edit a person could make in the editor: a stage's depth, width or stride, a
    stage added or removed, or any other field. Edits the spec refuses leave it as it was."""
    kind = draw(st.sampled_from(["depth", "width", "stride", "add stage", "remove stage", "field"]))
    stage = draw(st.integers(0, spec.num_stages - 1))
    try:
        if kind == "depth":
            depths = list(spec.depths)
            depths[stage] = draw(st.integers(1, 4))
            return spec.with_depths(tuple(depths))
        if kind == "width":
            widths = list(spec.stage_widths)
            widths[stage] = draw(st.integers(1, 16))
            return dataclasses.replace(spec, widths=tuple(widths))
        if kind == "stride":
            strides = list(spec.stage_strides)
            strides[stage] = draw(st.integers(1, 2))
            return dataclasses.replace(spec, strides=tuple(strides))
        if kind == "add stage":
            return spec.with_depths((*spec.depths, draw(st.integers(1, 3))))
        if kind == "remove stage":
            return spec.with_depths(spec.depths[:-1]) if spec.num_stages > 1 else spec
        name = draw(st.sampled_from(sorted(FIELD_CHOICES)))
        return dataclasses.replace(spec, **{name: draw(FIELD_CHOICES[name])})
    except SpecError:
        return spec


def _fresh(spec: ArchSpec) -> Analysis | SpecError:
    try:
        return analyze.__wrapped__(spec)
    except SpecError as error:
        return error


def _after(previous: Analysis, spec: ArchSpec) -> Analysis | SpecError:
    analyze.cache_clear()  # else a cached fresh analysis would answer
    try:
        return analyze_after(previous, spec)
    except SpecError as error:
        return error


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_edit_sequences_give_the_fresh_analysis(data: st.DataObject) -> None:
    spec = data.draw(small_specs())
    previous = _fresh(spec)
    if isinstance(previous, SpecError):
        return
    for _ in range(data.draw(st.integers(1, 6))):
        spec = data.draw(edits(spec))
        expected = _fresh(spec)
        got = _after(previous, spec)
        if isinstance(expected, SpecError):
            assert isinstance(got, SpecError) and str(got) == str(expected)
            continue
        assert isinstance(got, Analysis)
        assert got == expected
        assert got.running == expected.running
        assert got.to_dict() == expected.to_dict()
        previous = got


def test_a_deeper_last_stage_reuses_every_row_before_it() -> None:
    spec = preset("cifar/resnet56")
    before = analyze(spec)
    deeper = spec.with_depths((9, 9, 10))
    analyze.cache_clear()
    after = analyze_after(before, deeper)
    first_new = before.stages[-1].blocks[-1].last_row + 1
    assert all(a is b for a, b in zip(after.rows[:first_new], before.rows, strict=False))
    assert after.rows[first_new] is not before.rows[first_new]
    assert after.stages[0] is before.stages[0] and after.stages[1] is before.stages[1]
    assert after == analyze.__wrapped__(deeper)


def test_a_deeper_first_stage_is_recomputed_from_its_new_block() -> None:
    spec = preset("resnet18")
    before = analyze(spec)
    analyze.cache_clear()
    after = analyze_after(before, spec.with_depths((3, 2, 2, 2)))
    first_new = before.stages[0].blocks[-1].last_row + 1
    assert all(a is b for a, b in zip(after.rows[:first_new], before.rows, strict=False))
    assert after.rows[first_new].name == "layer1.2.conv1"
    assert after.stages[0] != before.stages[0] and after.stages[1] != before.stages[1]
    assert after.stages[0].blocks[0] is before.stages[0].blocks[0]


@pytest.mark.parametrize("name", ["resnet50", "timm/resnet50d"])
def test_an_unrelated_edit_replans_from_the_changed_block(name: str) -> None:
    spec = preset(name)
    old = layer_plan(spec)
    wider = dataclasses.replace(spec, widths=(*spec.stage_widths[:-1], spec.stage_widths[-1] * 2))
    new = layer_plan_after(old, wider)
    kept = old.blocks[sum(spec.depths[:-1]) - 1].last_layer + 1
    assert all(a is b for a, b in zip(new.layers[:kept], old.layers, strict=False))
    assert new == layer_plan.__wrapped__(wider)
