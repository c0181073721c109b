"""resnet-explorer summary / presets."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from explorer.cli.errors import RunFailed
from explorer.cli.specargs import add_spec_arguments, spec_from_args
from explorer.core.analysis import analyze
from explorer.core.presets import PRESET_NAMES, preset, preset_family
from explorer.core.render.presets_text import format_presets
from explorer.core.render.table import FORMATTERS
from explorer.core.spec import ArchSpec


def register(subparsers: Any) -> None:
    summary = subparsers.add_parser(
        "summary",
        help="the layer table: shapes, params, MACs, receptive field",
        description="Print every layer's output shape, parameters and MACs, with totals.",
    )
    add_spec_arguments(summary)
    summary.add_argument(
        "--format",
        choices=tuple(FORMATTERS),
        default="table",
        help="table (default), torchsummary (its exact text), csv, markdown or json",
    )
    summary.add_argument(
        "--cross-check",
        action="store_true",
        help="build the model on the CPU, run the real torchsummary on it and compare its text with "
        "ours (exit 1 on a difference)",
    )
    summary.set_defaults(handler=run_summary)

    presets = subparsers.add_parser(
        "presets",
        help="list the presets with their params and MACs",
        description="List every preset name with its family, block, depths, input size, "
        "parameters and MACs; any of these names is a SPEC for the other commands.",
    )
    presets.add_argument("--format", choices=("table", "json"), default="table")
    presets.set_defaults(handler=run_presets)


def run_summary(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    if args.cross_check:
        return _cross_check(spec)
    sys.stdout.write(FORMATTERS[args.format](analyze(spec)))
    return 0


def _cross_check(spec: ArchSpec) -> int:
    from explorer.cli.worker_run import run_job
    from explorer.core.crosscheck import CrossCheckError
    from explorer.core.worker.jobs import cross_check_job

    try:
        check = run_job(cross_check_job(spec))
    except CrossCheckError as exc:
        raise RunFailed(f"cannot cross-check: {exc}") from None
    print(check.report())
    return 0 if check.agrees else 1


def run_presets(args: argparse.Namespace) -> int:
    entries: list[dict[str, Any]] = []
    for name in PRESET_NAMES:
        spec = preset(name)
        totals = analyze(spec).totals
        entries.append(
            {
                "name": name,
                "family": preset_family(name),
                "block": spec.block,
                "depths": list(spec.depths),
                "input": "x".join(map(str, spec.input_shape)),
                "params": totals.total_params,
                "macs": totals.macs,
            }
        )
    if args.format == "json":
        sys.stdout.write(json.dumps(entries, indent=2) + "\n")
        return 0
    sys.stdout.write(format_presets(entries))
    return 0
