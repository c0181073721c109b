"""resnet-explorer compare SPEC SPEC... : variants side by side, deltas against a baseline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from explorer.cli.bench import add_timing_arguments, bench_config
from explorer.cli.errors import CliError
from explorer.cli.specargs import load_source
from explorer.core.compare import BenchFigures, Comparison, ComparisonError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="compare variants side by side, with deltas against a baseline",
        description="Compare presets or saved specs: params, MACs, depth, memory, receptive field, "
        "and with --bench the measured latency; each figure with its delta against the baseline.",
    )
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="preset names or CONFIG.json files")
    parser.add_argument(
        "--baseline", type=int, default=1, metavar="N", help="which SPEC (1-based) is the baseline"
    )
    parser.add_argument(
        "--format", choices=("table", "csv", "markdown", "json"), default="table", help="output format"
    )
    parser.add_argument(
        "--save", metavar="FILE.json", help="also save the comparison as a file the app opens"
    )
    parser.add_argument("--bench", action="store_true", help="time a forward pass of every variant")
    add_timing_arguments(parser, title="timing (with --bench)")
    parser.set_defaults(handler=run_compare)


def _variant_name(source: str) -> str:
    return Path(source).stem if source.endswith(".json") else source


def _bench_all(comparison: Comparison, args: argparse.Namespace) -> Comparison:
    from explorer.core.bench import run_benchmark
    from explorer.core.benchtypes import BenchError

    config = bench_config(args, args.batch if args.batch is not None else 1)
    for index, variant in enumerate(comparison.variants):
        print(f"timing {variant.name} ({index + 1}/{len(comparison.variants)})...", file=sys.stderr)
        try:
            result = run_benchmark(variant.spec, config)
        except BenchError as exc:
            raise CliError(str(exc)) from None
        if not result.ok:
            raise CliError(f"timing {variant.name} failed: {result.error}")
        comparison = comparison.with_bench(index, BenchFigures.from_result(result))
    return comparison


def run_compare(args: argparse.Namespace) -> int:
    from explorer.core.render.compare_text import COMPARISON_FORMATTERS

    comparison = Comparison()
    for source in args.specs:
        comparison = comparison.add(_variant_name(source), load_source(source))
    if not 1 <= args.baseline <= len(comparison.variants):
        raise CliError(f"--baseline {args.baseline}: give a number from 1 to {len(comparison.variants)}")
    comparison = comparison.with_baseline(args.baseline - 1)
    if args.bench:
        comparison = _bench_all(comparison, args)
    if args.save:
        try:
            comparison.save(args.save)
        except OSError as exc:
            raise CliError(f"cannot save {args.save}: {exc}") from None
        except ComparisonError as exc:
            raise CliError(str(exc)) from None
    sys.stdout.write(COMPARISON_FORMATTERS[args.format](comparison))
    return 0
