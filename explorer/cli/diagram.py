"""resnet-explorer diagram: the architecture drawn as SVG, PNG, PDF or DOT."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from explorer.cli.errors import CliError
from explorer.cli.specargs import add_spec_arguments, spec_from_args

LEVELS = ("stage", "block", "layer")
STYLES = ("paper", "detailed")
RANKDIRS = ("TB", "LR")
FORMATS = ("svg", "png", "pdf", "dot")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "diagram",
        help="draw the architecture with its residual edges (svg, png, pdf, dot)",
        description=(
            "Draw the network with its shortcuts: identity shortcuts solid, projections dashed "
            "and labelled. Needs Graphviz's 'dot' for svg, png and pdf."
        ),
    )
    add_spec_arguments(parser)
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write the diagram")
    parser.add_argument(
        "--level", choices=LEVELS, default="block", help="stage, block (default) or every layer"
    )
    parser.add_argument(
        "--style",
        choices=STYLES,
        default="paper",
        help="paper: boxes as in the ResNet paper (default); detailed: names, shapes and params",
    )
    parser.add_argument(
        "--rankdir", choices=RANKDIRS, default="TB", help="TB: top to bottom (default); LR: left to right"
    )
    parser.add_argument(
        "--format", choices=FORMATS, help="the file format; by default the output's extension"
    )
    parser.add_argument("--dpi", type=int, metavar="N", help="resolution of a PNG (default 96)")
    parser.set_defaults(handler=run_diagram)


def _output_format(path: Path, given: str | None) -> str:
    if given is not None:
        return given
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise CliError(
            f"cannot tell the format of {str(path)!r} from its extension: "
            f"name it .svg, .png, .pdf or .dot, or pass --format"
        )
    return suffix


def run_diagram(args: argparse.Namespace) -> int:
    path = Path(args.output)
    fmt = _output_format(path, args.format)
    if args.dpi is not None and args.dpi <= 0:
        raise CliError(f"--dpi {args.dpi}: give a positive whole number, e.g. 150")
    if args.dpi is not None and fmt != "png":
        raise CliError(f"--dpi applies to PNG only, not {fmt}: drop it or write a .png")
    if not path.parent.is_dir():
        raise CliError(f"the folder {str(path.parent)!r} does not exist: create it or choose another -o")
    spec = spec_from_args(args)

    from explorer.core.render.export import GraphvizError, export_diagram

    try:
        rendered = export_diagram(spec, path, args.level, args.style, args.rankdir, fmt, args.dpi)  # type: ignore[arg-type]
    except GraphvizError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    for warning in rendered.warnings:
        print(f"resnet-explorer diagram: warning: {warning}", file=sys.stderr)
    print(f"wrote {path} ({fmt}, {args.level} level, {args.style} style)")
    return 0
