"""ArchSpec validation, defaults and JSON files."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.presets import PRESET_NAMES, preset
from explorer.core.spec import FORMAT_VERSION, ArchSpec, SpecError, field_label
from tests.strategies import small_specs


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"depths": (3, 0, 2)}, "depths[1]", ">= 1"),
        ({"depths": (2, -1)}, "depths[1]", ">= 1"),
        ({"depths": ()}, "depths", "1 to 6 stages"),
        ({"depths": (1,) * 7}, "depths", "got 7"),
        ({"depths": (1, 1), "widths": (64,)}, "widths", "one per stage"),
        ({"widths": (64, 0, 256, 512)}, "widths[1]", ">= 1"),
        ({"strides": (1, 2, 2, 9)}, "strides[3]", "<= 4"),
        ({"block": "resnext"}, "block", "'basic', 'bottleneck'"),
        ({"stem": "vgg"}, "stem", "'cifar', 'imagenet'"),
        ({"shortcut": "dense"}, "shortcut", "'projection', 'zero-pad'"),
        ({"groups": 32}, "groups", "use block 'bottleneck'"),
        ({"width_per_group": 4}, "width_per_group", "use block 'bottleneck'"),
        (
            {"block": "bottleneck", "widths": (1, 2, 4, 8), "width_per_group": 16},
            "width_per_group",
            "at least 64",
        ),
        ({"input_size": (0, 32)}, "input_size[0]", ">= 1"),
        ({"input_size": (32,)}, "input_size", "[height, width]"),
        ({"in_channels": 0}, "in_channels", ">= 1"),
        ({"num_classes": -3}, "num_classes", "0 means no classifier"),
        ({"depths": (2, 2.5)}, "depths[1]", "whole number"),
        ({"depths": "2,2"}, "depths", "list of whole numbers"),
        ({"stem_width": True}, "stem_width", "whole number"),
        ({"zero_init_residual": "yes"}, "zero_init_residual", "true or false"),
        (
            {"shortcut": "zero-pad", "widths": (64, 32, 128, 256)},
            "shortcut",
            "cannot shrink 64 channels to 32",
        ),
    ],
)
def test_invalid_specs_name_the_field(changes: dict, field: str, words: str) -> None:
    with pytest.raises(SpecError) as info:
        ArchSpec(**changes)
    assert info.value.field == field
    assert words in str(info.value)
    assert str(info.value).startswith(field_label(field) + ": ")


def test_defaults_follow_the_stage_count_and_the_stem() -> None:
    spec = ArchSpec(depths=(1, 1, 1, 1, 1, 1))
    assert spec.stage_widths == (64, 128, 256, 512, 1024, 2048)
    assert spec.stage_strides == (1, 2, 2, 2, 2, 2)
    assert spec.input_shape == (3, 32, 32)
    assert replace(spec, stem="imagenet", in_channels=1).input_shape == (1, 224, 224)


def test_with_depths_extends_and_cuts_explicit_widths() -> None:
    cifar = preset("cifar/resnet20")
    assert cifar.with_depths((1, 1, 1, 1)).stage_widths == (16, 32, 64, 128)
    assert cifar.with_depths((1, 1)).stage_widths == (16, 32)
    assert cifar.with_depths((1, 1, 1, 1)).stage_strides == (1, 2, 2, 2)


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_presets_round_trip_through_json(name: str, tmp_path: Path) -> None:
    spec = preset(name)
    path = tmp_path / "spec.json"
    spec.save(path)
    assert json.loads(path.read_text())["format_version"] == FORMAT_VERSION
    assert ArchSpec.load(path) == spec


@settings(max_examples=100, deadline=None)
@given(spec=small_specs(max_stages=6))
def test_generated_specs_round_trip_through_json(spec: ArchSpec) -> None:
    assert ArchSpec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("{not json", "file", "not valid JSON"),
        ("[1, 2]", "file", "not an object"),
        ('{"block": "basic"}', "format_version", "missing"),
        ('{"format_version": 99, "block": "basic"}', "format_version", "update resnet-explorer"),
        ('{"format_version": "1"}', "format_version", "positive whole number"),
        ('{"format_version": 1, "colour": "red"}', "colour", "not a spec field"),
        ('{"format_version": 1, "depths": [3, 0]}', "depths[1]", ">= 1"),
    ],
)
def test_bad_files_are_clear_errors(text: str, field: str, words: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        ArchSpec.load(path)
    assert info.value.field == field
    assert words in str(info.value)
    assert str(path) in str(info.value)


# The first bytes of a PNG image: a picture renamed .json.
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "is empty, so it is not a spec or comparison"),
        (b" \n\t\n", "is empty (white space only), so it is not a spec or comparison"),
        (PNG_BYTES, "is not a text file (it is not UTF-8), so it is not a spec or comparison"),
        (b"{}\x00", "is not a text file (it holds NUL bytes)"),
        (b"model: resnet50\n", "is text, not JSON, so it is not a spec or comparison"),
        (b'{"format_version": 1,', "is not valid JSON (Expecting property name"),
        (b"[1, 2]", "holds a JSON list, not an object, so it is not a spec or comparison"),
        (b'"resnet18"', "holds a JSON string, not an object"),
    ],
)
def test_a_file_that_holds_no_spec_says_what_it_is(content: bytes, words: str, tmp_path: Path) -> None:
    path = tmp_path / "opened.json"
    path.write_bytes(content)
    with pytest.raises(SpecError) as info:
        ArchSpec.load(path)
    assert info.value.field == "file"
    assert words in str(info.value) and str(path) in str(info.value)
    assert "codec" not in str(info.value) and "char 0" not in str(info.value)


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read"):
        ArchSpec.load(tmp_path / "missing.json")


def test_save_replaces_the_file_atomically(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    ArchSpec().save(path)
    preset("resnet50").save(path)
    assert ArchSpec.load(path) == preset("resnet50")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.json"]


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10_000) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=7) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_field_names = st.sampled_from(
    [
        "block",
        "depths",
        "widths",
        "strides",
        "stem",
        "stem_width",
        "in_channels",
        "num_classes",
        "zero_init_residual",
        "groups",
        "width_per_group",
        "shortcut",
        "input_size",
        "format_version",
        "other",
    ]
)


@settings(max_examples=400, deadline=None)
@given(data=st.dictionaries(_field_names, _json_values, max_size=8))
def test_no_input_fails_with_anything_but_spec_error(data: dict) -> None:
    document = {"format_version": 1, **data}
    try:
        spec = ArchSpec.from_json(json.dumps(document))
    except SpecError as exc:
        assert exc.field and exc.reason
    else:
        assert ArchSpec.from_json(spec.to_json()) == spec


def test_saved_files_get_the_usual_mode(tmp_path: Path) -> None:
    import os
    import stat

    path = tmp_path / "spec.json"
    ArchSpec().save(path)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def _spec_text(value_text: str, field: str = "depths") -> str:
    return f'{{"format_version": 1, "{field}": {value_text}}}'


@pytest.mark.parametrize(
    "text",
    [
        _spec_text("1" * 5000),
        _spec_text("-" + "9" * 4301),
        _spec_text("[" + "7" * 10_000 + "]"),
        '{"format_version": ' + "2" * 5000 + "}",
        _spec_text("[" * 1000 + "]" * 1000),
        _spec_text("[" * 100_000 + "]" * 100_000),
        _spec_text('{"a": ' * 5000 + "1" + "}" * 5000, "block"),
        _spec_text("[NaN]"),
        _spec_text("[1e999]"),
    ],
    ids=["int", "negative", "in-list", "version", "nested-1000", "nested-100000", "objects", "nan", "inf"],
)
def test_huge_numbers_and_deep_nesting_are_spec_errors(text: str) -> None:
    with pytest.raises(SpecError) as info:
        ArchSpec.from_json(text)
    assert len(str(info.value)) < 300


@pytest.mark.parametrize("depth", [900, 990, 3000])
def test_a_deeply_nested_value_is_quoted_without_recursing(depth: int) -> None:
    nested = "[" * depth + "]" * depth
    for field in ("depths", "block", "input_size", "zero_init_residual"):
        try:
            ArchSpec.from_json(_spec_text(f"[{nested}]" if field == "depths" else nested, field))
        except SpecError as exc:
            assert len(str(exc)) < 300
        else:
            raise AssertionError(f"a nested {field} was accepted")


def test_huge_python_integers_are_described_not_converted() -> None:
    huge = 10**5000
    with pytest.raises(SpecError, match=r"stage 1 width: must be <= 8192, got <an integer of about 5,001"):
        ArchSpec(widths=(huge, 64, 64, 64))
    for data in ({"format_version": huge}, {"format_version": -huge}, {"format_version": 1, "stem": huge}):
        with pytest.raises(SpecError, match="an integer of about"):
            ArchSpec.from_dict(data)


def test_a_huge_value_is_cut_in_the_message() -> None:
    with pytest.raises(SpecError) as info:
        ArchSpec.from_json(json.dumps({"format_version": 1, "block": "x" * 10_000_000}))
    assert info.value.field == "block"
    assert len(str(info.value)) < 200
    name = "n" * 100_000
    with pytest.raises(SpecError) as unknown:
        ArchSpec.from_json(json.dumps({"format_version": 1, name: 1}))
    assert unknown.value.field == name and len(str(unknown.value)) < 400


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"depths": (2, 2, 99999)}, "depths[2]", "stage 3 depth: must be <= 512, got 99999"),
        ({"widths": (64, 0, 256, 512)}, "widths[1]", "stage 2 width: must be >= 1, got 0"),
        ({"strides": (1, 2, 2, 9)}, "strides[3]", "stage 4 stride: must be <= 4, got 9"),
        ({"input_size": (32, 0)}, "input_size[1]", "input width: must be >= 1, got 0"),
        ({"num_classes": 10**6}, "num_classes", "num_classes: must be <= 100000, got 1000000"),
    ],
)
def test_messages_name_stages_as_the_app_does(changes: dict, field: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        ArchSpec(**changes)
    assert info.value.field == field
    assert str(info.value) == message


def test_a_hint_follows_only_the_bound_it_explains() -> None:
    with pytest.raises(SpecError) as too_small:
        ArchSpec(depths=(2, 0))
    assert str(too_small.value) == "stage 2 depth: must be >= 1, got 0: every stage needs a block"
    with pytest.raises(SpecError) as no_classes:
        ArchSpec(num_classes=-1)
    assert "0 means no classifier" in str(no_classes.value)
