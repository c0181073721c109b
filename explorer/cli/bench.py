"""resnet-explorer bench: time the forward pass or a training step of a spec's real model."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from explorer.cli.errors import CliError, RunFailed
from explorer.cli.parser import leave_progress_open, real_number, refuse_unused, whole_number
from explorer.cli.paths import output_path, write_error_text
from explorer.cli.specargs import add_spec_arguments, spec_from_args
from explorer.core.ascii_numbers import parse_whole_number
from explorer.core.benchtypes import (
    DTYPES,
    MAX_BATCH_SIZE,
    MAX_MIN_TIME_S,
    MAX_THREADS,
    MAX_WARMUP,
    MODES,
    OPTIMIZERS,
    BenchConfig,
    BenchError,
)
from explorer.core.quoting import quote_value

BAR_WIDTH = 30
DEFAULTS = BenchConfig()
MIN_TIME_ITERATIONS = 3  # with --min-time the time, not the count, decides how long it runs
# The core names each setting in its messages; the command line says which flag that is.
OPTION_FLAGS = {
    "batch size": "--batch",
    "warm-up": "--warmup",
    "iterations": "--iters",
    "minimum time": "--min-time",
    "threads": "--threads",
    "dtype": "--dtype",
    "mixed precision (amp)": "--amp",
}
# The options of a training step, by their destinations: refused outside --mode train.
TRAINING_FLAGS = {"optimizer": "--optimizer"}


def register(subparsers: Any) -> None:
    bench = subparsers.add_parser(
        "bench",
        help="time a forward pass or a training step on the CPU, a CUDA device or Apple MPS",
        description=(
            "Build the spec's real model on a device and time its forward pass "
            "(eval mode, inference mode, random input): median latency with its spread, "
            "images per second, achieved GMAC/s and peak memory. With --mode train, time a whole "
            "training step instead (forward, cross-entropy loss, backward, optimizer step), "
            "its parts apart, and its memory beside the prediction."
        ),
    )
    add_spec_arguments(bench)
    add_timing_arguments(bench, sweep=True)
    add_mode_argument(add_training_arguments(bench, "sgd-momentum is SGD with momentum 0.9"))
    output = bench.add_argument_group("output")
    output.add_argument("--json", action="store_true", help="print the result as JSON")
    output.add_argument("--save", metavar="FILE.json", help="also write the JSON result to this file")
    bench.set_defaults(handler=run_bench)


def add_training_arguments(parser: argparse.ArgumentParser, optimizer_note: str) -> Any:
    """The options of a training step (--optimizer, --amp), in a group the caller may extend."""
    training = parser.add_argument_group("training step (--mode train)")
    training.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default=DEFAULTS.optimizer,
        help=f"the step's update; {optimizer_note} (default {DEFAULTS.optimizer})",
    )
    training.add_argument(
        "--amp",
        action="store_true",
        help="mixed precision: autocast float16 + GradScaler on CUDA, float16 on MPS, bfloat16 on the CPU",
    )
    return training


def add_mode_argument(group: Any) -> None:
    """--mode, in the group of the training options it turns on."""
    group.add_argument(
        "--mode", choices=MODES, default="inference", help="time a forward pass (default) or a training step"
    )


def refuse_training_flags_outside_training(args: argparse.Namespace) -> None:
    """The training options do nothing in inference mode: naming one there is a mistake.

    (``--amp`` is refused by the configuration itself, which says what to use instead.)
    """
    if getattr(args, "mode", "inference") != "train":
        refuse_unused(getattr(args, "given", frozenset()), TRAINING_FLAGS, "--mode train", "add --mode train")


def add_timing_arguments(parser: argparse.ArgumentParser, sweep: bool = False, title: str = "timing") -> Any:
    """The timing options, shared by bench and compare --bench; returns their group."""
    group = parser.add_argument_group(title)
    group.add_argument("--device", default="auto", metavar="auto|cpu|cuda|cuda:N|mps", help="default auto")
    group.add_argument("--batch", type=whole_number, metavar="N", help="images a forward pass (default 1)")
    if sweep:
        group.add_argument(
            "--sweep", metavar="1,2,4,8", help="time each of these batch sizes, up to the first that fails"
        )
    group.add_argument("--dtype", choices=DTYPES, default="float32", help="reduced ones run through autocast")
    group.add_argument("--channels-last", action="store_true", help="NHWC memory layout for model and input")
    group.add_argument("--compile", action="store_true", help="run through torch.compile (off by default)")
    group.add_argument(
        "--warmup",
        type=whole_number,
        default=DEFAULTS.warmup,
        metavar="N",
        help=f"untimed passes (default {DEFAULTS.warmup}, at most {MAX_WARMUP:,})",
    )
    group.add_argument(
        "--iters",
        type=whole_number,
        metavar="N",
        help=f"timed passes (default {DEFAULTS.iterations}; {MIN_TIME_ITERATIONS} with --min-time)",
    )
    group.add_argument(
        "--min-time",
        type=real_number,
        metavar="S",
        help=f"go on timing until the passes add up to S seconds (at most {MAX_MIN_TIME_S:g})",
    )
    group.add_argument(
        "--threads",
        type=whole_number,
        metavar="N",
        help=f"CPU threads for torch (default: torch's own; at most {MAX_THREADS:,})",
    )
    group.add_argument(
        "--no-memory-check", action="store_true", help="run even if the estimate exceeds free memory"
    )
    if sweep:
        group.add_argument(
            "--isolated",
            action="store_true",
            help="run in a fresh worker process of its own: nothing left over from earlier runs, and "
            "the peak memory is that process's own (torch loads again: a few seconds more)",
        )
    return group


def _batch_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(parse_whole_number(part) for part in text.split(","))
    except ValueError:
        raise CliError(
            f"--sweep {quote_value(text)}: give batch sizes separated by commas, e.g. 1,2,4,8"
        ) from None
    if any(not 1 <= size <= MAX_BATCH_SIZE for size in sizes):
        raise CliError(f"--sweep {quote_value(text)}: every batch size must be from 1 to {MAX_BATCH_SIZE:,}")
    return sizes


class ProgressBar:
    """A bar redrawn in place on a terminal; on anything else, a line that grows by tenths."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.interactive = stream.isatty()
        self._tenths = 0
        self._open = False
        self._finished = False

    def __call__(self, done: int, total: int) -> None:
        fraction = min(1.0, done / max(total, 1))
        self._finished = done >= total
        if self.interactive:
            filled = round(fraction * BAR_WIDTH)
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            self.stream.write(f"\r{self.label} [{bar}] {done}/{total}")
        else:
            if not self._open:
                self.stream.write(f"{self.label}:")
            while self._tenths < int(fraction * 10):
                self._tenths += 1
                self.stream.write(f" {self._tenths * 10}%")
        self._open = True
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line. A run that stopped before its end (Ctrl-C, a failure) leaves its
        error as the command's one line: the bar is erased on a terminal, and elsewhere the
        error ends the bar's line (``end_line``)."""
        if not self._open:
            return
        self._open = False
        if self._finished:
            self.stream.write("\n")
        elif self.interactive:
            self.stream.write("\r\x1b[2K")
        else:
            leave_progress_open()
        self.stream.flush()


def bench_config(args: argparse.Namespace, batch: int) -> BenchConfig:
    """The BenchConfig the timing options describe; their mistakes are CliErrors."""
    refuse_training_flags_outside_training(args)
    default_iterations = MIN_TIME_ITERATIONS if args.min_time is not None else DEFAULTS.iterations
    iterations = args.iters if args.iters is not None else default_iterations
    try:
        return BenchConfig(
            device=args.device,
            batch_size=batch,
            dtype=args.dtype,
            channels_last=args.channels_last,
            compile=args.compile,
            warmup=args.warmup,
            iterations=iterations,
            min_time_s=args.min_time,
            threads=args.threads,
            check_memory=not args.no_memory_check,
            mode=getattr(args, "mode", DEFAULTS.mode),
            optimizer=getattr(args, "optimizer", DEFAULTS.optimizer),
            amp=getattr(args, "amp", DEFAULTS.amp),
            isolated=getattr(args, "isolated", False),
        )
    except BenchError as exc:
        raise CliError(_option_error(str(exc))) from None


def _option_error(message: str) -> str:
    """The core's message about a setting, named after the flag that gave it."""
    for setting, flag in OPTION_FLAGS.items():
        if message.startswith(setting + " "):
            return flag + message[len(setting) :]
    return message


def run_bench(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    sizes = _batch_sizes(args.sweep) if args.sweep is not None else None
    if sizes is not None and args.batch is not None:
        raise CliError("give either --batch or --sweep, not both")
    config = bench_config(args, args.batch if args.batch is not None else 1)
    save_path = output_path(args.save, "--save") if args.save is not None else None

    from explorer.cli.worker_run import run_job
    from explorer.core.files import atomic_write_text
    from explorer.core.render.bench_text import result_text, sweep_text
    from explorer.core.worker.jobs import bench_job, sweep_job

    bar = ProgressBar(sys.stderr, "sweep" if sizes else "bench")
    job = sweep_job(spec, config, sizes) if sizes is not None else bench_job(spec, config)
    try:
        outcome: Any = run_job(job, bar, isolated=config.isolated)
    except BenchError as exc:
        raise CliError(str(exc)) from None
    finally:
        bar.close()

    stopped = outcome.stopped_by if sizes is not None else outcome
    if stopped is not None and stopped.status == "cancelled":
        raise KeyboardInterrupt  # Ctrl-C: one line and status 130, as for every command
    if sizes is None and not outcome.ok:
        raise RunFailed(str(outcome.error))  # nothing was measured: the one line says why
    payload = json.dumps(outcome.to_dict(), indent=2) + "\n"
    if save_path is not None:
        try:
            atomic_write_text(save_path, payload)
        except OSError as exc:
            raise RunFailed(f"cannot save {write_error_text(exc, save_path)}") from None
    if args.json:
        sys.stdout.write(payload)
    else:
        sys.stdout.write(sweep_text(outcome) if sizes is not None else result_text(outcome))

    failed = outcome.stopped_by if sizes is not None else (None if outcome.ok else outcome)
    if failed is None:
        return 0
    if sizes is not None and outcome.points and failed.error_kind in ("insufficient-memory", "out-of-memory"):
        return 0  # a sweep that reaches the memory limit has found what it was looking for
    raise RunFailed(str(failed.error))


# For the other commands that time a model (profile).
option_error = _option_error
