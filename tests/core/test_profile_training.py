"""profile() in train mode: each layer's forward and backward, the loss, the rest, the optimizer."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import replace

import pytest
import torch
from hypothesis import HealthCheck, given, settings

from explorer.core.analysis import analyze
from explorer.core.backward_clock import BACKWARD, FORWARD, LOSS_ROW, BackwardClock
from explorer.core.benchtypes import BenchConfig, BenchError
from explorer.core.plan import CONTAINER_OPS
from explorer.core.presets import preset
from explorer.core.profile import AGREEMENT_TOLERANCE, Profile, profile
from explorer.core.spec import ArchSpec
from tests.strategies import small_specs

TRAIN = BenchConfig(device="cpu", threads=1, warmup=1, iterations=3, batch_size=2, mode="train")
SE_SPEC = ArchSpec(
    block="bottleneck", depths=(1, 1), widths=(4, 8), attention="se", input_size=(16, 16), num_classes=5
)


@pytest.fixture(scope="module")
def resnet20() -> Profile:
    return profile(preset("cifar/resnet20"), TRAIN)


def test_every_analysis_row_gets_one_row_with_forward_and_backward(resnet20: Profile) -> None:
    rows = analyze(resnet20.spec).rows
    assert [(layer.index, layer.name) for layer in resnet20.layers] == [(row.index, row.name) for row in rows]
    for layer in resnet20.layers:
        assert layer.forward_s >= 0 and layer.backward_s is not None and layer.backward_s >= 0
        assert math.isclose(layer.time_s, layer.forward_s + layer.backward_s)
    assert resnet20.training and resnet20.train is not None


def test_every_convolution_and_the_classifier_have_a_backward_time(resnet20: Profile) -> None:
    weighted = [layer for layer in resnet20.layers if layer.type in ("Conv2d", "Linear", "BatchNorm2d")]
    assert weighted
    untimed = [layer.name for layer in weighted if not layer.backward_s]
    assert not untimed


def test_blocks_and_stages_sum_their_layers_forward_and_backward(resnet20: Profile) -> None:
    leaves = {layer.index: layer for layer in resnet20.layers if layer.leaf}
    for group in (*resnet20.blocks, *resnet20.stages):
        inside = [leaves[i] for i in range(group.first_row, group.last_row + 1) if i in leaves]
        assert math.isclose(group.forward_s, sum(layer.forward_s for layer in inside))
        assert group.backward_s is not None
        assert math.isclose(group.backward_s, sum(layer.backward_s or 0.0 for layer in inside))
        assert math.isclose(group.time_s, group.forward_s + group.backward_s)
    assert math.isclose(sum(stage.share for stage in resnet20.stages), 1.0)
    rows = analyze(resnet20.spec).rows
    times = resnet20.layer_times()
    for stage in analyze(resnet20.spec).stages:
        for block in stage.blocks:
            members = [i for i in range(block.first_row, block.last_row) if rows[i].op not in CONTAINER_OPS]
            assert math.isclose(times[block.last_row], sum(times[i] for i in members))


def test_the_layers_nodes_fit_inside_the_backward_pass(resnet20: Profile) -> None:
    parts = resnet20.train
    assert parts is not None
    for samples in resnet20.passes:
        backward = sum(sample.duration_s for sample in samples if sample.phase == BACKWARD)
        # every node's span lies inside loss.backward(); its median is of the same passes
        assert backward > 0
    layers_backward = sum(layer.backward_s or 0.0 for layer in resnet20.layers if layer.leaf)
    assert layers_backward <= parts.backward_s * 1.05
    assert parts.loss_s > 0 and parts.optimizer_s > 0 and parts.backward_other_s >= 0


def test_the_optimizer_runs_on_the_profiles_own_model(resnet20: Profile) -> None:
    # The profile builds its model; the spec is unchanged and the step's update is timed.
    assert resnet20.spec == preset("cifar/resnet20")
    assert resnet20.card.optimizer == TRAIN.optimizer and resnet20.card.mode == "train"


def test_json_has_forward_backward_and_the_training_parts(resnet20: Profile) -> None:
    data = json.loads(resnet20.to_json())
    assert data["mode"] == "train"
    for layer in data["layers"]:
        assert layer["time_ms"] == pytest.approx(layer["forward_ms"] + layer["backward_ms"])
    for stage in data["stages"]:
        assert {"forward_ms", "backward_ms", "time_ms"} <= stage.keys()
    assert {"loss_ms", "backward_other_ms", "optimizer_ms", "backward_ms"} <= data["train"].keys()


def test_inference_profiles_have_no_backward() -> None:
    result = profile(SE_SPEC, BenchConfig(device="cpu", threads=1, warmup=0, iterations=1))
    assert result.train is None
    assert all(layer.backward_s is None and layer.forward_s == layer.time_s for layer in result.layers)
    data = json.loads(result.to_json())
    assert data["train"] is None and data["layers"][0]["backward_ms"] is None


def test_chrome_trace_has_forward_and_backward_events(resnet20: Profile) -> None:
    trace = json.loads(json.dumps(resnet20.chrome_trace()))
    complete = [event for event in trace["traceEvents"] if event["ph"] == "X"]
    leaves = [layer.index for layer in resnet20.layers if layer.leaf]
    for number in range(TRAIN.iterations):
        forward = [e for e in complete if e["args"]["pass"] == number and e["args"]["phase"] == FORWARD]
        assert sorted(e["args"]["row"] for e in forward) == sorted([*leaves, LOSS_ROW])
        backward = [e for e in complete if e["args"]["pass"] == number and e["args"]["phase"] == BACKWARD]
        assert backward and all(e["cat"] == BACKWARD for e in backward)
        assert {e["args"]["row"] for e in backward} <= {*leaves, LOSS_ROW}
        assert min(e["ts"] for e in backward) >= max(e["ts"] for e in forward)
    assert any(event["name"] == "loss" for event in complete)


def test_attention_modules_hold_their_members_forward_and_backward() -> None:
    result = profile(SE_SPEC, BenchConfig(device="cpu", threads=1, warmup=0, iterations=1, mode="train"))
    rows = analyze(SE_SPEC).rows
    modules = [row for row in rows if row.op == "module"]
    assert modules
    for row in modules:
        layer = result.layers[row.index]
        members = [result.layers[r.index] for r in rows if r.name.startswith(row.name + ".")]
        members = [member for member in members if member.leaf]
        assert not layer.leaf and layer.backward_s is not None
        assert math.isclose(layer.backward_s, sum(member.backward_s or 0.0 for member in members))


def test_a_spec_without_classes_is_refused_clearly() -> None:
    spec = ArchSpec(block="basic", depths=(1,), widths=(4,), input_size=(16, 16), num_classes=0)
    with pytest.raises(BenchError, match=r"classifier.*--classes N"):
        profile(spec, TRAIN)


def test_each_step_owns_the_nodes_it_made_and_an_inplace_relu_its_own() -> None:
    clock = BackwardClock("cpu")
    linear = torch.nn.Linear(3, 4)
    clock.begin(0.0)
    hidden = linear(torch.randn(2, 3))
    clock.capture(0, hidden)
    out = torch.relu_(hidden)  # rebases hidden's history onto a node of its own
    clock.capture(1, out)
    loss = out.sum()
    assert clock.arm(loss) == 4  # addmm + the weight's transpose, relu, sum
    loss.backward()
    owners = Counter(sample.index for sample in clock.samples())
    assert owners == {0: 2, 1: 1, LOSS_ROW: 1}
    assert all(sample.phase == BACKWARD and sample.duration_s >= 0 for sample in clock.samples())


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_specs(max_stages=2))
def test_every_generated_spec_profiles_every_row_forward_and_backward(spec: ArchSpec) -> None:
    spec = replace(spec, num_classes=3)
    config = BenchConfig(device="cpu", threads=1, warmup=0, iterations=1, batch_size=2, mode="train")
    result = profile(spec, config)
    assert [layer.name for layer in result.layers] == [row.name for row in analyze(spec).rows]
    assert all(layer.forward_s >= 0 and (layer.backward_s or 0.0) >= 0 for layer in result.layers)
    weighted = [layer for layer in result.layers if layer.type in ("Conv2d", "Linear")]
    assert all(layer.backward_s for layer in weighted)  # every weight's gradient is someone's


@pytest.mark.slow
def test_per_layer_forward_and_backward_sum_matches_a_plain_step() -> None:
    # As the inference check: run it on a machine at rest, the medians of enough passes.
    config = BenchConfig(device="cpu", threads=1, warmup=3, iterations=30, batch_size=2, mode="train")
    result = profile(preset("cifar/resnet20"), config)
    assert abs(result.agreement - 1.0) <= AGREEMENT_TOLERANCE, result.agreement


def test_a_step_beyond_the_free_memory_is_refused_before_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import explorer.core.run_setup

    # The one memory check every run passes, with a training step's need (not a forward pass's).
    monkeypatch.setattr(explorer.core.run_setup, "free_memory", lambda _device: 1024)
    with pytest.raises(BenchError, match=r"a training step at batch 2 needs about .* lower the batch size"):
        profile(SE_SPEC, TRAIN)
