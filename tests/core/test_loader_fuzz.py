"""Any JSON document gives a spec or a comparison, or the project's own error; and every
comparison a file gives works with everything the app does with one."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core.compare import Comparison, ComparisonError
from explorer.core.jsonable import parse_json
from explorer.core.presets import preset
from explorer.core.render.compare_text import COMPARISON_FORMATTERS
from explorer.core.spec import ArchSpec, SpecError
from tests.strategies import small_specs

# Documents are built as text, so that integers may have any number of digits (Python
# refuses to print one of more than 4,300) and nesting may go as deep as wanted.
_integers = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.integers(1, 6000).map(lambda n: "-" * (n % 2) + "9" * n),
)
_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "2.5e-400", "1.9"]),
)
_leaves = st.one_of(
    st.sampled_from(["null", "true", "false"]),
    _integers,
    _floats,
    st.text(max_size=10).map(json.dumps),
)
_deep = st.tuples(st.integers(1, 100_000), st.sampled_from(["[]", "{}"])).map(
    lambda d: "[" * d[0] + "]" * d[0] if d[1] == "[]" else '{"a":' * d[0] + "1" + "}" * d[0]
)
_keys = st.one_of(
    st.sampled_from(
        [
            "format_version",
            "kind",
            "baseline",
            "variants",
            "name",
            "spec",
            "bench",
            "block",
            "depths",
            "widths",
            "input_size",
            "batch_size",
            "median_ms",
        ]
    ),
    st.text(max_size=6),
).map(json.dumps)


def _containers(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(children, max_size=5).map(lambda items: "[" + ",".join(items) + "]"),
        st.lists(st.tuples(_keys, children), max_size=5).map(
            lambda pairs: "{" + ",".join(f"{key}:{value}" for key, value in pairs) + "}"
        ),
    )


_json_texts = st.recursive(_leaves | _deep, _containers, max_leaves=20)


@st.composite
def _spec_documents(draw: st.DrawFn) -> str:
    """A spec file with some of its fields replaced by any JSON."""
    fields = draw(small_specs()).to_dict()
    for key in draw(st.lists(st.sampled_from(sorted(fields)), max_size=3)):
        fields[key] = None
    text = json.dumps(fields)
    for key, value in fields.items():
        if value is None:
            text = text.replace(f'"{key}": null', f'"{key}": {draw(_json_texts)}', 1)
    return text


@st.composite
def _comparison_documents(draw: st.DrawFn) -> str:
    """A comparison file whose variants, figures and baseline may hold any JSON."""
    entries = []
    for _ in range(draw(st.integers(0, 3))):
        bench = draw(
            st.one_of(
                st.just("null"),
                _json_texts,
                st.fixed_dictionaries(
                    {
                        "device": st.sampled_from(['"cpu"', '"cuda:0"']) | _leaves,
                        "batch_size": _integers | _floats | _leaves,
                        "median_ms": _floats | _integers,
                        "iqr_ms": _floats | _integers,
                        "images_per_s": _floats | _integers,
                    }
                ).map(lambda figures: "{" + ",".join(f'"{k}":{v}' for k, v in figures.items()) + "}"),
            )
        )
        name = draw(
            st.one_of(st.sampled_from(['"a"', '"b"', '" "']), st.text(max_size=8).map(json.dumps), _leaves)
        )
        spec = draw(st.one_of(small_specs(max_stages=2).map(ArchSpec.to_json), _json_texts))
        entries.append(f'{{"name":{name},"spec":{spec},"bench":{bench}}}')
    baseline = draw(st.one_of(st.integers(-1, 3).map(str), _leaves))
    version = draw(st.sampled_from(["1", "1", "1", "0", "2", "true", '"1"']))
    return (
        f'{{"format_version":{version},"kind":"comparison","baseline":{baseline},'
        f'"variants":[{",".join(entries)}]}}'
    )


def _every_operation_works(comparison: Comparison, folder: Path) -> None:
    """What the app does with a comparison: edit it, render it, save it and load it back."""
    for formatter in COMPARISON_FORMATTERS.values():
        formatter(comparison)
    comparison.stage_series("params")
    path = folder / "again.json"
    comparison.save(path)
    assert Comparison.load(path) == comparison
    parse_json(path.read_text(encoding="utf-8"))  # strict JSON: no NaN written
    edited = comparison.add("added", preset("cifar/resnet20"))
    edited.with_baseline(len(edited.variants) - 1).table()
    for index in range(len(comparison.variants)):
        comparison.remove(index).table()
        comparison.with_baseline(index).table()
        comparison.duplicate(index).move(index, 0).table()
        comparison.rename(index, f"renamed {index}")


_fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_fuzz
@given(text=st.one_of(_json_texts, _spec_documents()))
def test_any_json_gives_a_spec_or_a_spec_error(text: str) -> None:
    try:
        spec = ArchSpec.from_json(text)
    except SpecError as exc:
        assert exc.field and exc.reason and len(str(exc)) < 1000
    else:
        assert ArchSpec.from_json(spec.to_json()) == spec


@_fuzz
@given(text=st.one_of(_json_texts, _comparison_documents()))
def test_any_json_gives_a_working_comparison_or_a_comparison_error(tmp_path_factory, text: str) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "cmp.json"
    path.write_text(text, encoding="utf-8")
    try:
        comparison = Comparison.load(path)
    except ComparisonError as exc:
        assert len(str(exc)) < 1000 + len(str(path))
    else:
        _every_operation_works(comparison, folder)


def test_the_strategies_reach_both_outcomes() -> None:
    """The fuzzing above means something only if its documents sometimes load."""
    loaded = refused = 0

    @settings(max_examples=60, deadline=None, database=None)
    @given(text=_comparison_documents())
    def count(text: str) -> None:
        nonlocal loaded, refused
        try:
            Comparison.from_dict(json.loads(text))
            loaded += 1
        except (ComparisonError, ValueError, RecursionError):
            refused += 1

    count()
    assert loaded and refused
