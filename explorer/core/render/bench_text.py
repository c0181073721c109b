"""Readable text of benchmark results: the result card and the batch-sweep table."""

from __future__ import annotations

from explorer.core.benchtypes import (
    NOISY_SPREAD,
    SAVED_BYTES_SOURCE,
    BenchConfig,
    BenchResult,
    SweepResult,
    relative_spread,
)
from explorer.core.presets import preset_name_of
from explorer.core.units import format_bytes, format_macs, format_shape
from explorer.core.wording import counted


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def spec_title(result: BenchResult) -> str:
    name = preset_name_of(result.spec)
    depths = ",".join(map(str, result.spec.depths))
    shape = f"{result.spec.block} [{depths}]"
    return f"{name} ({shape})" if name else shape


def passes_text(result: BenchResult) -> str:
    """The passes a run made: "3 warm-up + 10 timed", or why none was timed."""
    card = result.card
    if result.status == "cancelled" and result.stats is None:
        if card.warmup:
            return f"cancelled during the warm-up ({card.warmup} passes planned), nothing timed"
        return "cancelled before the first timed pass, nothing timed"
    text = f"{card.warmup} warm-up + {card.iterations} timed"
    if result.config.min_time_s is not None:
        text += f" (for at least {result.config.min_time_s:g} s)"
    return text


def planned_passes_text(config: BenchConfig) -> str:
    """The passes each run of a sweep makes at the least."""
    if config.min_time_s is None:
        return f"{config.warmup} warm-up + {config.iterations} timed"
    timed = f"at least {config.iterations} timed, for at least {config.min_time_s:g} s"
    return f"{config.warmup} warm-up + {timed}"


def noise_text(result: BenchResult) -> str:
    """A warning when the timed passes were too spread out to trust the median; else ""."""
    stats = result.stats
    if stats is None or not stats.noisy:
        return ""
    spread = relative_spread(stats.median_s, stats.iqr_s)
    return f"noisy: the IQR is {spread:.0%} of the median, other work was running; time it again"


def step_setting_text(result: BenchResult) -> str:
    """In train mode, what a step is ("train step (sgd-momentum), "); else ""."""
    if result.card.mode != "train":
        return ""
    return f"train step ({result.card.optimizer}, cross-entropy), "


def precision_text(result: BenchResult) -> str:
    """The dtype, and in train mode whether it is autocast's mixed precision."""
    card = result.card
    if card.mode != "train" or card.dtype == "float32":
        return card.dtype
    scaler = " with a GradScaler" if card.grad_scaler else ""
    return f"mixed precision (autocast {card.dtype}{scaler}, float32 weights)"


def breakdown_text(result: BenchResult) -> str:
    """A training step's parts, said to be synchronised; "" without a breakdown."""
    parts = result.breakdown
    if parts is None:
        return ""
    return (
        f"forward {_ms(parts.forward_s)} + backward {_ms(parts.backward_s)} + optimizer "
        f"{_ms(parts.optimizer_s)} = {_ms(parts.parts_s)}; each part synchronised (mean of "
        f"{counted(parts.steps, 'step')}, a synchronised step {_ms(parts.step_s)})"
    )


def training_memory_text(result: BenchResult) -> list[str]:
    """Train mode's memory figures: the prediction beside what was measured."""
    lines = []
    if result.estimated_memory_bytes is not None:
        total = f"predicted {format_bytes(result.estimated_memory_bytes)} a step in all"
        if result.peak_memory_bytes is not None:
            total += f", measured {format_bytes(result.peak_memory_bytes)} ({result.memory_source})"
        if result.free_memory_bytes is not None:
            total += f"; {format_bytes(result.free_memory_bytes)} free"
        lines.append(total)
    if result.predicted_saved_bytes is not None:
        saved = f"saved for backward: predicted {format_bytes(result.predicted_saved_bytes)}"
        if result.measured_saved_bytes is not None:
            saved += f", measured {format_bytes(result.measured_saved_bytes)} ({SAVED_BYTES_SOURCE})"
        lines.append(saved)
    return lines


PROCESS_PEAK_SOURCE = "the fresh process's own high-water mark: resident memory, torch's libraries included"


def card_lines(result: BenchResult) -> list[str]:
    """The reproducibility card: what a reader needs to get the same figure again."""
    card = result.card
    threads = f"{card.threads} thread{'s' if card.threads != 1 else ''}"
    run = "torch.compile" if card.compiled else "eager"
    cudnn = "" if card.cudnn_benchmark is None else f", cudnn.benchmark {card.cudnn_benchmark}"
    process = ", a fresh process of its own" if result.config.isolated else ""
    return [
        f"device     {card.device} ({card.device_name}), {threads}{cudnn}{process}",
        f"run        {step_setting_text(result)}batch {card.batch_size}, {precision_text(result)}, "
        f"{card.layout}, input {format_shape(card.input_shape)}, {run}, {passes_text(result)}",
        f"software   torch {card.torch_version}, Python {card.python_version}, {card.platform}",
    ]


def result_text(result: BenchResult) -> str:
    lines = [f"{spec_title(result)}: {result.status}"]
    if result.error is not None:
        lines.append(f"error      {result.error}")
    stats = result.stats
    if result.training:
        return _training_text(result, lines)
    if stats is not None and result.images_per_s is not None and result.gmacs_per_s is not None:
        lines += [
            f"latency    median {_ms(stats.median_s)} a batch (IQR {_ms(stats.iqr_s)}; "
            f"min {_ms(stats.min_s)}, p90 {_ms(stats.p90_s)}, max {_ms(stats.max_s)}, "
            f"mean {_ms(stats.mean_s)}; {counted(len(stats.samples_s), 'sample')})",
            f"throughput {result.images_per_s:,.1f} images/s, {result.gmacs_per_s:,.2f} GMAC/s achieved "
            f"({format_macs(result.macs_per_image)} an image)",
        ]
        if noise_text(result):
            lines.append(f"warning    {noise_text(result)}")
    memory = []
    if result.peak_memory_bytes is not None:
        memory.append(f"peak {format_bytes(result.peak_memory_bytes)} ({result.memory_source})")
    if result.process_peak_bytes is not None:
        memory.append(f"process peak {format_bytes(result.process_peak_bytes)} ({PROCESS_PEAK_SOURCE})")
    if result.estimated_memory_bytes is not None:
        estimate = f"estimated {format_bytes(result.estimated_memory_bytes)}"
        if result.free_memory_bytes is not None:
            estimate += f" of {format_bytes(result.free_memory_bytes)} free"
        memory.append(estimate)
    if memory:
        lines.append("memory     " + "; ".join(memory))
    lines += card_lines(result)
    return "\n".join(lines) + "\n"


def _training_text(result: BenchResult, lines: list[str]) -> str:
    stats = result.stats
    if stats is not None and result.images_per_s is not None:
        lines += [
            f"step       median {_ms(stats.median_s)} (IQR {_ms(stats.iqr_s)}; min {_ms(stats.min_s)}, "
            f"p90 {_ms(stats.p90_s)}, max {_ms(stats.max_s)}, mean {_ms(stats.mean_s)}; "
            f"{counted(len(stats.samples_s), 'sample')}; no synchronisation inside a step)",
            f"throughput {result.images_per_s:,.1f} samples/s",
        ]
        if noise_text(result):
            lines.append(f"warning    {noise_text(result)}")
    if breakdown_text(result):
        lines.append(f"breakdown  {breakdown_text(result)}")
    lines += [f"memory     {line}" for line in training_memory_text(result)]
    lines += card_lines(result)
    return "\n".join(lines) + "\n"


def sweep_text(sweep: SweepResult) -> str:
    first = sweep.points[0] if sweep.points else sweep.stopped_by
    lines = []
    if first is not None:
        lines.append(f"{spec_title(first)}: batch sweep" + (" of training steps" if first.training else ""))
    header = f"{'batch':>6} {'median':>11} {'IQR':>10} {'images/s':>11} {'GMAC/s':>9} {'peak memory':>12}"
    lines += [header, "-" * len(header)]
    for point in sweep.points:
        if point.stats is None or point.images_per_s is None:
            continue  # only finished runs are points; a stopped one is reported below
        peak = format_bytes(point.peak_memory_bytes) if point.peak_memory_bytes is not None else "-"
        gmacs = "-" if point.gmacs_per_s is None else f"{point.gmacs_per_s:,.2f}"
        lines.append(
            f"{point.batch_size:>6} {_ms(point.stats.median_s):>11} {_ms(point.stats.iqr_s):>10} "
            f"{point.images_per_s:>11,.1f} {gmacs:>9} {peak:>12}" + ("  noisy" if point.stats.noisy else "")
        )
    if sweep.stopped_by is not None:
        reason = sweep.stopped_by.error or sweep.stopped_by.status
        lines.append(f"stopped at batch {sweep.stopped_by.batch_size}: {reason}")
    if first is not None:
        card = first.card
        run = "torch.compile" if card.compiled else "eager"
        device, _, software = card_lines(first)
        lines += [
            device,
            f"run        {step_setting_text(first)}{precision_text(first)}, {card.layout}, "
            f"input {format_shape(card.input_shape[1:])} an image, "
            f"{run}, {planned_passes_text(first.config)}",
            software,
        ]
        if any(point.stats is not None and point.stats.noisy for point in sweep.points):
            lines.append(
                f"noisy      an IQR above {NOISY_SPREAD:.0%} of the median: other work ran; sweep again"
            )
    return "\n".join(lines) + "\n"
