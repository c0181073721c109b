"""ArchSpec: a frozen, validated description of one residual network.

Every field is checked when the spec is made, so code that holds an ``ArchSpec``
never has to ask whether it is valid. A bad value raises ``SpecError``, which
names the field and says how to fix it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, TypeGuard

from explorer.core import parts
from explorer.core.file_kind import NOT_A_DOCUMENT
from explorer.core.files import atomic_write_text, read_user_bytes
from explorer.core.jsonable import JsonError, json_type_name, parse_json, parse_json_file
from explorer.core.plan import layer_plan, output_shapes
from explorer.core.quoting import quote_value
from explorer.core.spec_error import SpecError as SpecError  # where the app has always found it
from explorer.core.spec_error import field_label as field_label
from explorer.core.wording import counted

# A kind of part is named by its key in its table in explorer.core.parts, where each kind
# is defined once; validation checks the value against that table.
BlockType = str
StemType = str
ShortcutType = str
StemPoolType = str
StrideOnType = str
AttentionType = str
AntiAliasType = str

# The choices come from the parts' definitions (explorer.core.parts), each written once there.
BLOCK_TYPES: tuple[str, ...] = tuple(parts.BLOCKS)
STEM_TYPES: tuple[str, ...] = tuple(parts.STEMS)
SHORTCUT_TYPES: tuple[str, ...] = tuple(parts.SHORTCUTS)
STEM_POOL_TYPES: tuple[str, ...] = tuple(parts.STEM_POOLS)
STRIDE_ON_TYPES: tuple[str, ...] = tuple(parts.STRIDE_ON)
ATTENTION_TYPES: tuple[str, ...] = tuple(parts.ATTENTIONS)
ANTI_ALIAS_TYPES: tuple[str, ...] = tuple(parts.ANTI_ALIASES)
OUTPUT_STRIDES: tuple[int, ...] = parts.OUTPUT_STRIDES

EXPANSION = {key: kind.expansion for key, kind in parts.BLOCKS.items()}
DEFAULT_INPUT_SIDE = {key: kind.default_side for key, kind in parts.STEMS.items()}
DEFAULT_SE_RATIO = 1 / 16

MAX_STAGES = 6
MAX_BLOCKS_PER_STAGE = 512
MAX_WIDTH = 8192
MAX_STRIDE = 4
MAX_IN_CHANNELS = 64
MAX_CLASSES = 100_000
MAX_INPUT_SIDE = 4096
FORMAT_VERSION = 1


def is_whole_number(value: object) -> TypeGuard[int]:
    """An int that is not a bool (JSON's true is no depth)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _check_int(field: str, value: object, low: int, high: int, low_hint: str = "") -> int:
    """``value`` if it is a whole number from ``low`` to ``high``; ``low_hint`` explains
    the lower bound and follows only a value below it."""
    if not is_whole_number(value):
        raise SpecError(field, f"must be a whole number, got {quote_value(value)}")
    assert isinstance(value, int)
    if value < low:
        raise SpecError(field, f"must be >= {low}, got {quote_value(value)}{low_hint}")
    if value > high:
        raise SpecError(field, f"must be <= {high}, got {quote_value(value)}")
    return value


def _check_choice(field: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise SpecError(field, f"unknown value {quote_value(value)}; choose one of {options}")
    assert isinstance(value, str)
    return value


def _check_number(
    field: str, value: object, low: float, high: float, low_open: bool, high_open: bool
) -> float:
    """``value`` as a float if it is a finite number in the range (open ends excluded)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(field, f"must be a number, got {quote_value(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf if value > 0 else -math.inf
    if math.isnan(number):
        raise SpecError(field, f"must be a number, got {quote_value(value)}")
    if number < low or (low_open and number == low):
        raise SpecError(field, f"must be {'>' if low_open else '>='} {low:g}, got {quote_value(value)}")
    if number > high or (high_open and number == high):
        raise SpecError(field, f"must be {'<' if high_open else '<='} {high:g}, got {quote_value(value)}")
    return number


def _failures(check: Callable[..., object], *args: Any) -> Iterator[SpecError]:
    """The problem that ``check(*args)`` raises, if any (for ``yield from``)."""
    try:
        check(*args)
    except SpecError as exc:
        yield exc


def _int_tuple(field: str, value: object) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise SpecError(field, f"must be a list of whole numbers, got {quote_value(value)}")
    for i, item in enumerate(value):
        if not is_whole_number(item):
            raise SpecError(f"{field}[{i}]", f"must be a whole number, got {quote_value(item)}")
    return tuple(value)


@dataclass(frozen=True)
class ArchSpec:
    """A residual network: stem, stages of blocks, global pool and optional classifier.

    ``widths``, ``strides`` and ``input_size`` may be left as ``None`` and then follow
    the defaults (widths 64, 128, 256, ... doubling; stride 1 then 2; input 32x32 for
    the cifar stem and 224x224 for the imagenet stem), so that changing the number of
    stages keeps a consistent spec.
    """

    block: BlockType = "basic"
    depths: tuple[int, ...] = (2, 2, 2, 2)
    widths: tuple[int, ...] | None = None
    strides: tuple[int, ...] | None = None
    stem: StemType = "cifar"
    stem_width: int = 64
    in_channels: int = 3
    num_classes: int = 0
    zero_init_residual: bool = False
    groups: int = 1
    width_per_group: int = 64
    shortcut: ShortcutType = "projection"
    input_size: tuple[int, int] | None = None
    stem_pool: StemPoolType = "max"
    stride_on: StrideOnType = "3x3"
    attention: AttentionType = "none"
    se_ratio: float = DEFAULT_SE_RATIO
    anti_alias: AntiAliasType = "none"
    drop_path: float = 0.0
    output_stride: int = 32

    def __post_init__(self) -> None:
        for problem in self._problems():
            raise problem

    def _problems(self) -> Iterator[SpecError]:
        """Every problem of the spec (the first one found first, one per field): each field's
        own, then, once every field is valid on its own, those of the fields together."""
        seen: set[str] = set()
        for problem in self._field_problems():
            seen.add(problem.field)
            yield problem
        if seen:
            return
        checks = (self._check_block_options, self._check_part_options, self._check_shortcuts)
        for check in (*checks, self._check_output_stride):
            for problem in check():
                if problem.field not in seen:
                    seen.add(problem.field)
                    yield problem
        if not seen and parts.ANTI_ALIASES[self.anti_alias].filters:
            # Whether every anti-aliasing step has pixels enough to filter is a matter of
            # shapes: the plan's shape rules (pure Python, cached) raise a SpecError if not.
            yield from _failures(lambda: output_shapes(layer_plan(self)))

    def _field_problems(self) -> Iterator[SpecError]:
        """The problem of each field on its own (its type and range), field by field; a
        valid field is kept in its normal form (tuples, floats)."""
        for name, choices in (
            ("block", BLOCK_TYPES),
            ("stem", STEM_TYPES),
            ("shortcut", SHORTCUT_TYPES),
            ("stem_pool", STEM_POOL_TYPES),
            ("stride_on", STRIDE_ON_TYPES),
            ("attention", ATTENTION_TYPES),
            ("anti_alias", ANTI_ALIAS_TYPES),
        ):
            yield from _failures(_check_choice, name, getattr(self, name), choices)
        for name, high_open in (("se_ratio", False), ("drop_path", True)):
            low_open = name == "se_ratio"
            try:
                number = _check_number(name, getattr(self, name), 0.0, 1.0, low_open, high_open)
            except SpecError as exc:
                yield exc
            else:
                object.__setattr__(self, name, number)
        if not is_whole_number(self.output_stride) or self.output_stride not in OUTPUT_STRIDES:
            options = ", ".join(str(o) for o in OUTPUT_STRIDES)
            yield SpecError(
                "output_stride", f"must be one of {options}, got {quote_value(self.output_stride)}"
            )

        depths: tuple[int, ...] | None = None
        try:
            depths = _int_tuple("depths", self.depths)
            object.__setattr__(self, "depths", depths)
            if not 1 <= len(depths) <= MAX_STAGES:
                raise SpecError(
                    "depths",
                    f"needs 1 to {MAX_STAGES} stages, got {len(depths)}: give one depth per stage",
                )
        except SpecError as exc:
            depths = None
            yield exc
        for i, depth in enumerate(depths or ()):
            yield from _failures(
                _check_int, f"depths[{i}]", depth, 1, MAX_BLOCKS_PER_STAGE, ": every stage needs a block"
            )

        for name, high in (("widths", MAX_WIDTH), ("strides", MAX_STRIDE)):
            value = getattr(self, name)
            if value is None:
                continue
            try:
                values = _int_tuple(name, value)
                object.__setattr__(self, name, values)
                if depths is not None and len(values) != len(depths):
                    entries = counted(len(values), "entry", "entries")
                    raise SpecError(
                        name,
                        f"has {entries} for {counted(len(depths), 'stage')}: "
                        "give one per stage, or leave it out for the default",
                    )
            except SpecError as exc:
                yield exc
                continue
            for i, item in enumerate(values):
                yield from _failures(_check_int, f"{name}[{i}]", item, 1, high)

        yield from _failures(_check_int, "stem_width", self.stem_width, 1, MAX_WIDTH)
        yield from _failures(_check_int, "in_channels", self.in_channels, 1, MAX_IN_CHANNELS)
        yield from _failures(
            _check_int, "num_classes", self.num_classes, 0, MAX_CLASSES, " (0 means no classifier)"
        )
        if not isinstance(self.zero_init_residual, bool):
            yield SpecError(
                "zero_init_residual", f"must be true or false, got {quote_value(self.zero_init_residual)}"
            )
        yield from _failures(_check_int, "groups", self.groups, 1, MAX_WIDTH)
        yield from _failures(_check_int, "width_per_group", self.width_per_group, 1, MAX_WIDTH)

        if self.input_size is not None:
            try:
                size = _int_tuple("input_size", self.input_size)
                if len(size) != 2:
                    raise SpecError("input_size", f"must be [height, width], got {quote_value(list(size))}")
            except SpecError as exc:
                yield exc
            else:
                object.__setattr__(self, "input_size", size)
                for i, side in enumerate(size):
                    yield from _failures(_check_int, f"input_size[{i}]", side, 1, MAX_INPUT_SIDE)

    def _check_block_options(self) -> Iterator[SpecError]:
        kind = parts.BLOCKS[self.block]
        if not kind.bottleneck:
            bottlenecks = " or ".join(repr(k) for k, b in parts.BLOCKS.items() if b.bottleneck)
            if self.groups != 1:
                yield SpecError(
                    "groups",
                    f"the {self.block} block supports only groups 1, got {self.groups}: "
                    f"use block {bottlenecks} for grouped convolutions",
                )
            if self.width_per_group != 64:
                yield SpecError(
                    "width_per_group",
                    f"the {self.block} block supports only width_per_group 64, got "
                    f"{self.width_per_group}: use block {bottlenecks} for wide or ResNeXt blocks",
                )
            if self.stride_on != "3x3":
                yield SpecError(
                    "stride_on",
                    f"the {self.block} block has only 3x3 convs, so its stride is on a 3x3 conv: "
                    f"use block {bottlenecks} to stride on the 1x1 conv",
                )
            return
        for stage, width in enumerate(self.stage_widths):
            inner = self.inner_width(stage)
            if inner < 1:
                yield SpecError(
                    "width_per_group",
                    f"stage {stage + 1} of width {width} gets an inner width of 0 with "
                    f"width_per_group {self.width_per_group}: raise width_per_group to at "
                    f"least {math.ceil(64 / width)}",
                )
            if inner * EXPANSION[self.block] > MAX_WIDTH * 4:
                yield SpecError(
                    "groups",
                    f"stage {stage + 1} grows to an inner width of {inner}: lower groups or width_per_group",
                )

    def _check_part_options(self) -> Iterator[SpecError]:
        stem = parts.STEMS[self.stem]
        if self.stem_width < stem.min_width:
            yield SpecError(
                "stem_width",
                f"the {self.stem} stem needs a stem_width of at least {stem.min_width}, "
                f"got {self.stem_width}: "
                "its first conv has 3 x (stem_width // 4) channels",
            )
        if not stem.pools and self.stem_pool != "max":
            poolers = ", ".join(repr(k) for k, s in parts.STEMS.items() if s.pools)
            yield SpecError(
                "stem_pool",
                f"the {self.stem} stem has no pool, so stem_pool stays 'max' (unused): use stem {poolers}",
            )
        if not parts.ATTENTIONS[self.attention].uses_ratio and self.se_ratio != DEFAULT_SE_RATIO:
            yield SpecError(
                "se_ratio",
                f"applies only to attention 'se' (attention is {self.attention!r}): leave it at 1/16",
            )

    def _check_output_stride(self) -> Iterator[SpecError]:
        if self.output_stride == 32:
            return
        natural = parts.stem_stride(self)
        for stride in self.stage_strides:
            natural *= stride
        if natural < 32:
            yield SpecError(
                "output_stride",
                f"dilating to output stride {self.output_stride} needs a network that reaches stride 32, "
                f"and this one reaches {natural}: use a strided stem and 4 stages of stride 2, "
                "or output_stride 32",
            )

    def _check_shortcuts(self) -> Iterator[SpecError]:
        if parts.SHORTCUTS[self.shortcut].can_shrink:
            return
        channels = self.stem_out_channels
        for stage, width in enumerate(self.stage_widths):
            out = width * self.expansion
            if out < channels:
                yield SpecError(
                    "shortcut",
                    f"a {self.shortcut} shortcut cannot shrink {channels} channels to {out} at "
                    f"stage {stage + 1}: use shortcut {_shrinking_shortcuts()} or widths that do not shrink",
                )
            channels = out

    # Derived facts

    @property
    def expansion(self) -> int:
        return EXPANSION[self.block]

    @property
    def stem_out_channels(self) -> int:
        """Channels the stem gives the first stage (a deep stem ends at twice ``stem_width``)."""
        return parts.stem_out_channels(self)

    @property
    def num_stages(self) -> int:
        return len(self.depths)

    @property
    def stage_widths(self) -> tuple[int, ...]:
        if self.widths is not None:
            return self.widths
        return tuple(64 * 2**i for i in range(len(self.depths)))

    @property
    def stage_strides(self) -> tuple[int, ...]:
        if self.strides is not None:
            return self.strides
        return tuple(1 if i == 0 else 2 for i in range(len(self.depths)))

    @property
    def input_shape(self) -> tuple[int, int, int]:
        if self.input_size is not None:
            height, width = self.input_size
        else:
            height = width = DEFAULT_INPUT_SIDE[self.stem]
        return (self.in_channels, height, width)

    def inner_width(self, stage: int) -> int:
        """Channels inside a block of ``stage`` (torchvision's ResNeXt / Wide formula)."""
        width = self.stage_widths[stage]
        if not parts.BLOCKS[self.block].bottleneck:
            return width
        return (width * self.width_per_group // 64) * self.groups

    def stage_out_channels(self, stage: int) -> int:
        return self.stage_widths[stage] * self.expansion

    def with_depths(self, depths: tuple[int, ...]) -> ArchSpec:
        """A copy with new ``depths``; explicit widths and strides follow the new stage
        count (extended by doubling the width with stride 2, or cut)."""
        count = len(depths)
        widths = self.widths
        if widths is not None and len(widths) != count:
            extra = tuple(widths[-1] * 2 ** (i + 1) for i in range(count - len(widths)))
            widths = (widths + extra)[:count] if count else widths
        strides = self.strides
        if strides is not None and len(strides) != count:
            strides = (strides + (2,) * count)[:count] if count else strides
        return replace(self, depths=tuple(depths), widths=widths, strides=strides)

    # Serialisation

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format_version": FORMAT_VERSION}
        for f in fields(self):
            value = getattr(self, f.name)
            data[f.name] = list(value) if isinstance(value, tuple) else value
        return data

    @classmethod
    def from_dict(cls, data: object) -> ArchSpec:
        if not isinstance(data, dict):
            raise SpecError("file", f"must hold a JSON object, got {type(data).__name__}")
        data = dict(data)
        version = data.pop("format_version", None)
        if version is None:
            raise SpecError("format_version", "is missing: this is not a resnet-explorer spec")
        if not is_whole_number(version) or version < 1:
            raise SpecError("format_version", f"must be a positive whole number, got {quote_value(version)}")
        if version > FORMAT_VERSION:
            raise SpecError(
                "format_version",
                f"{quote_value(version)} is newer than this resnet-explorer reads ({FORMAT_VERSION}): "
                "update resnet-explorer",
            )
        if not all(isinstance(key, str) for key in data):
            raise SpecError("file", "field names must be text")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(unknown[0], f"is not a spec field; known fields: {', '.join(sorted(known))}")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ArchSpec:
        try:
            data = parse_json(text)
        except JsonError as exc:
            raise SpecError("file", f"is not valid JSON ({exc})") from None
        return cls.from_dict(data)

    def save(self, path: str | Path) -> None:
        atomic_write_text(Path(path), self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> ArchSpec:
        try:
            data = parse_json_file(read_user_bytes(path))
        except OSError as exc:
            raise SpecError("file", f"cannot read {path}: {exc}") from None
        except JsonError as exc:
            raise SpecError("file", f"{exc}, {NOT_A_DOCUMENT} (in {path})") from None
        if not isinstance(data, dict):
            raise SpecError(
                "file", f"holds a JSON {json_type_name(data)}, not an object, {NOT_A_DOCUMENT} (in {path})"
            )
        try:
            return cls.from_dict(data)
        except SpecError as exc:
            raise SpecError(exc.field, f"{exc.reason} (in {path})") from None


def _shrinking_shortcuts() -> str:
    """The shortcut kinds that can shrink the channels, quoted for a message."""
    return " or ".join(repr(key) for key, kind in parts.SHORTCUTS.items() if kind.can_shrink)


def spec_problems(**values: Any) -> list[SpecError]:
    """Every problem of the spec that ``values`` (ArchSpec's keyword arguments) describe, one
    per field, the one ``ArchSpec(**values)`` raises first; none when it is valid. A field
    whose own value is wrong hides the problems it would have with others until it is fixed."""
    unchecked = object.__new__(ArchSpec)
    for field in fields(ArchSpec):
        object.__setattr__(unchecked, field.name, values.pop(field.name, field.default))
    if values:
        raise TypeError(f"not ArchSpec fields: {', '.join(sorted(values))}")
    return list(unchecked._problems())
