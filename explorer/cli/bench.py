"""resnet-explorer bench: time the forward pass of a spec's real model."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from explorer.cli.errors import CliError
from explorer.cli.specargs import add_spec_arguments, spec_from_args

DTYPE_CHOICES = ("float32", "float16", "bfloat16")
BAR_WIDTH = 30


def register(subparsers: Any) -> None:
    bench = subparsers.add_parser(
        "bench",
        help="time a forward pass on the CPU, a CUDA device or Apple MPS",
        description=(
            "Build the spec's real model on a device and time its forward pass "
            "(eval mode, inference mode, random input): median latency with its spread, "
            "images per second, achieved GMAC/s and peak memory."
        ),
    )
    add_spec_arguments(bench)
    add_timing_arguments(bench, sweep=True)
    output = bench.add_argument_group("output")
    output.add_argument("--json", action="store_true", help="print the result as JSON")
    output.add_argument("--save", metavar="FILE.json", help="also write the JSON result to this file")
    bench.set_defaults(handler=run_bench)


def add_timing_arguments(parser: argparse.ArgumentParser, sweep: bool = False, title: str = "timing") -> None:
    """The timing options, shared by bench and compare --bench."""
    group = parser.add_argument_group(title)
    group.add_argument("--device", default="auto", metavar="auto|cpu|cuda|cuda:N|mps", help="default auto")
    group.add_argument("--batch", type=int, metavar="N", help="images a forward pass (default 1)")
    if sweep:
        group.add_argument(
            "--sweep", metavar="1,2,4,8", help="time each of these batch sizes, up to the first that fails"
        )
    group.add_argument(
        "--dtype", choices=DTYPE_CHOICES, default="float32", help="reduced ones run through autocast"
    )
    group.add_argument("--channels-last", action="store_true", help="NHWC memory layout for model and input")
    group.add_argument("--compile", action="store_true", help="run through torch.compile (off by default)")
    group.add_argument("--warmup", type=int, default=3, metavar="N", help="untimed passes (default 3)")
    group.add_argument("--iters", type=int, metavar="N", help="timed passes (default 10; 3 with --min-time)")
    group.add_argument(
        "--min-time", type=float, metavar="S", help="go on timing until the passes add up to S seconds"
    )
    group.add_argument(
        "--threads", type=int, metavar="N", help="CPU threads for torch (default: torch's own)"
    )
    group.add_argument(
        "--no-memory-check", action="store_true", help="run even if the estimate exceeds free memory"
    )


def _batch_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise CliError(f"--sweep {text!r}: give batch sizes separated by commas, e.g. 1,2,4,8") from None
    if any(size < 1 for size in sizes):
        raise CliError(f"--sweep {text!r}: every batch size must be 1 or more")
    return sizes


class ProgressBar:
    """A bar redrawn in place on a terminal; on anything else, a line that grows by tenths."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.interactive = stream.isatty()
        self._tenths = 0
        self._open = False

    def __call__(self, done: int, total: int) -> None:
        fraction = min(1.0, done / max(total, 1))
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
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


@contextmanager
def _interrupt_flag() -> Iterator[Callable[[], bool]]:
    """Ctrl-C ends the run after the current pass instead of tearing it down mid-way."""
    pressed: list[bool] = []

    def on_interrupt(_signum: int, _frame: object) -> None:
        if pressed:
            raise KeyboardInterrupt
        pressed.append(True)

    if threading.current_thread() is not threading.main_thread():
        yield lambda: False  # only the main thread may take over signals
        return
    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield lambda: bool(pressed)
    finally:
        signal.signal(signal.SIGINT, previous)


def bench_config(args: argparse.Namespace, batch: int) -> Any:
    """The BenchConfig the timing options describe; their mistakes are CliErrors."""
    from explorer.core.bench import BenchConfig, BenchError

    iterations = args.iters if args.iters is not None else (3 if args.min_time is not None else 10)
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
        )
    except BenchError as exc:
        raise CliError(str(exc)) from None


def run_bench(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    sizes = _batch_sizes(args.sweep) if args.sweep is not None else None
    if sizes is not None and args.batch is not None:
        raise CliError("give either --batch or --sweep, not both")
    config = bench_config(args, args.batch if args.batch is not None else 1)

    from explorer.core.bench import BenchError, run_benchmark, run_sweep
    from explorer.core.files import atomic_write_text
    from explorer.core.render.bench_text import result_text, sweep_text

    bar = ProgressBar(sys.stderr, "sweep" if sizes else "bench")
    try:
        with _interrupt_flag() as interrupted:
            if sizes is not None:
                outcome: Any = run_sweep(spec, config, sizes, bar, interrupted)
            else:
                outcome = run_benchmark(spec, config, bar, interrupted)
    except BenchError as exc:
        raise CliError(str(exc)) from None
    finally:
        bar.close()

    payload = json.dumps(outcome.to_dict(), indent=2) + "\n"
    if args.save:
        try:
            atomic_write_text(args.save, payload)
        except OSError as exc:
            raise CliError(f"cannot write {args.save}: {exc.strerror or exc}") from None
    if args.json:
        sys.stdout.write(payload)
    else:
        sys.stdout.write(sweep_text(outcome) if sizes is not None else result_text(outcome))

    failed = outcome.stopped_by if sizes is not None else (None if outcome.ok else outcome)
    if failed is None:
        return 0
    if failed.status == "cancelled":
        print("resnet-explorer bench: cancelled", file=sys.stderr)
        return 130
    if sizes is not None and failed.error_kind in ("insufficient-memory", "out-of-memory"):
        return 0  # a sweep that reaches the memory limit has found what it was looking for
    print(f"resnet-explorer bench: error: {failed.error}", file=sys.stderr)
    return 1
