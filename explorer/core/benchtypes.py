"""A timed forward pass's or training step's configuration and results: frozen, JSON-able records,
no torch needed."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from explorer.core.devices import DeviceError, check_device_name
from explorer.core.jsonable import plain
from explorer.core.memory import DTYPE_BYTES
from explorer.core.quoting import quote_value
from explorer.core.spec import ArchSpec

# The defaults and limits of the benchmark options, shared by the command line and the app: past
# the limits a run would take days or overflow torch's own integers instead of measuring anything.
# A large batch is left to the memory check, which says how much it would need.
MAX_BATCH_SIZE = 2**31 - 1
DEFAULT_WARMUP = 3
MAX_WARMUP = 1_000
DEFAULT_ITERATIONS = 10
MAX_MIN_TIME_S = 3_600.0
MAX_THREADS = 1_024
DTYPES = tuple(DTYPE_BYTES)
MAX_ITERATIONS = 100_000
# An IQR above this fraction of the median means other work shared the machine with
# the run: its median may be off by any amount.
NOISY_SPREAD = 0.25

MODES = ("inference", "train")
# sgd-momentum is SGD with momentum 0.9, the usual choice for ResNets; adamw timm's default.
OPTIMIZERS = ("sgd", "sgd-momentum", "adamw")
DEFAULT_OPTIMIZER = "sgd-momentum"

# How train mode's measured saved bytes are counted, for every place that shows them.
SAVED_BYTES_SOURCE = (
    "autograd's saved tensors in one forward pass and its loss, each storage once; "
    "autocast's weight copies counted, weights and buffers not"
)

Status = Literal["ok", "cancelled", "error"]
# insufficient-memory: refused before building; out-of-memory and device: failed while running.
ErrorKind = Literal["insufficient-memory", "out-of-memory", "device"]


class BenchError(ValueError):
    """A benchmark configuration that cannot run here; nothing was built."""


class InsufficientMemory(BenchError):
    """A valid configuration refused because the device has too little free memory for it:
    the machine's limit, not a mistake in the input; nothing was built."""


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """How to time a forward pass (``mode`` "inference") or a training step (``mode`` "train").

    In train mode the weights stay float32 (``dtype`` must be float32) and ``amp`` runs
    the step under autocast's mixed precision with ``optimizer``'s update.
    ``iterations`` timed passes follow ``warmup`` untimed ones; with ``min_time_s``,
    timing goes on past ``iterations`` until the timed passes add up to that long.
    ``threads`` sets torch's CPU thread count for the run (``None`` keeps it).
    """

    device: str = "auto"
    batch_size: int = 1
    dtype: str = "float32"
    channels_last: bool = False
    compile: bool = False
    warmup: int = DEFAULT_WARMUP
    iterations: int = DEFAULT_ITERATIONS
    min_time_s: float | None = None
    threads: int | None = None
    check_memory: bool = True
    mode: str = "inference"
    optimizer: str = DEFAULT_OPTIMIZER
    amp: bool = False
    isolated: bool = False
    """Run in a fresh worker process of its own, ended after the run: no state of earlier
    runs, and the process's own peak memory measured."""

    def __post_init__(self) -> None:
        # The name's form is checked here, before anything runs; whether the device exists,
        # only the process that runs torch can tell.
        try:
            check_device_name(self.device)
        except DeviceError as exc:
            raise BenchError(str(exc)) from None
        if self.mode not in MODES:
            raise BenchError(f"mode {quote_value(self.mode)}: choose one of {', '.join(MODES)}")
        if self.optimizer not in OPTIMIZERS:
            raise BenchError(
                f"optimizer {quote_value(self.optimizer)}: choose one of {', '.join(OPTIMIZERS)}"
            )
        if self.mode == "inference" and self.amp:
            raise BenchError("mixed precision (amp) is for train mode; for inference choose a reduced dtype")
        if self.mode == "train" and self.dtype != "float32":
            raise BenchError(
                f"dtype {self.dtype} in train mode: the weights stay float32; "
                "for mixed precision turn on amp instead"
            )
        _check_count("batch size", self.batch_size, 1, MAX_BATCH_SIZE)
        if self.dtype not in DTYPES:
            raise BenchError(f"dtype {quote_value(self.dtype)}: choose one of {', '.join(DTYPES)}")
        _check_count("warm-up", self.warmup, 0, MAX_WARMUP)
        _check_count("iterations", self.iterations, 1, MAX_ITERATIONS)
        if self.min_time_s is not None and not 0 < self.min_time_s <= MAX_MIN_TIME_S:
            raise BenchError(
                f"minimum time {quote_value(self.min_time_s)} s: "
                f"give more than 0 and at most {MAX_MIN_TIME_S:g} seconds"
            )
        if self.threads is not None:
            _check_count("threads", self.threads, 1, MAX_THREADS)

    @property
    def layout(self) -> str:
        return "channels_last" if self.channels_last else "contiguous"


def _check_count(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BenchError(f"{name} {quote_value(value)}: give a whole number from {low} to {high:,}")


def quantile(sorted_values: tuple[float, ...], q: float) -> float:
    """The ``q`` quantile by linear interpolation between ranks (numpy's default)."""
    position = (len(sorted_values) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def relative_spread(median: float, iqr: float) -> float:
    """The IQR as a fraction of the median (0 for a median of 0)."""
    return iqr / median if median > 0 else 0.0


def is_noisy(median: float, iqr: float) -> bool:
    """Whether timings this spread out can be trusted as a figure (any unit, both the same)."""
    return relative_spread(median, iqr) > NOISY_SPREAD


@dataclass(frozen=True, slots=True)
class TimingStats:
    """Seconds per forward pass of one batch."""

    samples_s: tuple[float, ...]
    median_s: float
    mean_s: float
    iqr_s: float
    min_s: float
    max_s: float
    p90_s: float

    @classmethod
    def from_samples(cls, samples: tuple[float, ...] | list[float]) -> TimingStats:
        if not samples:
            raise ValueError("timing statistics need at least one sample")
        ordered = tuple(sorted(samples))
        return cls(
            samples_s=tuple(samples),
            median_s=statistics.median(ordered),
            mean_s=statistics.fmean(ordered),
            iqr_s=quantile(ordered, 0.75) - quantile(ordered, 0.25),
            min_s=ordered[0],
            max_s=ordered[-1],
            p90_s=quantile(ordered, 0.90),
        )

    @property
    def noisy(self) -> bool:
        return is_noisy(self.median_s, self.iqr_s)


@dataclass(frozen=True, slots=True)
class ReproCard:
    """Everything needed to read a figure again: attached to every result and export."""

    torch_version: str
    python_version: str
    platform: str
    device: str
    device_name: str
    threads: int
    dtype: str
    layout: str
    batch_size: int
    input_shape: tuple[int, ...]
    compiled: bool
    warmup: int
    iterations: int
    cudnn_benchmark: bool | None
    mode: str = "inference"
    optimizer: str | None = None
    grad_scaler: bool | None = None


@dataclass(frozen=True, slots=True)
class StepBreakdown:
    """Mean seconds of each part of a training step, the device synchronised after every part.

    The extra synchronisation makes ``step_s`` a little longer than the plain step timed
    without it; ``forward_s`` includes clearing the gradients and the loss.
    """

    forward_s: float
    backward_s: float
    optimizer_s: float
    step_s: float
    steps: int

    @property
    def parts_s(self) -> float:
        return self.forward_s + self.backward_s + self.optimizer_s


@dataclass(frozen=True, slots=True)
class BenchResult:
    """One timed run. ``stats`` is ``None`` when no timed iteration finished."""

    spec: ArchSpec
    config: BenchConfig
    card: ReproCard
    status: Status
    stats: TimingStats | None = None
    macs_per_image: int = 0
    peak_memory_bytes: int | None = None
    memory_source: str = ""
    estimated_memory_bytes: int | None = None
    free_memory_bytes: int | None = None
    error: str | None = None
    error_kind: ErrorKind | None = None
    # Train mode: the synchronised breakdown of a step, and the bytes autograd saves for
    # backward (activations, loss inputs, autocast's weight copies), as predicted from the
    # plan and as counted in one real forward pass (see SAVED_BYTES_SOURCE).
    breakdown: StepBreakdown | None = None
    predicted_saved_bytes: int | None = None
    measured_saved_bytes: int | None = None
    # An isolated run (``config.isolated``): the high-water mark of its fresh process's resident
    # memory (CPU) or of CUDA's allocator, torch's own libraries included on the CPU.
    process_peak_bytes: int | None = None

    @property
    def training(self) -> bool:
        return self.config.mode == "train"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def batch_size(self) -> int:
        return self.card.batch_size

    @property
    def images_per_s(self) -> float | None:
        if self.stats is None:
            return None
        return self.card.batch_size / self.stats.median_s

    @property
    def gmacs_per_s(self) -> float | None:
        """Achieved multiply-accumulates per second of forward passes (the analysis's MACs, at the median)."""
        if self.stats is None or self.training:
            return None
        return self.macs_per_image * self.card.batch_size / self.stats.median_s / 1e9

    @property
    def latency_ms(self) -> float | None:
        return None if self.stats is None else self.stats.median_s * 1e3

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.status,
            "error": self.error,
            "error_kind": self.error_kind,
            "spec": self.spec.to_dict(),
            "config": asdict(self.config),
            "card": plain(asdict(self.card)),
            "images_per_s": self.images_per_s,
            "gmacs_per_s": self.gmacs_per_s,
            "macs_per_image": self.macs_per_image,
            "peak_memory_bytes": self.peak_memory_bytes,
            "memory_source": self.memory_source,
            "estimated_memory_bytes": self.estimated_memory_bytes,
            "free_memory_bytes": self.free_memory_bytes,
            "stats": None if self.stats is None else plain(asdict(self.stats)),
            "breakdown": None if self.breakdown is None else asdict(self.breakdown),
            "predicted_saved_bytes": self.predicted_saved_bytes,
            "measured_saved_bytes": self.measured_saved_bytes,
            "process_peak_bytes": self.process_peak_bytes,
        }
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchResult:
        """The inverse of ``to_dict``."""
        card = data["card"]
        stats = data["stats"]
        breakdown = data.get("breakdown")
        return cls(
            spec=ArchSpec.from_dict(data["spec"]),
            config=BenchConfig(**data["config"]),
            card=ReproCard(**{**card, "input_shape": tuple(card["input_shape"])}),
            status=data["status"],
            stats=None if stats is None else TimingStats(**{**stats, "samples_s": tuple(stats["samples_s"])}),
            breakdown=None if breakdown is None else StepBreakdown(**breakdown),
            **{f.name: data[f.name] for f in fields(cls) if f.name in _SCALAR_FIELDS and f.name in data},
        )


_SCALAR_FIELDS = frozenset(
    {
        "macs_per_image",
        "peak_memory_bytes",
        "process_peak_bytes",
        "memory_source",
        "estimated_memory_bytes",
        "free_memory_bytes",
        "error",
        "error_kind",
        "predicted_saved_bytes",
        "measured_saved_bytes",
    }
)


@dataclass(frozen=True, slots=True)
class SweepResult:
    """A batch-size sweep: the sizes that ran, and the run that ended it early, if any."""

    points: tuple[BenchResult, ...]
    stopped_by: BenchResult | None = None

    @property
    def completed(self) -> bool:
        return self.stopped_by is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "points": [point.to_dict() for point in self.points],
            "stopped_by": None if self.stopped_by is None else self.stopped_by.to_dict(),
        }
