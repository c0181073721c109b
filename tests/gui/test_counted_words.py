"""The window counts in words that agree with the number: "1 stage", not "1 stages"."""

from __future__ import annotations

from explorer.core.spec import ArchSpec

from .conftest import open_window, wait_current


def test_a_one_stage_one_block_network_is_counted_in_the_singular(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    spec = ArchSpec(depths=(1,), num_classes=1)
    window = open_window(qtbot, settings, spec)
    wait_current(qtbot, window)
    depth = window.totals.cards["depth"]
    assert "1 stage, 1 block\n" in depth.toolTip()
    assert "a classifier of 1 class)" in window.totals.cards["output"].toolTip()
