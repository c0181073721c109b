"""profile(spec, config): one row per analysis row, sums that add up, a valid Chrome trace."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings

from explorer.core.analysis import analyze
from explorer.core.benchtypes import BenchConfig, BenchError
from explorer.core.plan import CONTAINER_OPS
from explorer.core.presets import preset
from explorer.core.profile import AGREEMENT_TOLERANCE, Profile, ProfileCancelled, profile
from explorer.core.spec import ArchSpec
from tests.strategies import small_specs

CPU = BenchConfig(device="cpu", threads=1, warmup=2, iterations=5)
SE_SPEC = ArchSpec(
    block="bottleneck", depths=(1, 2), widths=(4, 8), attention="se", input_size=(16, 16), num_classes=5
)


@pytest.fixture(scope="module")
def resnet20() -> Profile:
    return profile(preset("cifar/resnet20"), CPU)


def test_every_analysis_row_gets_exactly_one_row(resnet20: Profile) -> None:
    rows = analyze(resnet20.spec).rows
    assert [(layer.index, layer.name) for layer in resnet20.layers] == [(row.index, row.name) for row in rows]


def test_leaves_are_timed_and_containers_hold_their_members_sum(resnet20: Profile) -> None:
    rows = analyze(resnet20.spec).rows
    times = resnet20.layer_times()
    for layer, row in zip(resnet20.layers, rows, strict=True):
        assert layer.leaf == (row.op not in CONTAINER_OPS)
        assert layer.time_s > 0
    for stage in analyze(resnet20.spec).stages:
        for block in stage.blocks:
            members = [i for i in range(block.first_row, block.last_row) if rows[i].op not in CONTAINER_OPS]
            assert math.isclose(times[block.last_row], sum(times[i] for i in members))


def test_blocks_and_stages_equal_the_sums_of_their_layers(resnet20: Profile) -> None:
    leaf_time = {layer.index: layer.time_s for layer in resnet20.layers if layer.leaf}
    for group in (*resnet20.blocks, *resnet20.stages):
        inside = [leaf_time[i] for i in range(group.first_row, group.last_row + 1) if i in leaf_time]
        assert math.isclose(group.time_s, sum(inside))
    assert [stage.name for stage in resnet20.stages] == ["stem", "layer1", "layer2", "layer3", "head"]
    assert math.isclose(sum(stage.time_s for stage in resnet20.stages), resnet20.total_s)
    assert math.isclose(sum(stage.share for stage in resnet20.stages), 1.0)


def test_speeds_follow_macs_over_time(resnet20: Profile) -> None:
    average = resnet20.average_gmacs_per_s
    assert average is not None
    for layer in resnet20.layers:
        if layer.macs == 0:
            assert layer.gmacs_per_s is None and layer.speed_ratio is None
        else:
            assert layer.gmacs_per_s == pytest.approx(layer.macs / layer.time_s / 1e9)
            assert layer.speed_ratio == pytest.approx(layer.gmacs_per_s / average)


@pytest.mark.slow
def test_per_layer_sum_matches_the_plain_pass() -> None:
    # Enough passes that a few delayed by other work do not move the medians. On a machine
    # loaded far past its cores, the scheduler's time slices can still land the plain and the
    # profiled medians in different modes (seen at a load of 9 on 2 cores): run it on one at rest.
    result = profile(preset("cifar/resnet20"), BenchConfig(device="cpu", threads=1, warmup=3, iterations=40))
    assert abs(result.agreement - 1.0) <= AGREEMENT_TOLERANCE, result.agreement


def test_chrome_trace_has_one_complete_event_per_layer_per_pass(resnet20: Profile, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(resnet20.chrome_trace()))
    trace = json.loads(path.read_text())
    complete = [event for event in trace["traceEvents"] if event["ph"] == "X"]
    leaves = [layer for layer in resnet20.layers if layer.leaf]
    assert len(complete) == len(leaves) * CPU.iterations
    for number in range(CPU.iterations):
        in_pass = [event for event in complete if event["args"]["pass"] == number]
        assert sorted(event["args"]["row"] for event in in_pass) == [layer.index for layer in leaves]
    for event in complete:
        assert {"name", "ts", "dur", "pid", "tid"} <= event.keys() and event["dur"] >= 0
    starts = [event["ts"] for event in complete]
    assert starts == sorted(starts)  # passes and layers in the order they ran


def test_json_carries_the_figures(resnet20: Profile) -> None:
    data = json.loads(resnet20.to_json())
    assert data["end_to_end_ms"] == pytest.approx(resnet20.end_to_end.median_s * 1e3)
    assert len(data["layers"]) == len(resnet20.layers)
    first = data["layers"][0]
    assert {"name", "time_ms", "share", "macs", "gmacs_per_s"} <= first.keys()
    assert [stage["name"] for stage in data["stages"]] == [stage.name for stage in resnet20.stages]


def test_attention_modules_are_containers_with_their_members_sum() -> None:
    result = profile(SE_SPEC, BenchConfig(device="cpu", threads=1, warmup=1, iterations=2))
    rows = analyze(SE_SPEC).rows
    modules = [row for row in rows if row.op == "module"]
    assert modules
    times = result.layer_times()
    for row in modules:
        layer = result.layers[row.index]
        assert not layer.leaf
        members = [r.index for r in rows if r.name.startswith(row.name + ".") and r.op not in CONTAINER_OPS]
        assert math.isclose(times[row.index], sum(times[i] for i in members))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_specs(max_stages=2))
def test_every_generated_spec_profiles_every_row(spec: ArchSpec) -> None:
    result = profile(spec, BenchConfig(device="cpu", threads=1, warmup=0, iterations=1))
    assert [layer.name for layer in result.layers] == [row.name for row in analyze(spec).rows]
    assert all(layer.time_s >= 0 for layer in result.layers)


def test_compile_and_stop_are_refused_cleanly() -> None:
    with pytest.raises(BenchError, match="without compile"):
        profile(preset("cifar/resnet20"), BenchConfig(device="cpu", compile=True))
    with pytest.raises(ProfileCancelled):
        profile(preset("cifar/resnet20"), CPU, should_stop=lambda: True)
