"""Counted nouns agree with their number, wherever the app counts in words."""

from __future__ import annotations

import pytest

from explorer.core.compare import Comparison, ComparisonError
from explorer.core.presets import preset
from explorer.core.spec import ArchSpec, SpecError
from explorer.core.wording import counted


def test_counted_agrees_with_its_number() -> None:
    assert counted(1, "stage") == "1 stage"
    assert counted(0, "stage") == "0 stages"
    assert counted(1024, "sample") == "1,024 samples"
    assert counted(1, "entry", "entries") == "1 entry"
    assert counted(3, "entry", "entries") == "3 entries"


def test_a_one_stage_network_is_counted_in_the_singular() -> None:
    with pytest.raises(SpecError) as caught:
        ArchSpec(depths=(2,), widths=(16, 32))
    assert "1 stages" not in str(caught.value) and "1 stage" in str(caught.value)


def test_a_one_variant_comparison_is_counted_in_the_singular() -> None:
    with pytest.raises(ComparisonError) as caught:
        Comparison().add("only", preset("resnet18")).with_baseline(3)
    assert "1 variants" not in str(caught.value) and "1 variant" in str(caught.value)
