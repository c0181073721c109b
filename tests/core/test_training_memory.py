"""The training-memory prediction against what autograd really keeps on a CPU forward pass."""

from __future__ import annotations

import dataclasses
import math
import re

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core import parts
from explorer.core.analysis import analyze
from explorer.core.build import build_model
from explorer.core.memory import LiveTensorPeak
from explorer.core.presets import PRESET_NAMES, preset
from explorer.core.spec import ArchSpec
from explorer.core.training_memory import (
    MAX_MEMORY_SIZE,
    OPTIMIZERS,
    PRECISIONS,
    TrainingMemory,
    TrainingMemoryError,
    largest_batch_that_fits,
    parse_memory_size,
    predict_training_memory,
)
from explorer.core.units import format_bytes
from tests.saved_tensors_oracle import SavedTensors, saved_tensors
from tests.strategies import small_specs

BATCH = 2
TOLERANCE = 0.02  # the bound; on torch 2.x the two agree to the byte
HEAD_MODULES = frozenset({"avgpool", "flatten", "fc", "norm", "act", "loss"})
# Presets whose oracle pass takes more than a few seconds on two busy cores.
SLOW_LAYER_COUNT = 150


def _is_slow(name: str) -> bool:
    return len(analyze(preset(name)).rows) > SLOW_LAYER_COUNT


def _stage_of(path: str) -> str:
    top = path.split(".")[0]
    if top.startswith("layer"):
        return top
    return "head" if top in HEAD_MODULES else "stem"


def _unfilled_model(spec: ArchSpec) -> torch.nn.Module:
    """The model with constant weights: what autograd keeps does not depend on their values,
    and skipping the random initialisation of the big presets saves most of their time."""
    model = build_model(spec, "meta").to_empty(device="cpu")
    with torch.no_grad():
        for tensor in (*model.parameters(), *model.buffers()):
            tensor.fill_(0.5)
    return model


def _block_of(path: str) -> str:
    return ".".join(path.split(".")[:2]) if path.startswith("layer") else ""


def _measure(spec: ArchSpec, precision: str = "float32", batch: int = BATCH) -> SavedTensors:
    torch.manual_seed(0)
    model = _unfilled_model(spec) if precision == "float32" else build_model(spec)
    inputs = torch.randn(batch, *spec.input_shape)
    labels = torch.randint(0, spec.num_classes, (batch,)) if spec.num_classes else None
    return saved_tensors(model, inputs, labels, precision)


def _assert_matches(spec: ArchSpec, precision: str = "float32") -> TrainingMemory:
    measured = _measure(spec, precision)
    predicted = predict_training_memory(spec, BATCH, precision=precision, device_type="cpu")
    assert predicted.saved_activation_bytes == pytest.approx(measured.activation_bytes, rel=TOLERANCE)
    assert predicted.weight_copy_bytes == pytest.approx(measured.weight_copy_bytes, rel=TOLERANCE)
    by_stage = measured.activation_bytes_by(_stage_of)
    for group in predicted.stages:
        assert group.saved_bytes == pytest.approx(by_stage.get(group.name, 0), rel=TOLERANCE), group.name
    assert set(by_stage) <= {group.name for group in predicted.stages}
    by_block = measured.activation_bytes_by(_block_of)
    for group in predicted.blocks:
        assert group.saved_bytes == pytest.approx(by_block.get(group.name, 0), rel=TOLERANCE), group.name
    return predicted


def _small(name: str) -> ArchSpec:
    """The preset at a 32x32 input: every stage still has a map to pool and filter."""
    return dataclasses.replace(preset(name), input_size=(32, 32))


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if _is_slow(n) else n for n in PRESET_NAMES],
)
def test_saved_activations_equal_autograds_for_every_preset(name: str) -> None:
    _assert_matches(_small(name))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=small_specs(), precision=st.sampled_from(PRECISIONS))
def test_saved_activations_equal_autograds_for_generated_specs(spec: ArchSpec, precision: str) -> None:
    _assert_matches(spec, precision)


def _every_kind() -> list[tuple[str, str]]:
    return [(field, key) for field, kinds in parts.FIELD_KINDS.items() for key in kinds]


@pytest.mark.parametrize(("field", "key"), _every_kind())
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_every_kind_of_part_is_counted_exactly(field: str, key: str, precision: str) -> None:
    # A deep-stemmed, dilated, drop-path network whose every block changes shape, so that
    # each kind of part appears, with the one named swapped in.
    fields: dict[str, object] = {
        "block": "bottleneck",
        "depths": (1, 2, 1, 1),
        "widths": (8, 16, 16, 16),
        "stem": "deep",
        "stem_width": 8,
        "input_size": (32, 32),
        "num_classes": 5,
        "drop_path": 0.3,
        "attention": "se",
        "shortcut": "avg-down",
        field: key,
    }
    if field == "block" and not parts.BLOCKS[key].bottleneck:
        fields["stride_on"] = "3x3"
    if field == "shortcut" and not parts.SHORTCUTS[key].can_shrink:
        fields["widths"] = (16, 16, 16, 16)
        fields["stem_width"] = 4 if fields["block"] == "bottleneck" else 8
    spec = ArchSpec(**fields)  # type: ignore[arg-type]
    if parts.stem_stride(spec) * math.prod(spec.stage_strides) >= 32:
        spec = dataclasses.replace(spec, output_stride=16)  # a dilated stage: the 'same' pool
    _assert_matches(spec, precision)


def test_mixed_precision_halves_the_activations_and_keeps_half_weights() -> None:
    spec = _small("torchvision/resnet18")
    full = _assert_matches(spec, "float32")
    half = _assert_matches(spec, "bfloat16")
    assert full.weight_copy_bytes == 0
    assert half.saved_activation_bytes < 0.6 * full.saved_activation_bytes
    conv_and_linear_weights = sum(
        module.weight.numel()
        for module in build_model(spec, "meta").modules()
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear))
    )
    assert half.weight_copy_bytes == 2 * conv_and_linear_weights
    assert half.param_bytes == full.param_bytes  # autocast keeps float32 master weights


def test_layers_and_stages_add_up_to_the_total() -> None:
    memory = predict_training_memory(_small("torchvision/resnet50"), 3)
    assert sum(memory.layer_saved_bytes) + memory.loss_saved_bytes == memory.saved_activation_bytes
    assert sum(group.saved_bytes for group in memory.stages) == memory.saved_activation_bytes
    for stage, summary in zip(memory.stages[1:-1], analyze(memory.spec).stages, strict=True):
        members = [group.saved_bytes for group in memory.blocks if group.name.split(".")[0] == stage.name]
        assert len(members) == len(summary.blocks)
        assert sum(members) == stage.saved_bytes
    assert [group.name for group in memory.stages] == ["stem", "layer1", "layer2", "layer3", "layer4", "head"]


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_parameters_gradients_and_optimizer_state_match_a_real_step(optimizer: str) -> None:
    spec = ArchSpec(depths=(1, 1), widths=(8, 16), input_size=(16, 16), num_classes=3, attention="se")
    model = build_model(spec)
    if optimizer == "adamw":
        step: torch.optim.Optimizer = torch.optim.AdamW(model.parameters())
    else:
        step = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9 if optimizer == "sgd-momentum" else 0)
    loss = torch.nn.functional.cross_entropy(model(torch.randn(2, *spec.input_shape)), torch.tensor([0, 1]))
    loss.backward()
    step.step()
    memory = predict_training_memory(spec, 2, optimizer)
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    grads = sum(p.grad.numel() * p.grad.element_size() for p in model.parameters() if p.grad is not None)
    state = sum(
        value.numel() * value.element_size()
        for per_param in step.state.values()
        for name, value in per_param.items()
        if isinstance(value, torch.Tensor) and name != "step"  # AdamW's counters live on the CPU
    )
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    assert (memory.param_bytes, memory.grad_bytes, memory.optimizer_state_bytes) == (params, grads, state)
    assert memory.buffer_bytes == buffers


def test_total_is_the_sum_of_its_parts() -> None:
    memory = predict_training_memory(_small("timm/resnet50d"), 4, "adamw", "float16")
    assert memory.total_bytes == (
        memory.param_bytes
        + memory.buffer_bytes
        + memory.grad_bytes
        + memory.optimizer_state_bytes
        + memory.saved_activation_bytes
        + memory.weight_copy_bytes
        + memory.input_bytes
        + memory.backward_peak_bytes
    )
    assert memory.optimizer_state_bytes == 2 * memory.param_bytes
    assert memory.input_bytes == 4 * 3 * 32 * 32 * 4  # the float32 images; autograd keeps their half copy


def test_backward_peak_holds_at_least_the_largest_gradient_pair() -> None:
    spec = _small("torchvision/resnet18")
    one, eight = (predict_training_memory(spec, batch) for batch in (1, 8))
    assert one.backward_peak_bytes > 0
    assert eight.backward_peak_bytes == pytest.approx(8 * one.backward_peak_bytes, rel=0.01)


def test_saved_activations_grow_linearly_with_the_batch() -> None:
    spec = _small("torchvision/resnet18")
    sizes = [predict_training_memory(spec, batch).saved_activation_bytes for batch in (1, 2, 3)]
    # Only the batch-norm statistics and the loss's scalar weight do not scale with it.
    assert sizes[2] - sizes[1] == sizes[1] - sizes[0] > 0
    measured = _measure(spec, batch=3).activation_bytes
    assert sizes[2] == pytest.approx(measured, rel=TOLERANCE)


@pytest.mark.parametrize("precision", PRECISIONS)
def test_largest_batch_is_exact_at_the_boundary(precision: str) -> None:
    spec = _small("torchvision/resnet50")
    for memory in (10**9, 3 * 1024**3, 24 * 1024**3):
        batch = largest_batch_that_fits(spec, memory, "adamw", precision)
        assert batch >= 1
        assert predict_training_memory(spec, batch, "adamw", precision).total_bytes <= memory
        assert predict_training_memory(spec, batch + 1, "adamw", precision).total_bytes > memory


def test_largest_batch_grows_with_memory_and_is_zero_when_nothing_fits() -> None:
    spec = _small("torchvision/resnet18")
    fixed = predict_training_memory(spec, 1).total_bytes
    assert largest_batch_that_fits(spec, fixed - 1) == 0
    assert largest_batch_that_fits(spec, fixed) == 1
    batches = [largest_batch_that_fits(spec, fixed * factor) for factor in (1, 2, 5, 50, 500)]
    assert batches == sorted(batches)
    assert len(set(batches)) == len(batches)


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda spec: predict_training_memory(spec, 0), "batch"),
        (lambda spec: predict_training_memory(spec, 2.5), "batch"),  # type: ignore[arg-type]
        (lambda spec: predict_training_memory(spec, 1, "adam"), "optimizer"),
        (lambda spec: predict_training_memory(spec, 1, "sgd", "half"), "precision"),
        (lambda spec: largest_batch_that_fits(spec, -1), "memory size"),
    ],
)
def test_bad_arguments_are_named(call: object, named: str) -> None:
    with pytest.raises(TrainingMemoryError, match=named) as raised:
        call(ArchSpec())  # type: ignore[operator]
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_a_real_steps_peak_stays_within_the_prediction() -> None:
    # torch's own tensor accounting over forward, loss and backward, above the weights,
    # buffers and momentum made before it: the prediction (every saved tensor and every
    # gradient at once, plus the estimate) bounds it, and not by much, since backward
    # frees saved tensors while it makes the weight gradients.
    spec = dataclasses.replace(preset("torchvision/resnet18"), input_size=(64, 64))
    torch.manual_seed(0)
    model = build_model(spec)
    inputs, labels = torch.randn(4, *spec.input_shape), torch.randint(0, 1000, (4,))
    peak = LiveTensorPeak()
    with peak.track():
        torch.nn.functional.cross_entropy(model(inputs), labels).backward()
    memory = predict_training_memory(spec, 4, device_type="cpu")
    predicted = memory.saved_activation_bytes + memory.grad_bytes + memory.backward_peak_bytes
    assert 0.85 * predicted <= peak.peak_bytes <= predicted


@pytest.mark.parametrize("in_bytes", [512, 3 * 1024**2, 24 * 1024**3, 5 * 1024**4, 3 * 1024**5, 1024**6])
def test_a_size_as_the_app_prints_it_reads_back(in_bytes: int) -> None:
    assert parse_memory_size(format_bytes(in_bytes)) == in_bytes


def test_every_unit_a_size_message_names_is_accepted() -> None:
    with pytest.raises(TrainingMemoryError) as too_large:
        parse_memory_size(f"{2 * MAX_MEMORY_SIZE}")
    largest = str(too_large.value).rsplit("at most ", 1)[1]
    assert parse_memory_size(largest) == MAX_MEMORY_SIZE
    with pytest.raises(TrainingMemoryError) as not_a_size:
        parse_memory_size("lots")
    units = re.findall(r"\b[KMGTPE]i?B\b", str(not_a_size.value))
    assert {"KiB", "EiB", "KB", "EB"} <= set(units)
    for unit in units:
        assert parse_memory_size(f"1{unit}") == parse_memory_size(f"1 {unit.lower()}") > 1
