"""The structural diff compares every field of a spec."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from explorer.core.diff import network_fields, spec_diff
from explorer.core.spec import ArchSpec

_BASE = ArchSpec(
    block="bottleneck", depths=(1, 1, 1, 1), stem="imagenet", attention="se", input_size=(224, 224)
)
# Another valid value for each field of _BASE. A new ArchSpec field needs one here, and
# the test below then shows whether the diff notices it.
_CHANGED = {
    "block": "basic",
    "depths": (1, 2, 1, 1),
    "widths": (64, 256, 256, 512),
    "strides": (1, 1, 2, 2),
    "stem": "deep",
    "stem_width": 32,
    "in_channels": 1,
    "num_classes": 10,
    "zero_init_residual": True,
    "groups": 2,
    "width_per_group": 32,
    "shortcut": "zero-pad",
    "input_size": (64, 48),
    "stem_pool": "conv",
    "stride_on": "1x1",
    "attention": "eca",
    "se_ratio": 0.25,
    "anti_alias": "blur",
    "drop_path": 0.1,
    "output_stride": 16,
}


@pytest.mark.parametrize("name", [f.name for f in fields(ArchSpec)])
def test_a_change_to_any_spec_field_shows_in_the_diff(name: str) -> None:
    assert name in _CHANGED, f"give the new field {name!r} a changed value in _CHANGED"
    changed = replace(_BASE, **{name: _CHANGED[name]})
    diff = spec_diff(_BASE, changed)
    assert not diff.identical
    assert diff.describe() != ["the two architectures are identical"]


def test_defaults_left_out_equal_the_same_values_given() -> None:
    explicit = replace(_BASE, widths=_BASE.stage_widths, strides=_BASE.stage_strides, input_size=None)
    assert spec_diff(_BASE, explicit).identical


def test_network_fields_follow_the_spec() -> None:
    names = set(network_fields())
    assert {"stem", "num_classes", "zero_init_residual", "input_shape"} <= names
    assert not names & {"depths", "widths", "strides", "block", "input_size"}
