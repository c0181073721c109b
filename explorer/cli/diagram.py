"""resnet-explorer diagram: the architecture drawn as SVG, PNG, PDF or DOT."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, get_args

from explorer.cli.errors import CliError, RunFailed
from explorer.cli.parser import refuse_unused, whole_number
from explorer.cli.paths import output_path, write_error_text
from explorer.cli.profile import add_profile_arguments, profile_config, run_profile_of
from explorer.cli.specargs import add_spec_arguments, spec_from_args
from explorer.core.files import atomic_write_bytes
from explorer.core.fold import FOLDS, Fold
from explorer.core.graph import Level, graph_from_spec
from explorer.core.quoting import quote_value
from explorer.core.render.colour_by import METRICS, PROFILED_METRICS, ColourBy
from explorer.core.render.dot import WRAPS, Rankdir, Style
from explorer.core.render.export import (
    DEFAULT_DPI,
    FORMATS,
    MAX_DPI,
    MIN_DPI,
    Format,
    GraphvizError,
    GraphvizNotFound,
    Rendered,
    check_dpi,
    diagram_dot,
    render,
)
from explorer.core.render.page import (
    MIN_TEXT_PT,
    PAGES,
    TWO_PAGES_PT,
    PageFitError,
    choose_fold,
    narrowing_options,
    render_on_page,
)
from explorer.core.render.profile_text import check_text
from explorer.core.spec import ArchSpec

LEVELS: tuple[Level, ...] = get_args(Level)
STYLES: tuple[Style, ...] = get_args(Style)
RANKDIRS: tuple[Rankdir, ...] = get_args(Rankdir)


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
        "--fold",
        choices=FOLDS,
        help=(
            "repeats: draw consecutive alike blocks of a stage once, marked xN; none: every block. "
            f"By default repeats where the unfolded figure would be over about two pages "
            f"({TWO_PAGES_PT:,.0f} pt), else none"
        ),
    )
    parser.add_argument(
        "--wrap",
        choices=WRAPS,
        default="none",
        help="stages: each stage a column of its own (a row with --rankdir LR); none: one column (default)",
    )
    parser.add_argument(
        "--page",
        choices=PAGES,
        help=(
            "scale an SVG or PDF to the text width of an A4 (160 mm) or Letter (6.5 in) page; "
            f"refused where its smallest text would come out under {MIN_TEXT_PT:g} pt"
        ),
    )
    parser.add_argument(
        "--format", choices=FORMATS, help="the file format; by default the output's extension"
    )
    parser.add_argument(
        "--dpi",
        type=whole_number,
        metavar="N",
        help=f"resolution of a PNG (default {DEFAULT_DPI}, {MIN_DPI} to {MAX_DPI})",
    )
    colour = parser.add_argument_group("colour by a metric")
    colour.add_argument(
        "--color-by",
        "--colour-by",
        dest="color_by",
        choices=METRICS,
        help=(
            "fill every box by params, MACs, activations (output bytes per image), latency or "
            "achieved GMAC/s (these two profile the model first), with the scale drawn in the picture"
        ),
    )
    colour.add_argument("--show-values", action="store_true", help="also write each box's value in it")
    add_profile_arguments(parser, "profiling (for --color-by latency or gmacs)")
    parser.set_defaults(handler=run_diagram)


def _output_format(path: Path, given: Format | None) -> Format:
    if given is not None:
        return given
    suffix = path.suffix.lower().lstrip(".")
    for fmt in FORMATS:
        if suffix == fmt:
            return fmt
    raise CliError(
        f"cannot tell the format of {quote_value(str(path))} from its extension: "
        f"name it .svg, .png, .pdf or .dot, or pass --format"
    )


# The profiling options, by their destinations: they do something with a profiled colouring only.
PROFILE_FLAGS = {
    "device": "--device",
    "batch": "--batch",
    "dtype": "--dtype",
    "channels_last": "--channels-last",
    "mode": "--mode",
    "warmup": "--warmup",
    "iters": "--iters",
    "threads": "--threads",
}


def _colour_by(args: argparse.Namespace, spec: ArchSpec) -> ColourBy | None:
    """What the boxes are coloured by; a latency or GMAC/s colouring profiles the model first."""
    if args.color_by not in PROFILED_METRICS:
        given: frozenset[str] = getattr(args, "given", frozenset())
        refuse_unused(given, PROFILE_FLAGS, "--color-by latency or gmacs", "colour by one of them")
    if args.color_by is None:
        if args.show_values:
            raise CliError("--show-values writes the values of --color-by: give --color-by too")
        return None
    profile = None
    if args.color_by in PROFILED_METRICS:
        profile = run_profile_of(spec, profile_config(args))
        print(f"profiled: {check_text(profile)}", file=sys.stderr)
    return ColourBy(args.color_by, profile, args.show_values)


def _fold(args: argparse.Namespace, spec: ArchSpec) -> tuple[Fold, str]:
    """The fold to draw with, and how the output line says it ("" where it does not apply)."""
    if args.level == "stage":
        return "none", ""
    if args.fold is not None:
        return args.fold, "folded" if args.fold == "repeats" else "not folded"
    choice = choose_fold(spec, args.level, args.style, args.rankdir)
    return choice.fold, choice.reason()


def _fold_words(spec: ArchSpec, level: Level, fold: Fold, said: str) -> str:
    """``said``, and for a folded diagram what was folded."""
    if fold != "repeats" or not said:
        return said
    groups = graph_from_spec(spec, level, fold).groups
    if not groups:
        return f"{said}: no alike blocks to fold"
    blocks = sum(group.repeat for group in groups)
    return f"{said}: {blocks} blocks drawn as {len(groups)}"


def _check_page(args: argparse.Namespace, fmt: Format) -> None:
    if args.page is not None and fmt not in ("svg", "pdf"):
        raise CliError(f"--page fits an SVG or PDF to a page, not {fmt}: drop it or write a .svg or .pdf")


def run_diagram(args: argparse.Namespace) -> int:
    path = output_path(args.output, "-o")
    fmt = _output_format(path, args.format)
    if args.dpi is not None:
        try:
            check_dpi(args.dpi)
        except ValueError as exc:
            raise CliError(f"--{exc}") from None
        if fmt != "png":
            raise CliError(f"--dpi applies to PNG only, not {fmt}: drop it or write a .png")
    _check_page(args, fmt)
    spec = spec_from_args(args)
    colour_by = _colour_by(args, spec)
    fold, fold_said = _fold(args, spec)
    text = diagram_dot(spec, args.level, args.style, args.rankdir, colour_by, fold, args.wrap)
    page_said = ""
    try:
        if args.page is not None:
            options = narrowing_options(args.level, args.style, args.rankdir, fold, args.wrap)
            try:
                fitted = render_on_page(text, fmt, args.page, options)
            except PageFitError as exc:
                raise CliError(str(exc)) from None
            rendered: Rendered = fitted.rendered
            page_said = fitted.describe()
        else:
            rendered = render(text, fmt, args.dpi)
        atomic_write_bytes(path, rendered.data)
    except GraphvizNotFound as exc:
        raise CliError(str(exc)) from None
    except GraphvizError as exc:
        raise RunFailed(str(exc)) from None
    except OSError as exc:
        raise RunFailed(f"cannot write {write_error_text(exc, path)}") from None
    for warning in rendered.warnings:
        print(f"resnet-explorer diagram: warning: {warning}", file=sys.stderr)
    said = [fmt, f"{args.level} level", f"{args.style} style"]
    said.append(_fold_words(spec, args.level, fold, fold_said))
    if args.wrap == "stages":
        said.append("a column per stage" if args.rankdir == "TB" else "a row per stage")
    if colour_by is not None:
        said.append(f"coloured by {args.color_by}")
    said.append(page_said)
    print(f"wrote {path} ({', '.join(part for part in said if part)})")
    return 0
