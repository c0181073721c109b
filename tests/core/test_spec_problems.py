"""Every problem of a spec at once: the first is what ArchSpec raises, and each field says its own."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.presets import preset
from explorer.core.spec import ArchSpec, SpecError, spec_problems

from .test_spec import _field_names, _json_values


def test_a_valid_spec_has_no_problems() -> None:
    assert (
        spec_problems(**{name: getattr(preset("resnet50"), name) for name in ArchSpec.__dataclass_fields__})
        == []
    )
    assert spec_problems() == []


def test_two_fields_that_do_not_go_with_the_others_are_both_named() -> None:
    shrinking = {"widths": (64, 8, 256, 512), "shortcut": "zero-pad"}
    assert [p.field for p in spec_problems(**shrinking)] == ["shortcut"]
    problems = spec_problems(**shrinking, stem="deep-tiered", stem_width=1)
    assert [p.field for p in problems] == ["stem_width", "shortcut"]
    assert "at stage 2" in problems[1].reason  # the shrink the person made, not one of the fix's making


def test_every_field_wrong_on_its_own_is_named() -> None:
    problems = spec_problems(depths=(0, 2, 2), stem_width=0, input_size=(32, 0), num_classes=-1)
    assert [p.field for p in problems] == ["depths[0]", "stem_width", "num_classes", "input_size[1]"]


@settings(max_examples=300, deadline=None)
@given(
    data=st.dictionaries(
        _field_names.filter(lambda name: name in ArchSpec.__dataclass_fields__), _json_values, max_size=6
    )
)
def test_the_first_problem_is_the_one_archspec_raises(data: dict) -> None:
    values = json.loads(json.dumps(data))
    problems = spec_problems(**values)
    try:
        ArchSpec(**values)
    except SpecError as exc:
        assert problems and (problems[0].field, str(problems[0])) == (exc.field, str(exc))
        assert len({p.field for p in problems}) == len(problems)  # one per field
    else:
        assert problems == []
