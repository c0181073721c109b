"""profile(spec, config): where a forward pass's time goes, layer by layer.

The real model runs as the benchmark runs it (``explorer.core.bench.eager_run``: the same
device, threads, dtype and layout), with every step of the layer plan timed on its own.
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
    ``time_s``, and ``speed_ratio`` that speed over the model's average (``None`` without MACs).
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


@dataclass(frozen=True, slots=True)
class StepSample:
    """One leaf's clock reading in one pass: seconds from the pass's start, and its length."""

    index: int
    start_s: float
    duration_s: float


@dataclass(frozen=True, slots=True)
class Profile:
    spec: ArchSpec
    config: BenchConfig
    card: ReproCard
    layers: tuple[LayerTime, ...]
    blocks: tuple[GroupTime, ...]
    stages: tuple[GroupTime, ...]
    end_to_end: TimingStats
    """The plain passes (the model called whole, no clocks)."""
    profiled: TimingStats
    """The profiled passes, timed whole: their excess over ``end_to_end`` is the clocks' cost."""
    passes: tuple[tuple[StepSample, ...], ...]

    @property
    def total_s(self) -> float:
        """The sum of the layers' median times."""
        return sum(layer.time_s for layer in self.layers if layer.leaf)

    @property
    def layer_sum_s(self) -> float:
        """The median over the profiled passes of the sum of each pass's layer times."""
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
        macs = sum(layer.macs for layer in self.layers if layer.leaf)
        return _gmacs(macs, self.config.batch_size, self.total_s)

    def layer_times(self) -> dict[int, float]:
        """Each row's time in seconds, by row index."""
        return {layer.index: layer.time_s for layer in self.layers}

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec.to_dict(),
            "config": asdict(self.config),
            "card": plain(asdict(self.card)),
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
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def chrome_trace(self) -> dict[str, Any]:
        """The passes as a Chrome trace (Perfetto, chrome://tracing): one complete event per
        layer per pass, the passes one after the other on one track, in microseconds."""
        layers = {layer.index: layer for layer in self.layers}
        events: list[dict[str, Any]] = [
            {"name": "process_name", "ph": "M", "pid": 1, "args": {"name": "resnet-explorer profile"}},
            {"name": "thread_name", "ph": "M", "pid": 1, "tid": 1, "args": {"name": self.card.device}},
        ]
        offset_us = 0.0
        for number, samples in enumerate(self.passes):
            end_us = offset_us
            for sample in samples:
                layer = layers[sample.index]
                start_us = offset_us + sample.start_s * 1e6
                events.append(
                    {
                        "name": layer.name,
                        "cat": layer.type,
                        "ph": "X",
                        "ts": round(start_us, 3),
                        "dur": round(sample.duration_s * 1e6, 3),
                        "pid": 1,
                        "tid": 1,
                        "args": {
                            "row": layer.index,
                            "pass": number,
                            "block": layer.block,
                            "macs": layer.macs,
                        },
                    }
                )
                end_us = max(end_us, start_us + sample.duration_s * 1e6)
            offset_us = end_us + 10.0  # a visible gap between passes
        return {"traceEvents": events, "displayTimeUnit": "ms"}


def _row_dict(layer: LayerTime) -> dict[str, Any]:
    data = asdict(layer)
    data["time_ms"] = layer.time_s * 1e3
    return data


def _group_dict(group: GroupTime) -> dict[str, Any]:
    data = asdict(group)
    data["time_ms"] = group.time_s * 1e3
    return data


def _gmacs(macs: int, batch: int, seconds: float) -> float | None:
    if macs <= 0 or seconds <= 0:
        return None
    return macs * batch / seconds / 1e9


class _StepClock:
    """Times every leaf step of the model, one pass at a time (see the module's notes)."""

    def __init__(self, device_key: str) -> None:
        import torch

        self._torch = torch
        self._device_key = device_key
        self._cuda = device_key.startswith("cuda")
        self._pending: list[tuple[int, Any, Any]] = []
        self._samples: list[StepSample] = []
        self._pass_start: Any = None

    def begin(self) -> None:
        from explorer.core.devices import synchronize

        self._pending = []
        self._samples = []
        synchronize(self._device_key)
        if self._cuda:
            self._pass_start = self._torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
            self._pass_start.record()
        else:
            self._pass_start = time.perf_counter()

    def run(self, step: Any, values: dict[int, Any]) -> Any:
        from explorer.core.blocks import run_step

        if self._cuda:
            start = self._torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
            end = self._torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
            start.record()
            out = run_step(step, values)
            end.record()
            self._pending.append((step.index, start, end))
            return out
        from explorer.core.devices import synchronize

        synchronize(self._device_key)
        began = time.perf_counter()
        out = run_step(step, values)
        synchronize(self._device_key)
        self._samples.append(StepSample(step.index, began - self._pass_start, time.perf_counter() - began))
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
    """Time ``spec``'s forward pass layer by layer, as ``config`` says.

    ``config.warmup`` untimed passes, then ``config.iterations`` profiled passes, each
    after a plain one. ``progress(done, total)`` follows every pass; ``should_stop()``
    is asked before each and raises ``ProfileCancelled``. Raises ``BenchError`` for a
    configuration this machine cannot run (or ``compile``, whose fused graph has no layers
    to time); errors of the device propagate.
    """
    from explorer.core.bench import eager_run, forward_context, run_card, time_forward

    if config.compile:
        raise BenchError("a profile times the eager model's layers: run it without compile")
    if getattr(config, "mode", "inference") != "inference":
        # A training step's backward pass has no per-layer clocks yet: refuse it rather than
        # time inference under a train-mode label.
        raise BenchError("a profile times inference passes only: choose mode inference")
    analysis = analyze(spec)
    plain_config = replace(config, warmup=0, iterations=1, min_time_s=None)
    total = config.warmup + config.iterations
    plain_s: list[float] = []
    profiled_s: list[float] = []
    passes: list[tuple[StepSample, ...]] = []
    with eager_run(spec, config) as (device, model, inputs):
        card = run_card(spec, config, device)
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


def _summarise(
    analysis: Analysis,
    config: BenchConfig,
    card: ReproCard,
    passes: list[tuple[StepSample, ...]],
    plain_s: list[float],
    profiled_s: list[float],
) -> Profile:
    plan = layer_plan(analysis.spec)
    by_row: dict[int, list[float]] = {}
    for samples in passes:
        for sample in samples:
            by_row.setdefault(sample.index, []).append(sample.duration_s)
    leaf_time = {index: statistics.median(values) for index, values in by_row.items()}
    rows = analysis.rows
    missing = [row.name for row in rows if row.op not in CONTAINER_OPS and row.index not in leaf_time]
    if missing:
        raise RuntimeError(f"no time measured for {', '.join(missing[:3])}")
    total = sum(leaf_time.values())
    macs_total = sum(row.macs for row in rows if row.op not in CONTAINER_OPS)
    average = _gmacs(macs_total, config.batch_size, total)

    def ratio(speed: float | None) -> float | None:
        return None if speed is None or average is None else speed / average

    def span_time(first: int, last: int) -> tuple[float, int]:
        members = [row for row in rows[first : last + 1] if row.op not in CONTAINER_OPS]
        return sum(leaf_time[row.index] for row in members), sum(row.macs for row in members)

    blocks_of_stage = {stage.index: stage.blocks for stage in analysis.stages}
    layers = []
    for row in rows:
        leaf = row.op not in CONTAINER_OPS
        if leaf:
            seconds, macs = leaf_time[row.index], row.macs
        else:
            seconds, macs = span_time(plan.layers[row.index].first, row.index - 1)
        speed = _gmacs(macs, config.batch_size, seconds)
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
            )
        )

    def group(name: str, first: int, last: int) -> GroupTime:
        seconds, macs = span_time(first, last)
        speed = _gmacs(macs, config.batch_size, seconds)
        share = seconds / total if total > 0 else 0.0
        return GroupTime(name, first, last, seconds, share, macs, speed, ratio(speed))

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
    )
