"""profile(spec, config): where a forward pass's (or a training step's) time goes, layer by layer.

The real model runs as the benchmark runs it (``explorer.core.run_setup``: the same
device, threads, dtype, layout and memory check), with every step of the layer plan timed on its own.
A container (a block, an attention module) runs its members, so its row, the blocks and
the stages hold the sums of their layers' times; only the leaves are clocked.

How a step is clocked: the device is synchronised and ``perf_counter`` read on either side
of it (on CUDA, a pair of events recorded in the stream around it, read after the pass).
The other way, a ``torch.profiler`` session with a ``record_function`` range per step, was
measured against it on the CPU (one thread, batch 1, interleaved with plain passes): the
profiler's ranges added up to 1.08-1.58x the plain pass on cifar/resnet20, 1.28x on
cifar/resnet56 and 1.07x on torchvision/resnet50, because it records every operator inside
each range; the clock pairs added up to 0.93-1.01x on the same networks. So the clock
pairs, whose sum tracks the plain pass best and which need no profiler session (so they
work alike on MPS), are used.

Plain passes (the model called as a whole, no clocks) alternate with the profiled ones, so
that both see the same load on the machine; their median is the end-to-end time the
per-layer sum is checked against.

In train mode (``config.mode == "train"``) a pass is a training step of the model in train
mode (``explorer.core.train_step``): the forward steps clocked as above, the loss, then the
backward pass, in which each layer's time is that of the autograd nodes its forward step
made (``explorer.core.backward_clock``), then the optimizer's step. The plain pass is a
training step's forward, loss and backward, timed whole; the per-layer sum it is checked
against holds each layer's forward and backward and the loss's. What backward spends
outside the layers' nodes (the gradients' accumulation, the engine's work between nodes,
the hooks' own cost) is reported apart, as is the optimizer's step.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

from explorer.core.analysis import Analysis, analyze
from explorer.core.backward_clock import BACKWARD, FORWARD, LOSS_ROW, BackwardClock, StepSample
from explorer.core.benchtypes import BenchConfig, BenchError, ReproCard, TimingStats
from explorer.core.jsonable import plain
from explorer.core.plan import CONTAINER_OPS, layer_plan
from explorer.core.spec import ArchSpec

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]

STEM = "stem"
HEAD = "head"
# The per-layer sum should come within this fraction of the plain pass's median; further
# off, the clocks' own cost or the machine's load distorts the shares (said with the result).
AGREEMENT_TOLERANCE = 0.15


class ProfileCancelled(Exception):
    """``should_stop`` ended the profile before its timed passes were done."""


@dataclass(frozen=True, slots=True)
class LayerTime:
    """One analysis row's time: its own (a leaf) or its members' sum (a container).

    ``macs`` are per image, as in the analysis; ``gmacs_per_s`` is for the whole batch over
    the forward time, and ``speed_ratio`` that speed over the model's average (``None``
    without MACs). In train mode ``time_s`` is ``forward_s`` plus ``backward_s``; in
    inference there is no backward (``None``) and ``time_s`` is ``forward_s``.
    """

    index: int
    name: str
    type: str
    stage: int | None
    block: str | None
    leaf: bool
    time_s: float
    share: float
    macs: int
    gmacs_per_s: float | None
    speed_ratio: float | None
    forward_s: float
    backward_s: float | None


@dataclass(frozen=True, slots=True)
class GroupTime:
    """A stage (or the stem, the head) or a block: the sum of its layers' times."""

    name: str
    first_row: int
    last_row: int
    time_s: float
    share: float
    macs: int
    gmacs_per_s: float | None
    speed_ratio: float | None
    forward_s: float
    backward_s: float | None


@dataclass(frozen=True, slots=True)
class TrainParts:
    """What a training step spends outside the layers (train mode), medians over the passes.

    ``loss_s``: the cross-entropy's forward and backward; ``backward_other_s``: the part of
    the backward pass no layer's node ran in (the parameters' gradient accumulation, the
    engine's summing of gradients between nodes); ``optimizer_s``: the optimizer's step,
    which runs on the profile's own model after every profiled pass.
    """

    loss_s: float
    backward_other_s: float
    optimizer_s: float
    backward_s: float
    """The whole backward pass, timed around ``loss.backward()``."""


@dataclass(frozen=True, slots=True)
class Profile:
    spec: ArchSpec
    config: BenchConfig
    card: ReproCard
    layers: tuple[LayerTime, ...]
    blocks: tuple[GroupTime, ...]
    stages: tuple[GroupTime, ...]
    end_to_end: TimingStats
    """The plain passes (the model called whole, no clocks; in train mode forward, loss and
    backward, without the optimizer)."""
    profiled: TimingStats
    """The profiled passes, timed whole: their excess over ``end_to_end`` is the clocks' cost."""
    passes: tuple[tuple[StepSample, ...], ...]
    train: TrainParts | None = None
    """What a training step spends outside the layers; ``None`` in inference."""

    @property
    def training(self) -> bool:
        return self.train is not None

    @property
    def total_s(self) -> float:
        """The sum of the layers' median times."""
        return sum(layer.time_s for layer in self.layers if layer.leaf)

    @property
    def layer_sum_s(self) -> float:
        """The median over the profiled passes of the sum of each pass's layer times (and in
        train mode the loss's, forward and backward, which the plain pass has too)."""
        return statistics.median(sum(sample.duration_s for sample in samples) for samples in self.passes)

    @property
    def agreement(self) -> float:
        """The per-layer sum over the plain pass's median (1.0: they agree exactly).

        Both are medians of whole passes, so a loaded machine's delays weigh on both alike;
        the sum of the layers' own medians (``total_s``) leaves out delays that strike a
        different layer in each pass, and falls short of a loaded pass by as much as they.
        """
        median = self.end_to_end.median_s
        return self.layer_sum_s / median if median > 0 else 0.0

    @property
    def agrees(self) -> bool:
        return abs(self.agreement - 1.0) <= AGREEMENT_TOLERANCE

    @property
    def overhead(self) -> float:
        """How much longer a profiled pass takes than a plain one, as a fraction."""
        if self.end_to_end.median_s <= 0:
            return 0.0
        return self.profiled.median_s / self.end_to_end.median_s - 1.0

    @property
    def average_gmacs_per_s(self) -> float | None:
        """The forward pass's MACs over its time (the layers', without the loss)."""
        leaves = [layer for layer in self.layers if layer.leaf]
        macs = sum(layer.macs for layer in leaves)
        return _gmacs(macs, self.config.batch_size, sum(layer.forward_s for layer in leaves))

    def layer_times(self) -> dict[int, float]:
        """Each row's time in seconds, by row index."""
        return {layer.index: layer.time_s for layer in self.layers}

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec.to_dict(),
            "config": asdict(self.config),
            "card": plain(asdict(self.card)),
            "mode": self.config.mode,
            "end_to_end_ms": self.end_to_end.median_s * 1e3,
            "profiled_pass_ms": self.profiled.median_s * 1e3,
            "layer_sum_ms": self.layer_sum_s * 1e3,
            "layer_medians_sum_ms": self.total_s * 1e3,
            "agreement": self.agreement,
            "overhead": self.overhead,
            "average_gmacs_per_s": self.average_gmacs_per_s,
            "macs_unit": "per image",
            "layers": [_row_dict(layer) for layer in self.layers],
            "blocks": [_group_dict(group) for group in self.blocks],
            "stages": [_group_dict(group) for group in self.stages],
            "train": None if self.train is None else _train_dict(self.train),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def chrome_trace(self) -> dict[str, Any]:
        """The passes as a Chrome trace (Perfetto, chrome://tracing): one complete event per
        layer per pass, the passes one after the other on one track, in microseconds. In
        train mode the loss's forward follows the layers', and the backward pass has one
        event per autograd node (category "backward", named by its layer or "loss")."""
        layers = {layer.index: layer for layer in self.layers}
        names = {index: layer.name for index, layer in layers.items()} | {LOSS_ROW: "loss"}
        events: list[dict[str, Any]] = [
            {"name": "process_name", "ph": "M", "pid": 1, "args": {"name": "resnet-explorer profile"}},
            {"name": "thread_name", "ph": "M", "pid": 1, "tid": 1, "args": {"name": self.card.device}},
        ]
        offset_us = 0.0
        for number, samples in enumerate(self.passes):
            end_us = offset_us
            for sample in samples:
                layer = layers.get(sample.index)
                start_us = offset_us + sample.start_s * 1e6
                category = "loss" if layer is None else layer.type
                events.append(
                    {
                        "name": names[sample.index],
                        "cat": category if sample.phase == FORWARD else BACKWARD,
                        "ph": "X",
                        "ts": round(start_us, 3),
                        "dur": round(sample.duration_s * 1e6, 3),
                        "pid": 1,
                        "tid": 1,
                        "args": {
                            "row": sample.index,
                            "pass": number,
                            "phase": sample.phase,
                            "block": None if layer is None else layer.block,
                            "macs": 0 if layer is None else layer.macs,
                        },
                    }
                )
                end_us = max(end_us, start_us + sample.duration_s * 1e6)
            offset_us = end_us + 10.0  # a visible gap between passes
        return {"traceEvents": events, "displayTimeUnit": "ms"}


def _with_ms(data: dict[str, Any], row: LayerTime | GroupTime) -> dict[str, Any]:
    data["time_ms"] = row.time_s * 1e3
    data["forward_ms"] = row.forward_s * 1e3
    data["backward_ms"] = None if row.backward_s is None else row.backward_s * 1e3
    return data


def _row_dict(layer: LayerTime) -> dict[str, Any]:
    return _with_ms(asdict(layer), layer)


def _group_dict(group: GroupTime) -> dict[str, Any]:
    return _with_ms(asdict(group), group)


def _train_dict(parts: TrainParts) -> dict[str, float]:
    return {
        "loss_ms": parts.loss_s * 1e3,
        "backward_other_ms": parts.backward_other_s * 1e3,
        "optimizer_ms": parts.optimizer_s * 1e3,
        "backward_ms": parts.backward_s * 1e3,
    }


def _gmacs(macs: int, batch: int, seconds: float) -> float | None:
    if macs <= 0 or seconds <= 0:
        return None
    return macs * batch / seconds / 1e9


class _StepClock:
    """Times every leaf step of the model, one pass at a time (see the module's notes)."""

    def __init__(self, device_key: str, on_output: Callable[[int, Any], None] | None = None) -> None:
        import torch

        self._torch = torch
        self._device_key = device_key
        self._cuda = device_key.startswith("cuda")
        self._on_output = on_output
        self._pending: list[tuple[int, Any, Any]] = []
        self._samples: list[StepSample] = []
        self._pass_start: Any = None
        self.origin = 0.0
        """The pass's start on ``perf_counter`` (on every device)."""

    def begin(self) -> None:
        from explorer.core.devices import synchronize

        self._pending = []
        self._samples = []
        synchronize(self._device_key)
        self.origin = time.perf_counter()
        if self._cuda:
            self._pass_start = self._torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
            self._pass_start.record()
        else:
            self._pass_start = self.origin

    def run(self, step: Any, values: dict[int, Any]) -> Any:
        from explorer.core.blocks import run_step

        if self._cuda:
            start = self._torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
            end = self._torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
            start.record()
            out = run_step(step, values)
            end.record()
            self._pending.append((step.index, start, end))
            if self._on_output is not None:
                self._on_output(step.index, out)
            return out
        from explorer.core.devices import synchronize

        synchronize(self._device_key)
        began = time.perf_counter()
        out = run_step(step, values)
        synchronize(self._device_key)
        self._samples.append(StepSample(step.index, began - self._pass_start, time.perf_counter() - began))
        if self._on_output is not None:
            self._on_output(step.index, out)
        return out

    def end(self) -> tuple[StepSample, ...]:
        if self._cuda:
            self._torch.cuda.synchronize(self._device_key)
            self._samples = [
                StepSample(
                    index,
                    self._pass_start.elapsed_time(start) / 1e3,
                    start.elapsed_time(end) / 1e3,
                )
                for index, start, end in self._pending
            ]
        return tuple(self._samples)


def _clocked_forward(module: Any, clock: _StepClock) -> Callable[[Any], Any]:
    from explorer.core.blocks import PlannedModule, PlannedSequential

    def forward(x: Any) -> Any:
        values = {module._source: x}
        out = x
        for step in module._steps:
            if isinstance(step.module, (PlannedModule, PlannedSequential)):
                out = step.module(values[step.inputs[0]])  # its own steps are clocked
            else:
                out = clock.run(step, values)
            values[step.index] = out
            for alias in step.aliases:
                values[alias] = out
        return out

    return forward


@contextlib.contextmanager
def _clocked(model: Any, clock: _StepClock) -> Iterator[None]:
    """``model`` with every container running its steps through ``clock``, for the block's length."""
    from explorer.core.blocks import PlannedModule, PlannedSequential

    containers = [m for m in model.modules() if isinstance(m, (PlannedModule, PlannedSequential))]
    for container in containers:
        container.forward = _clocked_forward(container, clock)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        for container in containers:
            del container.forward


def profile(
    spec: ArchSpec,
    config: BenchConfig,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> Profile:
    """Time ``spec``'s forward pass (or in train mode its training step) layer by layer.

    ``config.warmup`` untimed passes, then ``config.iterations`` profiled passes, each
    after a plain one. ``progress(done, total)`` follows every pass; ``should_stop()``
    is asked before each and raises ``ProfileCancelled``. Raises ``BenchError`` for a
    configuration this machine cannot run (or ``compile``, whose fused graph has no layers
    to time, or train mode without a classifier for the loss); errors of the device propagate.
    """
    if config.compile:
        raise BenchError("a profile times the eager model's layers: run it without compile")
    if config.mode == "train":
        return _profile_training(spec, config, progress, should_stop)
    from explorer.core.bench import forward_context, time_forward
    from explorer.core.run_setup import run_conditions

    analysis = analyze(spec)
    plain_config = replace(config, warmup=0, iterations=1, min_time_s=None)
    total = config.warmup + config.iterations
    plain_s: list[float] = []
    profiled_s: list[float] = []
    passes: list[tuple[StepSample, ...]] = []
    with run_conditions(spec, config) as conditions, _built(conditions) as run:
        device, model, inputs = run.device, run.model, run.inputs
        card = conditions.card()
        clock = _StepClock(device.key)
        for done in range(total):
            if should_stop is not None and should_stop():
                raise ProfileCancelled
            stats = time_forward(model, inputs, plain_config)
            with _clocked(model, clock), forward_context(config, device):
                clock.begin()
                began = time.perf_counter()
                model(inputs)
                samples = clock.end()
                wall = time.perf_counter() - began
            if done >= config.warmup and stats is not None:
                plain_s.append(stats.median_s)
                profiled_s.append(wall)
                passes.append(samples)
            if progress is not None:
                progress(done + 1, total)
    return _summarise(analysis, config, card, passes, plain_s, profiled_s)


@dataclass(frozen=True, slots=True)
class _TrainPass:
    samples: tuple[StepSample, ...]
    wall_s: float
    backward_s: float
    optimizer_s: float


def _plain_train_pass(step: Any, batch: tuple[Any, Any]) -> float:
    """A training step's forward, loss and backward, timed whole (no optimizer: ``update`` is apart)."""
    from explorer.core.devices import synchronize

    synchronize(step.device)
    began = time.perf_counter()
    step.backward(step.forward(batch))
    synchronize(step.device)
    return time.perf_counter() - began


def _profiled_train_pass(
    step: Any, batch: tuple[Any, Any], clock: _StepClock, backward: BackwardClock
) -> _TrainPass:
    """One training step with every layer's forward and backward clocked, then the optimizer's."""
    import torch

    from explorer.core.devices import synchronize

    images, labels = batch
    step.optimizer.zero_grad(set_to_none=True)
    clock.begin()
    backward.begin(clock.origin)
    with _clocked(step.model, clock), step.autocast():
        logits = step.model(images)
        synchronize(step.device)
        loss_began = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(logits, labels)
    synchronize(step.device)
    loss_ended = time.perf_counter()
    forward_samples = clock.end()
    del logits
    backward.arm(loss)
    synchronize(step.device)
    backward_began = time.perf_counter()
    step.backward(loss)
    del loss
    synchronize(step.device)
    backward_ended = time.perf_counter()
    step.update()
    synchronize(step.device)
    updated = time.perf_counter()
    loss_sample = StepSample(LOSS_ROW, loss_began - clock.origin, loss_ended - loss_began, FORWARD)
    return _TrainPass(
        samples=(*forward_samples, loss_sample, *backward.samples()),
        wall_s=backward_ended - clock.origin,
        backward_s=backward_ended - backward_began,
        optimizer_s=updated - backward_ended,
    )


def _profile_training(
    spec: ArchSpec,
    config: BenchConfig,
    progress: Progress | None,
    should_stop: ShouldStop | None,
) -> Profile:
    from explorer.core.run_setup import run_conditions

    analysis = analyze(spec)
    total = config.warmup + config.iterations
    plain_s: list[float] = []
    timed: list[_TrainPass] = []
    with run_conditions(spec, config) as conditions, _built(conditions) as run:
        device = run.device
        card = conditions.card()
        step = run.train_step(config)
        batch = (run.inputs, run.labels)
        backward = BackwardClock(device.key)
        clock = _StepClock(device.key, backward.capture)
        for done in range(total):
            if should_stop is not None and should_stop():
                raise ProfileCancelled
            plain = _plain_train_pass(step, batch)
            profiled = _profiled_train_pass(step, batch, clock, backward)
            if done >= config.warmup:
                plain_s.append(plain)
                timed.append(profiled)
            if progress is not None:
                progress(done + 1, total)
        step.optimizer.zero_grad(set_to_none=True)
        del step, batch
    passes = [entry.samples for entry in timed]
    loss_s = statistics.median(
        sum(sample.duration_s for sample in samples if sample.index == LOSS_ROW) for samples in passes
    )
    other_s = statistics.median(
        entry.backward_s - sum(sample.duration_s for sample in entry.samples if sample.phase == BACKWARD)
        for entry in timed
    )
    parts = TrainParts(
        loss_s=loss_s,
        backward_other_s=max(0.0, other_s),
        optimizer_s=statistics.median(entry.optimizer_s for entry in timed),
        backward_s=statistics.median(entry.backward_s for entry in timed),
    )
    profiled_s = [entry.wall_s for entry in timed]
    return _summarise(analysis, config, card, passes, plain_s, profiled_s, parts)


@contextlib.contextmanager
def _built(conditions: Any) -> Iterator[Any]:
    """The run's model, once the memory check (of a forward pass, or of a training step) passes."""
    conditions.refuse_if_short()
    with conditions.built() as run:
        yield run


def _medians_by_row(passes: list[tuple[StepSample, ...]], phase: str) -> dict[int, float]:
    """Each row's median over the passes of its time in ``phase`` (its nodes' sum in a backward
    pass; 0 in a pass where it ran none)."""
    per_pass: list[dict[int, float]] = []
    for samples in passes:
        sums: dict[int, float] = {}
        for sample in samples:
            if sample.phase == phase and sample.index != LOSS_ROW:
                sums[sample.index] = sums.get(sample.index, 0.0) + sample.duration_s
        per_pass.append(sums)
    indices = set().union(*per_pass) if per_pass else set()
    return {index: statistics.median(sums.get(index, 0.0) for sums in per_pass) for index in indices}


def _summarise(
    analysis: Analysis,
    config: BenchConfig,
    card: ReproCard,
    passes: list[tuple[StepSample, ...]],
    plain_s: list[float],
    profiled_s: list[float],
    train: TrainParts | None = None,
) -> Profile:
    plan = layer_plan(analysis.spec)
    forward_time = _medians_by_row(passes, FORWARD)
    backward_time = _medians_by_row(passes, BACKWARD) if train is not None else {}
    rows = analysis.rows
    missing = [row.name for row in rows if row.op not in CONTAINER_OPS and row.index not in forward_time]
    if missing:
        raise RuntimeError(f"no time measured for {', '.join(missing[:3])}")
    leaf_rows = [row for row in rows if row.op not in CONTAINER_OPS]
    total = sum(forward_time[row.index] + backward_time.get(row.index, 0.0) for row in leaf_rows)
    macs_total = sum(row.macs for row in leaf_rows)
    average = _gmacs(macs_total, config.batch_size, sum(forward_time[row.index] for row in leaf_rows))

    def ratio(speed: float | None) -> float | None:
        return None if speed is None or average is None else speed / average

    def span_time(first: int, last: int) -> tuple[float, float | None, int]:
        members = [row for row in rows[first : last + 1] if row.op not in CONTAINER_OPS]
        forward = sum(forward_time[row.index] for row in members)
        backward = None if train is None else sum(backward_time.get(row.index, 0.0) for row in members)
        return forward, backward, sum(row.macs for row in members)

    blocks_of_stage = {stage.index: stage.blocks for stage in analysis.stages}
    layers = []
    for row in rows:
        leaf = row.op not in CONTAINER_OPS
        if leaf:
            forward, macs = forward_time[row.index], row.macs
            backward = None if train is None else backward_time.get(row.index, 0.0)
        else:
            forward, backward, macs = span_time(plan.layers[row.index].first, row.index - 1)
        seconds = forward + (backward or 0.0)
        speed = _gmacs(macs, config.batch_size, forward)
        block = None
        if row.stage is not None and row.block is not None:
            block = blocks_of_stage[row.stage][row.block].name
        layers.append(
            LayerTime(
                row.index,
                row.name,
                row.type,
                row.stage,
                block,
                leaf,
                seconds,
                seconds / total if total > 0 else 0.0,
                macs,
                speed,
                ratio(speed),
                forward,
                backward,
            )
        )

    def group(name: str, first: int, last: int) -> GroupTime:
        forward, backward, macs = span_time(first, last)
        seconds = forward + (backward or 0.0)
        speed = _gmacs(macs, config.batch_size, forward)
        share = seconds / total if total > 0 else 0.0
        return GroupTime(name, first, last, seconds, share, macs, speed, ratio(speed), forward, backward)

    blocks = tuple(
        group(block.name, block.first_row, block.last_row)
        for stage in analysis.stages
        for block in stage.blocks
    )
    stages = []
    first_stage_row = min((b.first_row for s in analysis.stages for b in s.blocks), default=len(rows))
    last_stage_row = max((b.last_row for s in analysis.stages for b in s.blocks), default=-1)
    if first_stage_row > 0:
        stages.append(group(STEM, 0, first_stage_row - 1))
    for stage in analysis.stages:
        stages.append(group(stage.name, stage.blocks[0].first_row, stage.blocks[-1].last_row))
    if last_stage_row < len(rows) - 1:
        stages.append(group(HEAD, last_stage_row + 1, len(rows) - 1))
    return Profile(
        spec=analysis.spec,
        config=config,
        card=card,
        layers=tuple(layers),
        blocks=blocks,
        stages=tuple(stages),
        end_to_end=TimingStats.from_samples(plain_s),
        profiled=TimingStats.from_samples(profiled_s),
        passes=tuple(passes),
        train=train,
    )
