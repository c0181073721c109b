"""An analysis computed from the one before an edit equals a fresh one, whatever the edit."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core.analysis import Analysis, analyze, analyze_after
from explorer.core.plan import layer_plan, layer_plan_after
from explorer.core.presets import preset
from explorer.core.spec import ArchSpec, SpecError
from tests.strategies import small_specs, spec_edits


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
        spec = data.draw(spec_edits(spec))
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
