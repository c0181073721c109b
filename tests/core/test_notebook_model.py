"""The notebook's own model: its torchsummary text and its weights match ours."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings

from explorer.core.analysis import analyze
from explorer.core.build import build_model
from explorer.core.presets import preset
from explorer.core.render.table import format_torchsummary
from explorer.core.spec import ArchSpec
from tests.conftest import GOLDEN, SHARED
from tests.oracles import notebook_namespace, torchsummary_text
from tests.strategies import notebook_specs

NOTEBOOK = SHARED / "notebook" / "000_9b0507a8fd8cb05e.txt"


def test_resnet18_matches_the_notebooks_golden_output() -> None:
    golden = (GOLDEN / "notebook-torchsummary-resnet18-3x32x32.txt").read_text()
    assert format_torchsummary(analyze(preset("resnet18"))) == golden


@cache
def _notebook() -> dict[str, object]:
    if not NOTEBOOK.is_file():
        pytest.skip(f"the notebook is not at {NOTEBOOK}")
    return notebook_namespace(NOTEBOOK)


def _notebook_model(spec: ArchSpec):  # type: ignore[no-untyped-def]
    ns = _notebook()
    block = ns["ResidualBlock"] if spec.block == "basic" else ns["BottleneckBlock"]
    return ns["ResNet"](block, list(spec.depths), in_channel=spec.in_channels)  # type: ignore[operator]


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"])
def test_notebook_family_equals_the_notebooks_torchsummary(name: str) -> None:
    spec = preset(name)
    expected = torchsummary_text(_notebook_model(spec), spec.input_shape)
    assert format_torchsummary(analyze(spec)) == expected


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=notebook_specs())
def test_any_notebook_expressible_spec_equals_the_notebooks_torchsummary(spec: ArchSpec) -> None:
    expected = torchsummary_text(_notebook_model(spec), spec.input_shape)
    assert format_torchsummary(analyze(spec)) == expected


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_notebook_state_dict_loads_strictly(name: str) -> None:
    notebook_model = _notebook()[name]()  # type: ignore[operator]
    ours = build_model(preset(name))
    ours.load_state_dict(notebook_model.state_dict(), strict=True)


@pytest.mark.slow
def test_notebook_resnet50_at_224_equals_the_notebooks_torchsummary() -> None:
    spec = replace(preset("resnet50"), input_size=(224, 224))
    expected = torchsummary_text(_notebook_model(spec), spec.input_shape)
    assert "Total params: 23,500,352" in expected
    assert format_torchsummary(analyze(spec)) == expected
