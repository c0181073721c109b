"""What the worker process runs, by name, and how each run is described and given time.

The functions here run in the worker (they import torch on first use); the records they
take and return are the core's torch-free ones. ``Job`` is what the asking side builds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from explorer.core.benchtypes import BenchConfig, BenchResult
from explorer.core.presets import spec_title
from explorer.core.spec import ArchSpec

# How fast a slow machine runs a network, for a run's first deadline: a laptop core in float32
# does a few GMAC/s, so this is a pessimistic rate, and a stall is judged against ten times it.
SLOW_MACS_PER_S = 1e9
STALL_FACTOR = 20
# Never less than this without a sign of life: a busy machine, a first CUDA kernel, a cold disk.
MIN_STALL_S = 60.0
# torch.compile's first pass builds kernels for minutes on a slow CPU.
COMPILE_ALLOWANCE_S = 600.0


class Reporter(Protocol):
    def progress(self, done: int, total: int) -> None: ...
    def sample(self, seconds: float) -> None: ...
    def partial(self, result: Any) -> None: ...
    def status(self, text: str) -> None: ...
    def should_stop(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Job:
    """One run for the worker: the function's name and arguments, and what to call it.

    ``what`` names the run in a crash report ("bench of cifar/resnet20 on cpu, inference,
    float32, contiguous, batch 1"); ``first_step_s`` is the run's own estimate of the longest
    wait before its first sign of progress, from which the stall deadline is derived.
    """

    kind: str
    args: tuple[Any, ...]
    what: str
    first_step_s: float = MIN_STALL_S


class RunCancelled(Exception):
    """The run was cancelled before it finished."""


def _bench(reporter: Reporter, spec: ArchSpec, config: BenchConfig) -> BenchResult:
    from explorer.core.bench import run_benchmark

    return run_benchmark(spec, config, reporter.progress, reporter.should_stop, reporter.sample)


def _sweep(reporter: Reporter, spec: ArchSpec, config: BenchConfig, sizes: Sequence[int]) -> Any:
    from explorer.core.bench import run_sweep

    return run_sweep(spec, config, sizes, reporter.progress, reporter.should_stop, reporter.partial)


def _bench_each(reporter: Reporter, specs: Sequence[ArchSpec], config: BenchConfig) -> int:
    """Times every spec in turn, each result sent as it finishes; returns how many ran."""
    from explorer.core.bench import run_benchmark

    steps = config.warmup + config.iterations
    total = len(specs) * steps
    ran = 0
    for index, spec in enumerate(specs):
        if reporter.should_stop():
            break
        offset = index * steps

        def progress(done: int, _all: int, offset: int = offset) -> None:
            reporter.progress(offset + done, total)

        reporter.partial(run_benchmark(spec, config, progress, reporter.should_stop))
        ran += 1
    return ran


def _profile(reporter: Reporter, spec: ArchSpec, config: BenchConfig) -> Any:
    from explorer.core.profile import ProfileCancelled, profile

    try:
        return profile(spec, config, reporter.progress, reporter.should_stop)
    except ProfileCancelled:
        raise RunCancelled from None


def _cross_check(_reporter: Reporter, spec: ArchSpec) -> Any:
    from explorer.core.crosscheck import cross_check

    return cross_check(spec)


def _export(reporter: Reporter, spec: ArchSpec, path: Path, weights: str, opset: int) -> Any:
    from explorer.core.export.model_export import export_model
    from explorer.core.export.result import ExportWriteError

    try:
        return export_model(spec, path, weights, opset, reporter.status)
    except OSError as exc:
        raise ExportWriteError(f"cannot write {path}: {exc.strerror or exc}") from None


def _discover(_reporter: Reporter) -> Any:
    from explorer.core.machine import discover_machine

    return discover_machine()


JOBS: dict[str, Callable[..., Any]] = {
    "bench": _bench,
    "sweep": _sweep,
    "bench_each": _bench_each,
    "profile": _profile,
    "cross_check": _cross_check,
    "export": _export,
    "discover": _discover,
}


def conditions(config: BenchConfig) -> str:
    """The settings a timed run was asked for, in words: device, mode, precision, layout, batch."""
    if config.mode == "train":
        precision = "mixed precision" if config.amp else "float32"
        mode = f"train step ({config.optimizer})"
    else:
        precision, mode = config.dtype, "inference"
    parts = [config.device, mode, precision, config.layout, f"batch {config.batch_size}"]
    if config.threads is not None:
        parts.append(f"{config.threads} threads")
    if config.compile:
        parts.append("compiled")
    return ", ".join(parts)


def _step_estimate_s(spec: ArchSpec, config: BenchConfig) -> float:
    """A pessimistic time for one pass of ``spec`` as ``config`` runs it."""
    from explorer.core.analysis import analyze

    macs = analyze(spec).totals.macs * config.batch_size
    # A training step is a forward and a backward pass (about twice the forward's work).
    factor = 3.0 if config.mode == "train" else 1.0
    return factor * macs / SLOW_MACS_PER_S


def first_step_s(spec: ArchSpec, config: BenchConfig, passes_per_step: int = 1) -> float:
    """How long a run may go before its first progress: building, the memory check, a pass."""
    estimate = STALL_FACTOR * passes_per_step * _step_estimate_s(spec, config)
    return max(MIN_STALL_S, estimate) + (COMPILE_ALLOWANCE_S if config.compile else 0.0)


def bench_job(spec: ArchSpec, config: BenchConfig, name: str | None = None) -> Job:
    return Job(
        "bench",
        (spec, config),
        f"bench of {name or spec_title(spec)} ({conditions(config)})",
        first_step_s(spec, config),
    )


def sweep_job(spec: ArchSpec, config: BenchConfig, sizes: Sequence[int], name: str | None = None) -> Job:
    largest = replace(config, batch_size=max(sizes))
    what = (
        f"batch-size sweep {','.join(map(str, sizes))} of {name or spec_title(spec)} ({conditions(config)})"
    )
    return Job("sweep", (spec, config, tuple(sizes)), what, first_step_s(spec, largest))


def bench_each_job(specs: Sequence[ArchSpec], config: BenchConfig, names: Sequence[str] | None = None) -> Job:
    named = names if names is not None else [spec_title(spec) for spec in specs]
    what = f"timing of {', '.join(named)} ({conditions(config)})"
    longest = max((first_step_s(spec, config) for spec in specs), default=MIN_STALL_S)
    return Job("bench_each", (tuple(specs), config), what, longest)


def profile_job(spec: ArchSpec, config: BenchConfig, name: str | None = None) -> Job:
    # A profiled step runs a plain pass and a clocked one.
    what = f"profile of {name or spec_title(spec)} ({conditions(config)})"
    return Job("profile", (spec, config), what, first_step_s(spec, config, passes_per_step=2))


def cross_check_job(spec: ArchSpec, name: str | None = None) -> Job:
    config = BenchConfig(device="cpu", batch_size=2)
    what = f"torchsummary cross-check of {name or spec_title(spec)} (cpu, batch 2)"
    return Job("cross_check", (spec,), what, first_step_s(spec, config))


def export_job(spec: ArchSpec, path: Path, weights: str, opset: int, name: str | None = None) -> Job:
    # Tracing, writing and checking at two batch sizes: a few passes of the largest batch.
    config = BenchConfig(device="cpu", batch_size=3)
    what = f"export of {name or spec_title(spec)} to {path.name} (weights {weights}, cpu)"
    return Job("export", (spec, path, weights, opset), what, first_step_s(spec, config, passes_per_step=10))


DISCOVER = Job("discover", (), "finding this machine's devices")
