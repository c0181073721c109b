"""The spec flags come from ArchSpec's fields: every field has one, and flags round-trip every preset."""

from __future__ import annotations

from dataclasses import fields

import pytest

from explorer.cli import build_parser
from explorer.cli.specargs import INPUT_FIELDS, _kind, spec_flag_arguments, spec_flags, spec_from_args
from explorer.core.presets import PRESET_NAMES, preset
from explorer.core.spec import ArchSpec


def test_every_field_of_archspec_has_a_flag() -> None:
    covered = {flag.field for flag in spec_flags()} | set(INPUT_FIELDS)
    assert covered == {spec_field.name for spec_field in fields(ArchSpec)}


def test_a_field_of_a_type_the_command_line_cannot_read_is_reported() -> None:
    with pytest.raises(TypeError, match=r"ArchSpec\.ratio has no command-line form"):
        _kind("ratio", dict[str, float])


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_the_flags_of_a_preset_rebuild_it(name: str) -> None:
    spec = preset(name)
    parser, _ = build_parser()
    args = parser.parse_args(["summary", *spec_flag_arguments(spec)])
    assert spec_from_args(args) == spec


def test_a_spec_unlike_the_default_in_every_field_round_trips() -> None:
    spec = ArchSpec(
        block="bottleneck",
        depths=(1, 2, 1, 1),
        widths=(16, 32, 64, 128),
        strides=(2, 2, 2, 1),
        stem="imagenet",
        stem_width=32,
        in_channels=1,
        num_classes=7,
        zero_init_residual=True,
        groups=4,
        width_per_group=8,
        shortcut="zero-pad",
        input_size=(64, 96),
        stem_pool="conv",
        stride_on="1x1",
        attention="se",
        se_ratio=0.25,
        anti_alias="avgpool",
        drop_path=0.1,
        output_stride=16,
    )
    default = ArchSpec()
    assert all(getattr(spec, f.name) != getattr(default, f.name) for f in fields(ArchSpec))
    parser, _ = build_parser()
    args = parser.parse_args(["summary", *spec_flag_arguments(spec)])
    assert spec_from_args(args) == spec
