"""The spec flags shared by summary, diagram, bench and compare."""

from __future__ import annotations

import argparse
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from explorer.cli.errors import CliError
from explorer.core.presets import UnknownPresetError, preset
from explorer.core.spec import BLOCK_TYPES, SHORTCUT_TYPES, STEM_TYPES, ArchSpec, SpecError


def add_spec_arguments(parser: argparse.ArgumentParser, positional: bool = True) -> None:
    if positional:
        parser.add_argument(
            "source",
            nargs="?",
            metavar="PRESET|CONFIG.json",
            help="a preset name (see 'resnet-explorer presets') or a saved spec; default resnet18",
        )
    group = parser.add_argument_group("spec flags (override the preset's fields)")
    group.add_argument("--block", choices=BLOCK_TYPES)
    group.add_argument("--depths", metavar="3,4,6,3", help="blocks per stage (1 to 6 stages)")
    group.add_argument("--widths", metavar="64,128,256,512", help="base width of each stage")
    group.add_argument("--strides", metavar="1,2,2,2", help="stride of each stage's first block")
    group.add_argument("--stem", choices=STEM_TYPES)
    group.add_argument("--stem-width", type=int, metavar="N")
    group.add_argument("--classes", type=int, metavar="N", help="classifier outputs; 0 for none")
    group.add_argument("--shortcut", choices=SHORTCUT_TYPES)
    group.add_argument("--groups", type=int, metavar="G")
    group.add_argument("--width-per-group", type=int, metavar="W")
    group.add_argument("--zero-init-residual", action="store_true", default=None)
    group.add_argument("--input", metavar="CxHxW", help="input shape, e.g. 3x224x224")


def _int_list(flag: str, text: str) -> tuple[int, ...]:
    parts = [part.strip() for part in text.split(",")]
    try:
        return tuple(int(part) for part in parts)
    except ValueError:
        raise CliError(f"{flag} {text!r}: give whole numbers separated by commas, e.g. 3,4,6,3") from None


def _input_shape(text: str) -> tuple[int, int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX,]\s*(\d+)\s*[xX,]\s*(\d+)\s*", text)
    if not match:
        raise CliError(f"--input {text!r}: give channels x height x width, e.g. 3x224x224")
    channels, height, width = (int(g) for g in match.groups())
    return channels, height, width


def load_source(source: str | None) -> ArchSpec:
    if source is None:
        return ArchSpec()
    path = Path(source)
    if source.endswith(".json") or path.is_file():
        try:
            return ArchSpec.load(path)
        except SpecError as exc:
            raise CliError(str(exc)) from None
    try:
        return preset(source)
    except UnknownPresetError as exc:
        raise CliError(str(exc)) from None


def spec_from_args(args: argparse.Namespace, source: str | None = None) -> ArchSpec:
    base = load_source(source if source is not None else getattr(args, "source", None))
    try:
        if args.depths is not None:
            base = base.with_depths(_int_list("--depths", args.depths))
        changes: dict[str, Any] = {}
        if args.widths is not None:
            changes["widths"] = _int_list("--widths", args.widths)
        if args.strides is not None:
            changes["strides"] = _int_list("--strides", args.strides)
        simple = {
            "block": args.block,
            "stem": args.stem,
            "stem_width": args.stem_width,
            "num_classes": args.classes,
            "shortcut": args.shortcut,
            "groups": args.groups,
            "width_per_group": args.width_per_group,
            "zero_init_residual": args.zero_init_residual,
        }
        changes.update({key: value for key, value in simple.items() if value is not None})
        if args.input is not None:
            channels, height, width = _input_shape(args.input)
            changes["in_channels"] = channels
            changes["input_size"] = (height, width)
        return replace(base, **changes)
    except SpecError as exc:
        raise CliError(f"invalid spec: {exc}") from None
