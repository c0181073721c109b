"""The cross-check runs the real torchsummary and compares its text with ours."""

from __future__ import annotations

import pytest

from explorer.core import crosscheck
from explorer.core.analysis import analyze
from explorer.core.crosscheck import CrossCheck, CrossCheckError, cross_check
from explorer.core.presets import preset
from explorer.core.render.table import format_torchsummary
from explorer.core.spec import ArchSpec

SMALL = ArchSpec(depths=(1, 1), widths=(8, 16), stem_width=8, input_size=(16, 16), num_classes=3)


def test_torchsummary_agrees_with_our_text_for_a_real_model() -> None:
    check = cross_check(SMALL)
    assert check.agrees and check.first_difference is None
    assert check.theirs == format_torchsummary(analyze(SMALL))
    assert check.report().startswith("torchsummary agrees")


def test_a_difference_names_its_first_line_with_both_versions() -> None:
    ours = format_torchsummary(analyze(SMALL))
    theirs = format_torchsummary(analyze(SMALL), batch_size=8)
    check = CrossCheck(ours, theirs)
    number = check.first_difference
    assert number is not None and not check.agrees
    assert ours.splitlines()[: number - 1] == theirs.splitlines()[: number - 1]
    assert ours.splitlines()[number - 1] != theirs.splitlines()[number - 1]
    report = check.report()
    assert f"differs at line {number}" in report
    assert repr(ours.splitlines()[number - 1]) in report and repr(theirs.splitlines()[number - 1]) in report


def test_a_text_that_stops_early_differs_after_its_last_line() -> None:
    ours = format_torchsummary(analyze(SMALL))
    cut = "\n".join(ours.splitlines()[:5]) + "\n"
    check = CrossCheck(ours, cut)
    assert check.first_difference == 6
    assert "the text ends before it" in check.report()


def test_a_network_too_large_for_free_memory_is_refused_before_it_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(crosscheck, "format_torchsummary", lambda _analysis: pytest.fail("ran"))
    with pytest.raises(CrossCheckError, match="needs about"):
        cross_check(preset("torchvision/resnet152"), free_bytes=1_000_000)
