"""resnet-explorer export: the network as standalone PyTorch source, ONNX or a torch.export
program, each verified against the built model before it is written."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from explorer.cli.errors import CliError, RunFailed
from explorer.cli.parser import whole_number
from explorer.cli.paths import output_path
from explorer.cli.specargs import add_spec_arguments, spec_from_args
from explorer.core.devices import cpu_free_memory
from explorer.core.export.choices import DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, WEIGHT_CHOICES, export_format
from explorer.core.export.memory_need import export_memory_need
from explorer.core.export.result import ExportError, ExportVerificationError, ExportWriteError, WeightsError
from explorer.core.spec import ArchSpec
from explorer.core.units import format_bytes


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write the network as PyTorch source (.py), ONNX (.onnx) or a torch.export program (.pt2)",
        description=(
            "Write the network as one standalone PyTorch file (.py, needs only torch), an ONNX graph "
            "(.onnx, needs the export extra) or a torch.export program (.pt2), all with a dynamic "
            "batch axis. Each is checked against the model at batch 1 and 3 before it is written."
        ),
    )
    add_spec_arguments(parser)
    parser.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="model.py, model.onnx or model.pt2"
    )
    parser.add_argument(
        "--opset",
        type=whole_number,
        default=DEFAULT_OPSET,
        metavar="N",
        help=f"ONNX opset ({MIN_OPSET} to {MAX_OPSET}, default {DEFAULT_OPSET})",
    )
    parser.add_argument(
        "--weights",
        default="random",
        metavar="random|zero-init|FILE.pth",
        help="random: fresh initialisation (default); zero-init: each block's last norm at zero; "
        "FILE.pth: a checkpoint whose keys match the spec (.onnx and .pt2)",
    )
    parser.add_argument(
        "--no-memory-check",
        action="store_true",
        help="export even if the predicted memory exceeds what the machine has free",
    )
    parser.set_defaults(handler=run_export)


def _refuse_if_short(spec: ArchSpec, suffix: str) -> None:
    """Refuse an export the machine has too little free memory for, before anything is built
    (a network that would take minutes and all the memory only to fail)."""
    need = export_memory_need(spec, suffix)
    free = cpu_free_memory()
    if free is not None and need.total_bytes > free:
        raise RunFailed(
            f"exporting this network needs about {format_bytes(need.total_bytes)} ({need.parts}) "
            f"but the CPU has {format_bytes(free)} free; give a smaller --input or fewer, narrower "
            "stages, or pass --no-memory-check to try anyway"
        )


def run_export(args: argparse.Namespace) -> int:
    from explorer.cli.worker_run import run_job
    from explorer.core.worker.jobs import export_job

    path = output_path(args.output, "-o")
    try:
        suffix = export_format(path)
    except ExportError as exc:
        raise CliError(str(exc)) from None
    if "opset" in getattr(args, "given", frozenset()) and suffix != ".onnx":
        raise CliError(f"--opset applies to ONNX only, not {suffix}: drop it or write a .onnx")
    if args.weights not in WEIGHT_CHOICES and not args.weights.strip():
        raise CliError("--weights needs random, zero-init or a checkpoint file")
    spec = spec_from_args(args)
    if not args.no_memory_check:
        _refuse_if_short(spec, suffix)

    def progress(message: str) -> None:
        # On a terminal only: a script reading stderr sees nothing but an error line.
        if sys.stderr.isatty():
            print(f"{message}...", file=sys.stderr, flush=True)

    try:
        result = run_job(export_job(spec, path, args.weights, args.opset), on_status=progress)
    except (ExportError, WeightsError) as exc:
        raise CliError(str(exc)) from None
    except (ExportVerificationError, ExportWriteError) as exc:
        raise RunFailed(str(exc)) from None
    for line in result.lines():
        print(line)
    return 0
