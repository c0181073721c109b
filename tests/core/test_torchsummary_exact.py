"""Our torchsummary text equals what torchsummary prints for the built model, byte for byte."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from explorer.core.analysis import analyze
from explorer.core.build import build_model
from explorer.core.presets import PRESET_NAMES, preset
from explorer.core.render.table import format_torchsummary
from explorer.core.spec import ArchSpec
from tests.oracles import torchsummary_text
from tests.strategies import small_specs


# Full-size presets need a real forward pass at batch 2 through torchsummary; the
# heaviest ones (cifar/resnet1202, wide_resnet101_2) still take only seconds.
@pytest.mark.slow
@pytest.mark.parametrize("name", PRESET_NAMES)
def test_every_preset_matches_torchsummary(name: str) -> None:
    spec = preset(name)
    expected = torchsummary_text(build_model(spec), spec.input_shape)
    assert format_torchsummary(analyze(spec)) == expected


@pytest.mark.slow
@settings(max_examples=220, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=small_specs())
def test_generated_specs_match_torchsummary(spec: ArchSpec) -> None:
    expected = torchsummary_text(build_model(spec), spec.input_shape)
    assert format_torchsummary(analyze(spec)) == expected


def test_batch_size_is_printed_like_torchsummary() -> None:
    text = format_torchsummary(analyze(preset("resnet18")), batch_size=8)
    assert "[8, 64, 32, 32]" in text
    assert "Input size (MB): 0.09" in text
