"""resnet-explorer compare SPEC SPEC... : variants side by side, deltas against a baseline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from explorer.cli.bench import (
    ProgressBar,
    add_mode_argument,
    add_timing_arguments,
    add_training_arguments,
    bench_config,
)
from explorer.cli.errors import CliError, RunFailed
from explorer.cli.parser import refuse_unused, whole_number
from explorer.cli.paths import existing_path, os_error_text, output_path, write_error_text
from explorer.cli.specargs import load_source
from explorer.core.benchtypes import BenchConfig
from explorer.core.compare import BenchFigures, Comparison
from explorer.core.quoting import quote_value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="compare variants side by side, with deltas against a baseline",
        description="Compare presets or saved specs: params, MACs, depth, memory, receptive field, "
        "and with --bench the measured latency; each figure with its delta against the baseline.",
    )
    parser.add_argument("specs", nargs="*", metavar="SPEC", help="preset names or CONFIG.json files")
    parser.add_argument(
        "--open",
        metavar="COMPARISON.json",
        help="start from a comparison saved by --save or by the app; the SPECs are added to it",
    )
    parser.add_argument(
        "--baseline",
        type=whole_number,
        metavar="N",
        help="which variant (1-based) is the baseline (default: the first, or the saved one)",
    )
    parser.add_argument(
        "--format", choices=("table", "csv", "markdown", "json"), default="table", help="output format"
    )
    parser.add_argument(
        "--save", metavar="FILE.json", help="also save the comparison as a file the app opens"
    )
    parser.add_argument(
        "--bench",
        action="store_true",
        help="time a forward pass (or with --mode train a training step) of every variant",
    )
    timing = add_timing_arguments(parser, title="timing (with --bench)")
    training = add_training_arguments(parser, "sgd-momentum is SGD with momentum 0.9")
    add_mode_argument(training)
    # Every timing and training option, by its destination: without --bench they do nothing.
    bench_flags = {
        action.dest: action.option_strings[0] for action in [*timing._group_actions, *training._group_actions]
    }
    parser.set_defaults(handler=run_compare, bench_flags=bench_flags)


def _variant_name(source: str) -> str:
    return Path(source).stem if source.endswith(".json") else source


def _bench_all(comparison: Comparison, config: BenchConfig) -> Comparison:
    from explorer.cli.worker_run import run_job
    from explorer.core.worker.jobs import bench_each_job

    variants = comparison.variants
    results: list[Any] = []
    names = [variant.name for variant in variants]
    # One progress line for all the variants, as bench's: a stopped run then says one line.
    bar = ProgressBar(sys.stderr, "timing")
    try:
        run_job(bench_each_job([variant.spec for variant in variants], config, names), bar, results.append)
    finally:
        bar.close()
    if len(results) < len(variants):  # Ctrl-C stopped it between two variants
        raise KeyboardInterrupt
    for index, (variant, result) in enumerate(zip(variants, results, strict=True)):
        if not result.ok:
            raise RunFailed(f"timing {variant.name} failed: {result.error}")
        figures = BenchFigures.from_result(result)
        if config.mode == "train":
            comparison = comparison.with_train_bench(index, figures)
        else:
            comparison = comparison.with_bench(index, figures)
    return comparison


def _opened(text: str) -> Comparison:
    path = existing_path(text, "--open")
    try:
        return Comparison.load(path)
    except OSError as exc:
        raise CliError(f"--open cannot read {os_error_text(exc, text)}") from None


def run_compare(args: argparse.Namespace) -> int:
    from explorer.core.render.compare_text import COMPARISON_FORMATTERS

    # Every option is checked before any spec is read or analysed, let alone timed.
    if not args.bench:
        refuse_unused(getattr(args, "given", frozenset()), args.bench_flags, "--bench", "add --bench")
    config = bench_config(args, args.batch if args.batch is not None else 1) if args.bench else None
    save_path = output_path(args.save, "--save") if args.save is not None else None
    comparison = _opened(args.open) if args.open is not None else Comparison()
    for source in args.specs:
        comparison = comparison.add(_variant_name(source), load_source(source))
    count = len(comparison.variants)
    if count < 2:
        raise CliError(
            f"a comparison needs two variants or more, got {count}: "
            "name another SPEC, e.g. 'resnet-explorer compare resnet18 resnet34'"
        )
    if args.baseline is not None:
        if not 1 <= args.baseline <= count:
            raise CliError(f"--baseline {quote_value(args.baseline)}: give a number from 1 to {count}")
        comparison = comparison.with_baseline(args.baseline - 1)
    if config is not None:
        comparison = _bench_all(comparison, config)
    if save_path is not None:
        try:
            comparison.save(save_path)
        except OSError as exc:
            raise RunFailed(f"cannot save {write_error_text(exc, save_path)}") from None
    sys.stdout.write(COMPARISON_FORMATTERS[args.format](comparison))
    return 0
