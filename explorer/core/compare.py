"""Comparing variants: a named list of specs, one of them the baseline, with deltas,
chart series, the Pareto front and a structural diff. Everything here is immutable;
editing operations return a new Comparison."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from explorer.core.analysis import Analysis, analyze
from explorer.core.benchtypes import DTYPES, MODES, OPTIMIZERS
from explorer.core.file_kind import COMPARISON_KIND, NOT_A_DOCUMENT
from explorer.core.files import atomic_write_text, read_user_bytes
from explorer.core.jsonable import JsonError, json_type_name, parse_json_file
from explorer.core.quoting import quote_value
from explorer.core.spec import ArchSpec, SpecError, is_whole_number
from explorer.core.wording import counted

COMPARISON_FORMAT_VERSION = 1
# The training memory column predicts one step of this batch, SGD with momentum, float32
# (the CUDA rules): one batch for every variant, so that the column compares architectures.
TRAIN_MEMORY_BATCH = 32
TRAIN_MEMORY_OPTIMIZER = "sgd-momentum"
WHOLE_INPUT_NOTE = (
    "global: each output depends on the whole input, since an attention's global pooling scales "
    "every position by what it saw everywhere; the figure is the convolution path's alone"
)
TRAIN_MEMORY_NOTE = (
    f"predicted for one training step at batch {TRAIN_MEMORY_BATCH}, SGD with momentum, float32: "
    "parameters, gradients, optimizer state, saved activations and backward's peak"
)
LAYOUTS = ("contiguous", "channels_last")  # BenchConfig.layout's two
# The largest batch a benchmark accepts (a C int for the tensor's first dimension).
MAX_FIGURES_BATCH_SIZE = 2**31 - 1


class ComparisonError(ValueError):
    """An invalid comparison operation or file; the message says what to do."""


@dataclass(frozen=True, slots=True)
class BenchFigures:
    """The timing of one variant: enough to compare, not the whole run."""

    device: str
    batch_size: int
    median_ms: float
    iqr_ms: float
    images_per_s: float
    # The conditions it was measured under. ``None`` is unknown: files saved before these
    # were kept say nothing about them, and a figure must not claim conditions it lacks.
    mode: str | None = None
    optimizer: str | None = None
    dtype: str | None = None
    amp: bool | None = None
    layout: str | None = None
    threads: int | None = None
    compiled: bool | None = None

    def __post_init__(self) -> None:
        _check_text("the device", self.device)
        for name, choices in (
            ("mode", MODES),
            ("optimizer", OPTIMIZERS),
            ("dtype", DTYPES),
            ("layout", LAYOUTS),
        ):
            value = getattr(self, name)
            if value is not None and value not in choices:
                raise ComparisonError(
                    f"{name} {quote_value(value)}: choose one of {', '.join(choices)}, or null"
                )
        for name in ("amp", "compiled"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), bool):
                raise ComparisonError(f"{name} {quote_value(getattr(self, name))}: give true, false or null")
        threads = self.threads
        if threads is not None and (not is_whole_number(threads) or threads < 1):
            raise ComparisonError(f"threads {quote_value(threads)}: give a whole number from 1, or null")
        batch = self.batch_size
        if not is_whole_number(batch) or not 1 <= batch <= MAX_FIGURES_BATCH_SIZE:
            raise ComparisonError(
                f"batch size {quote_value(batch)}: give a whole number from 1 to {MAX_FIGURES_BATCH_SIZE:,}"
            )
        for name in ("median_ms", "iqr_ms", "images_per_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ComparisonError(f"{name} {quote_value(value)}: give a number")
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if not (math.isfinite(number) and number >= 0):
                raise ComparisonError(f"{name} {quote_value(value)}: give a finite number, 0 or more")
            object.__setattr__(self, name, number)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchFigures:
        missing = [name for name in _REQUIRED_FIGURES if name not in data]
        if missing:
            raise ComparisonError(f"bench figures lack {', '.join(missing)}")
        # The conditions are optional: older files load with them unknown.
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})

    def conditions(self) -> str:
        """What the figure was measured under, in words, the unknown ones named as such."""
        known = []
        if self.mode == "train":
            known.append(f"training step ({self.optimizer or 'optimizer unknown'})")
        elif self.mode is not None:
            known.append("forward pass")
        if self.amp:
            known.append(f"mixed precision (autocast {self.dtype or 'dtype unknown'}, float32 weights)")
        elif self.dtype is not None:
            known.append(self.dtype)
        if self.layout is not None:
            known.append(self.layout)
        known.append(f"batch {self.batch_size}")
        known.append(self.device)
        if self.threads is not None:
            known.append(counted(self.threads, "thread"))
        if self.compiled is not None:
            known.append("torch.compile" if self.compiled else "eager")
        unknown = [
            what
            for what, value in (
                ("mode", self.mode),
                ("optimizer", self.optimizer if self.mode == "train" else ""),
                ("precision", self.dtype if self.amp is None else self.amp),
                ("layout", self.layout),
                ("threads", self.threads),
                ("compile", self.compiled),
            )
            if value is None
        ]
        text = ", ".join(known)
        if unknown:
            text += f" ({', '.join(unknown)} not recorded)"
        return text

    @classmethod
    def from_result(cls, result: Any) -> BenchFigures:
        """From a successful ``BenchResult`` (explorer.core.benchtypes): a forward pass's
        latency or, from a train-mode run, a training step's time."""
        if not result.ok or result.stats is None:
            raise ComparisonError(f"the benchmark did not succeed: {result.error or result.status}")
        return cls(
            device=result.card.device_name,
            batch_size=result.card.batch_size,
            median_ms=result.stats.median_s * 1000,
            iqr_ms=result.stats.iqr_s * 1000,
            images_per_s=result.images_per_s,
            mode=result.config.mode,
            optimizer=result.card.optimizer if result.config.mode == "train" else None,
            dtype=result.card.dtype,
            amp=result.config.amp,
            layout=result.card.layout,
            threads=result.card.threads,
            compiled=result.card.compiled,
        )


_REQUIRED_FIGURES = ("device", "batch_size", "median_ms", "iqr_ms", "images_per_s")


@dataclass(frozen=True, slots=True)
class Variant:
    """``bench`` times a forward pass, ``train_bench`` a training step (from a train-mode run)."""

    name: str
    spec: ArchSpec
    bench: BenchFigures | None = None
    train_bench: BenchFigures | None = None

    def __post_init__(self) -> None:
        _check_text("a variant's name", self.name)
        if not self.name.strip():
            raise ComparisonError("a variant needs a name")


def _check_text(what: str, value: object) -> None:
    if not isinstance(value, str):
        raise ComparisonError(f"{what} must be text, got {quote_value(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate from a JSON escape: the file could not be written back.
        raise ComparisonError(f"{what} {quote_value(value)} is not valid Unicode text") from None


@dataclass(frozen=True, slots=True)
class Metric:
    """A column of the comparison: each output (the text table, CSV, Markdown, JSON and the
    Compare tab) shows the metrics ``shown_metrics`` picks, in this order."""

    key: str
    label: str
    value: Callable[[Variant, Analysis], float | None]
    lower_is_better: bool = True
    integer: bool = True
    # The timing the column shows ("bench" or "train_bench"): without any, it is left out.
    timing: str | None = None
    # Whether the figure stands for the whole input (a receptive field through an attention gate's
    # global pooling): it is then the convolution path's, shown as "global (N)".
    whole_input: Callable[[Analysis], bool] | None = None
    # Whether a change against the baseline is better or worse (the Compare tab colours it):
    # a deeper network or a wider field is neither, only different.
    judged: bool = True
    # Whether the Compare tab shortens the figure ("11.69M"): a count too long to read whole.
    compact: bool = False
    # Whether the figure is a timing's median, which the Compare tab shows with its spread.
    spread: bool = False
    # What the figure's cells say besides, when pointed at in the Compare tab.
    note: str | None = None


def _prod(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def train_memory_mib(spec: ArchSpec) -> float:
    """The predicted memory of one training step at ``TRAIN_MEMORY_BATCH``, in MiB."""
    from explorer.core.training_memory import predict_training_memory

    memory = predict_training_memory(spec, TRAIN_MEMORY_BATCH, TRAIN_MEMORY_OPTIMIZER, "float32")
    return memory.total_bytes / 2**20


METRICS: tuple[Metric, ...] = (
    Metric("params", "Params", lambda v, a: a.totals.total_params, compact=True),
    Metric("macs", "MACs", lambda v, a: a.totals.macs, compact=True),
    Metric(
        "latency_ms",
        "Latency (ms)",
        lambda v, a: v.bench.median_ms if v.bench else None,
        integer=False,
        timing="bench",
        spread=True,
    ),
    Metric(
        "images_per_s",
        "Images/s",
        lambda v, a: v.bench.images_per_s if v.bench else None,
        lower_is_better=False,
        integer=False,
        timing="bench",
    ),
    Metric(
        "train_step_ms",
        "Train step (ms)",
        lambda v, a: v.train_bench.median_ms if v.train_bench else None,
        integer=False,
        timing="train_bench",
        spread=True,
    ),
    Metric(
        "train_memory_mib",
        f"Train memory b{TRAIN_MEMORY_BATCH} (MiB)",
        lambda v, a: train_memory_mib(v.spec),
        integer=False,
        note=TRAIN_MEMORY_NOTE,
    ),
    Metric("depth", "Depth", lambda v, a: a.totals.depth, lower_is_better=False, judged=False),
    Metric(
        "output_features",
        "Output features",
        lambda v, a: _prod(a.totals.output_shape),
        lower_is_better=False,
        judged=False,
        compact=True,
    ),
    Metric(
        "forward_backward_mib",
        "Fwd/bwd (MiB)",
        lambda v, a: a.totals.forward_backward_size_mib,
        integer=False,
    ),
    Metric("params_mib", "Params (MiB)", lambda v, a: a.totals.params_size_mib, integer=False),
    Metric("total_mib", "Total size (MiB)", lambda v, a: a.totals.total_size_mib, integer=False),
    Metric(
        "receptive_field",
        "Receptive field",
        lambda v, a: a.totals.receptive_field,
        lower_is_better=False,
        whole_input=lambda a: a.totals.sees_whole_input,
        judged=False,
    ),
)


def shown_metrics(comparison: Comparison) -> list[Metric]:
    """The columns worth showing: a timing column only once some variant has that timing."""
    return [
        metric
        for metric in METRICS
        if metric.timing is None or any(getattr(v, metric.timing) for v in comparison.variants)
    ]


@dataclass(frozen=True, slots=True)
class Cell:
    value: float | None
    delta: float | None
    delta_percent: float | None
    whole_input: bool = False
    """Every output sees the whole input (see ``Metric.whole_input``)."""


@dataclass(frozen=True, slots=True)
class TableRow:
    variant: Variant
    is_baseline: bool
    cells: dict[str, Cell]


def _delta(value: float | None, base: float | None) -> tuple[float | None, float | None]:
    if value is None or base is None:
        return None, None
    delta = value - base
    percent = None if base == 0 else 100.0 * delta / base
    # A tiny baseline can make the ratio overflow; a percentage that large says nothing.
    return delta, percent if percent is None or math.isfinite(percent) else None


@dataclass(frozen=True, slots=True)
class Comparison:
    variants: tuple[Variant, ...] = ()
    baseline: int = 0

    def __post_init__(self) -> None:
        baseline = self.baseline
        if not is_whole_number(baseline):
            raise ComparisonError(f"the baseline must be a whole number, got {quote_value(baseline)}")
        if not self.variants and baseline != 0:
            raise ComparisonError(
                f"the baseline must be 0 when there are no variants, got {quote_value(baseline)}"
            )
        if self.variants and not 0 <= baseline < len(self.variants):
            raise ComparisonError(
                f"baseline {quote_value(baseline + 1)} is not one of the "
                f"{counted(len(self.variants), 'variant')}"
            )
        seen: set[str] = set()
        for variant in self.variants:
            if variant.name in seen:
                raise ComparisonError(
                    f"two variants are called {quote_value(variant.name)}: give each its own name"
                )
            seen.add(variant.name)

    # Editing

    def unique_name(self, wanted: str) -> str:
        names = {v.name for v in self.variants}
        if wanted not in names:
            return wanted
        n = 2
        while f"{wanted} ({n})" in names:
            n += 1
        return f"{wanted} ({n})"

    def add(self, name: str, spec: ArchSpec) -> Comparison:
        return replace(self, variants=(*self.variants, Variant(self.unique_name(name), spec)))

    def duplicate(self, index: int) -> Comparison:
        source = self._variant(index)
        copy = replace(source, name=self.unique_name(source.name))
        variants = list(self.variants)
        variants.insert(index + 1, copy)
        baseline = self.baseline + (1 if self.baseline > index else 0)
        return Comparison(tuple(variants), baseline)

    def rename(self, index: int, name: str) -> Comparison:
        name = name.strip()
        if not name:
            raise ComparisonError("a variant needs a name")
        if any(v.name == name for i, v in enumerate(self.variants) if i != index):
            raise ComparisonError(f"another variant is already called {quote_value(name)}")
        return self._with(index, replace(self._variant(index), name=name))

    def remove(self, index: int) -> Comparison:
        self._variant(index)
        variants = self.variants[:index] + self.variants[index + 1 :]
        if index < self.baseline or self.baseline >= len(variants):
            baseline = max(0, self.baseline - 1)
        else:
            baseline = self.baseline
        return Comparison(variants, baseline if variants else 0)

    def move(self, index: int, to: int) -> Comparison:
        self._variant(index)
        to = max(0, min(to, len(self.variants) - 1))
        order = list(range(len(self.variants)))
        order.insert(to, order.pop(index))
        return Comparison(tuple(self.variants[i] for i in order), order.index(self.baseline))

    def with_baseline(self, index: int) -> Comparison:
        self._variant(index)
        return replace(self, baseline=index)

    def with_bench(self, index: int, bench: BenchFigures | None) -> Comparison:
        return self._with(index, replace(self._variant(index), bench=bench))

    def with_train_bench(self, index: int, bench: BenchFigures | None) -> Comparison:
        return self._with(index, replace(self._variant(index), train_bench=bench))

    def _variant(self, index: int) -> Variant:
        if not 0 <= index < len(self.variants):
            has = counted(len(self.variants), "variant")
            raise ComparisonError(f"there is no variant {index + 1} (the comparison has {has})")
        return self.variants[index]

    def _with(self, index: int, variant: Variant) -> Comparison:
        variants = list(self.variants)
        variants[index] = variant
        return replace(self, variants=tuple(variants))

    # Figures

    def table(self) -> list[TableRow]:
        if not self.variants:
            return []
        analyses = [analyze(v.spec) for v in self.variants]
        base_variant, base_analysis = self.variants[self.baseline], analyses[self.baseline]
        rows = []
        for i, (variant, analysis) in enumerate(zip(self.variants, analyses, strict=True)):
            cells = {}
            for metric in METRICS:
                value = metric.value(variant, analysis)
                delta, percent = _delta(value, metric.value(base_variant, base_analysis))
                whole = metric.whole_input is not None and metric.whole_input(analysis)
                cells[metric.key] = Cell(value, delta, percent, whole)
            rows.append(TableRow(variant, i == self.baseline, cells))
        return rows

    def stage_series(self, metric: str = "params") -> list[tuple[str, list[int]]]:
        """Per-stage params or MACs of every variant (stages padded with 0 to the longest)."""
        if metric not in ("params", "macs"):
            raise ComparisonError(f"stage series are 'params' or 'macs', not {quote_value(metric)}")
        series = [
            (v.name, [getattr(stage, metric) for stage in analyze(v.spec).stages]) for v in self.variants
        ]
        longest = max((len(values) for _, values in series), default=0)
        return [(name, values + [0] * (longest - len(values))) for name, values in series]

    # Files

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": COMPARISON_FORMAT_VERSION,
            "kind": COMPARISON_KIND,
            "baseline": self.baseline,
            "variants": [
                {
                    "name": v.name,
                    "spec": v.spec.to_dict(),
                    "bench": v.bench.to_dict() if v.bench else None,
                    "train_bench": v.train_bench.to_dict() if v.train_bench else None,
                }
                for v in self.variants
            ],
        }

    @classmethod
    def from_dict(cls, data: object) -> Comparison:
        """The comparison ``data`` describes, or ``ComparisonError``, whatever ``data`` holds."""
        if not isinstance(data, dict) or data.get("kind") != COMPARISON_KIND:
            raise ComparisonError("this is not a resnet-explorer comparison file")
        version = data.get("format_version")
        if not is_whole_number(version) or version < 1:
            raise ComparisonError(f"format_version {quote_value(version)} is not a positive whole number")
        if version > COMPARISON_FORMAT_VERSION:
            raise ComparisonError(
                f"format_version {quote_value(version)} is newer than this resnet-explorer reads "
                f"({COMPARISON_FORMAT_VERSION}): update resnet-explorer"
            )
        entries = data.get("variants")
        if not isinstance(entries, list):
            raise ComparisonError("'variants' must be a list")
        variants = tuple(_variant_from_dict(i, entry) for i, entry in enumerate(entries))
        return cls(variants, data.get("baseline", 0))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"

    def save(self, path: str | Path) -> None:
        atomic_write_text(Path(path), self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> Comparison:
        try:
            data = parse_json_file(read_user_bytes(path))
        except OSError as exc:
            raise ComparisonError(f"cannot read {path}: {exc}") from None
        except JsonError as exc:
            raise ComparisonError(f"{path} {exc}, {NOT_A_DOCUMENT}") from None
        if not isinstance(data, dict):
            raise ComparisonError(
                f"{path} holds a JSON {json_type_name(data)}, not an object, {NOT_A_DOCUMENT}"
            )
        try:
            return cls.from_dict(data)
        except ComparisonError as exc:
            raise ComparisonError(f"{exc} (in {path})") from None


def _variant_from_dict(index: int, entry: object) -> Variant:
    if not isinstance(entry, dict) or "name" not in entry:
        raise ComparisonError(f"variant {index + 1} needs a name and a spec")
    where = f"variant {index + 1} ({quote_value(entry['name'])})"
    try:
        spec = ArchSpec.from_dict(entry.get("spec"))
        timings = [_figures_from(entry, key) for key in ("bench", "train_bench")]
        return Variant(entry["name"], spec, *timings)
    except (SpecError, ComparisonError) as exc:
        raise ComparisonError(f"{where}: {exc}") from None


def _figures_from(entry: dict[str, Any], key: str) -> BenchFigures | None:
    """A variant's timing under ``key``; files from before train-step timings have none."""
    figures = entry.get(key)
    if figures is not None and not isinstance(figures, dict):
        raise ComparisonError(f"{quote_value(key)} must be an object or null, got {quote_value(figures)}")
    return None if figures is None else BenchFigures.from_dict(figures)


def pareto_front(points: list[tuple[float, float]], higher_x_is_better: bool = False) -> list[int]:
    """Indices of the points that no other point beats on both coordinates.

    Lower y is better; x is better lower (a cost) or, with ``higher_x_is_better``,
    higher (capacity such as MACs, bought with latency on y).
    """
    sign = -1.0 if higher_x_is_better else 1.0
    oriented = [(sign * x, y) for x, y in points]
    front = []
    for i, (x, y) in enumerate(oriented):
        dominated = any(
            (ox <= x and oy <= y) and (ox < x or oy < y) for j, (ox, oy) in enumerate(oriented) if j != i
        )
        if not dominated:
            front.append(i)
    return front
