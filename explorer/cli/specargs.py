"""The spec flags shared by summary, diagram, bench and compare, one per field of ArchSpec.

The flags are derived from ``dataclasses.fields(ArchSpec)`` and the fields' types, so a new
field gets its flag without an edit here; a field whose type has no command-line form stops
the parser from being built (and the tests fail) until it is given one.
"""

from __future__ import annotations

import argparse
import types
from dataclasses import dataclass, fields, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from explorer.cli.errors import CliError
from explorer.cli.parser import real_number, whole_number
from explorer.cli.paths import existing_path, os_error_text
from explorer.core import parts
from explorer.core.ascii_numbers import ascii_fullmatch, parse_whole_number
from explorer.core.file_kind import is_comparison_file
from explorer.core.presets import UnknownPresetError, preset
from explorer.core.quoting import quote_value
from explorer.core.spec import MAX_STAGES, ArchSpec, SpecError

Kind = Literal["choice", "whole", "real", "switch", "numbers"]

# Fields whose flag reads better under another name than the field's own.
FLAG_NAMES = {"num_classes": "--classes"}
# Fields set together by one flag: --input CxHxW gives the channels and the image size.
INPUT_FLAG = "--input"
INPUT_FIELDS = ("in_channels", "input_size")
HELP = {
    "depths": "blocks per stage (1 to 6 stages)",
    "widths": "base width of each stage",
    "strides": "stride of each stage's first block",
    "num_classes": "classifier outputs; 0 for none",
}
# Whole-number fields that take only a few values, from the core's definitions.
NUMBER_CHOICES: dict[str, tuple[int, ...]] = {"output_stride": parts.OUTPUT_STRIDES}
EXAMPLES = {"depths": "3,4,6,3", "widths": "64,128,256,512", "strides": "1,2,2,2"}


@dataclass(frozen=True)
class SpecFlag:
    """The command-line flag that sets one field of ArchSpec."""

    field: str
    flag: str
    kind: Kind
    choices: tuple[str, ...] | tuple[int, ...] = ()

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


def _kind(field: str, annotation: Any) -> tuple[Kind, tuple[str, ...] | tuple[int, ...]]:
    # A field that picks a kind of part takes the keys of its table in explorer.core.parts.
    if field in parts.FIELD_KINDS:
        return "choice", tuple(parts.FIELD_KINDS[field])
    if field in NUMBER_CHOICES:
        return "choice", NUMBER_CHOICES[field]
    if get_origin(annotation) in (Union, types.UnionType):
        present = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(present) == 1:
            annotation = present[0]
    if get_origin(annotation) is Literal:
        return "choice", tuple(str(arg) for arg in get_args(annotation))
    if annotation is bool:
        return "switch", ()
    if annotation is int:
        return "whole", ()
    if annotation is float:
        return "real", ()
    if get_origin(annotation) is tuple and get_args(annotation) == (int, Ellipsis):
        return "numbers", ()
    raise TypeError(
        f"ArchSpec.{field} has no command-line form for its type {annotation!r}: "
        "teach explorer/cli/specargs.py to read it"
    )


@cache
def spec_flags() -> tuple[SpecFlag, ...]:
    """One flag for each field of ArchSpec but those that --input sets."""
    hints = get_type_hints(ArchSpec)
    flags = []
    for spec_field in fields(ArchSpec):
        if spec_field.name in INPUT_FIELDS:
            continue
        kind, choices = _kind(spec_field.name, hints[spec_field.name])
        flag = FLAG_NAMES.get(spec_field.name, "--" + spec_field.name.replace("_", "-"))
        flags.append(SpecFlag(spec_field.name, flag, kind, choices))
    return tuple(flags)


def add_spec_arguments(parser: argparse.ArgumentParser, positional: bool = True) -> None:
    if positional:
        parser.add_argument(
            "source",
            nargs="?",
            metavar="PRESET|CONFIG.json",
            help="a preset name (see 'resnet-explorer presets') or a saved spec; default resnet18",
        )
    group = parser.add_argument_group("spec flags (override the preset's fields)")
    for spec_flag in spec_flags():
        help_text = (
            HELP.get(spec_flag.field, parts.FIELD_TOOLTIPS.get(spec_flag.field, "")).replace("%", "%%")
            or None
        )
        if spec_flag.kind == "choice":
            numbers = bool(spec_flag.choices) and isinstance(spec_flag.choices[0], int)
            choice_type = whole_number if numbers else str
            group.add_argument(spec_flag.flag, choices=spec_flag.choices, type=choice_type, help=help_text)
        elif spec_flag.kind == "switch":
            group.add_argument(spec_flag.flag, action="store_true", default=None, help=help_text)
        elif spec_flag.kind == "whole":
            group.add_argument(spec_flag.flag, type=whole_number, metavar="N", help=help_text)
        elif spec_flag.kind == "real":
            group.add_argument(spec_flag.flag, type=real_number, metavar="R", help=help_text)
        else:
            example = EXAMPLES.get(spec_flag.field, "1,2,3")
            group.add_argument(spec_flag.flag, metavar=example, help=help_text)
    group.add_argument(INPUT_FLAG, metavar="CxHxW", help="input shape, e.g. 3x224x224")


def _numbers(flag: str, text: str) -> tuple[int, ...]:
    try:
        return tuple(parse_whole_number(part.strip()) for part in text.split(","))
    except ValueError:
        raise CliError(
            f"{flag} {quote_value(text)}: give whole numbers separated by commas (digits 0-9), e.g. 3,4,6,3"
        ) from None


def _input_shape(text: str) -> tuple[int, int, int]:
    match = ascii_fullmatch(r"\s*(\d{1,9})\s*[xX,]\s*(\d{1,9})\s*[xX,]\s*(\d{1,9})\s*", text)
    if not match:
        raise CliError(f"{INPUT_FLAG} {quote_value(text)}: give channels x height x width, e.g. 3x224x224")
    channels, height, width = (int(g) for g in match.groups())
    return channels, height, width


def load_source(source: str | None) -> ArchSpec:
    """The spec a preset name or a saved file describes."""
    if source is None:
        return ArchSpec()
    try:
        if not (source.endswith(".json") or Path(source).is_file()):
            return preset(source)
    except UnknownPresetError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot read {os_error_text(exc, source)}") from None
    path = existing_path(source)
    try:
        return ArchSpec.load(path)
    except SpecError as exc:
        if is_comparison_file(path):
            raise CliError(
                f"{quote_value(source)} is a saved comparison, not a spec: print it with "
                f"'resnet-explorer compare --open FILE', or open it in the app's Compare tab"
            ) from None
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot read {os_error_text(exc, source)}") from None


def spec_from_args(args: argparse.Namespace, source: str | None = None) -> ArchSpec:
    base = load_source(source if source is not None else getattr(args, "source", None))
    changes: dict[str, Any] = {}
    for spec_flag in spec_flags():
        value = getattr(args, spec_flag.dest)
        if value is None:
            continue
        changes[spec_flag.field] = _numbers(spec_flag.flag, value) if spec_flag.kind == "numbers" else value
    text = getattr(args, INPUT_FLAG.lstrip("-"))
    if text is not None:
        channels, height, width = _input_shape(text)
        changes["in_channels"] = channels
        changes["input_size"] = (height, width)
    try:
        if "depths" in changes and len(changes["depths"]) <= MAX_STAGES:
            # Explicit widths and strides follow a new stage count unless given too; too many
            # stages go straight to the spec's own check instead of being extended first.
            base = base.with_depths(changes.pop("depths"))
        return replace(base, **changes)
    except SpecError as exc:
        raise CliError(f"invalid spec: {exc}") from None


def spec_flag_arguments(spec: ArchSpec) -> list[str]:
    """The flags that turn the default spec into ``spec`` (the inverse of ``spec_from_args``)."""
    arguments: list[str] = []
    for spec_flag in spec_flags():
        value = getattr(spec, spec_flag.field)
        if value is None or (spec_flag.kind == "switch" and not value):
            continue
        if spec_flag.kind == "switch":
            arguments.append(spec_flag.flag)
        elif spec_flag.kind == "numbers":
            arguments += [spec_flag.flag, ",".join(map(str, value))]
        else:
            arguments += [spec_flag.flag, str(value)]
    default = ArchSpec()
    if spec.input_size is not None or spec.in_channels != default.in_channels:
        arguments += [INPUT_FLAG, "x".join(map(str, spec.input_shape))]
    return arguments
