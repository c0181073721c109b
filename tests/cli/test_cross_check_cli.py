"""resnet-explorer summary --cross-check: the real torchsummary against our text."""

from __future__ import annotations

import pytest

from explorer.cli import main
from explorer.core import crosscheck
from explorer.core.render.table import format_torchsummary

TINY = ["--depths", "1,1", "--widths", "8,16", "--stem-width", "8", "--input", "3x16x16"]


def test_agreement_is_one_line_and_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", *TINY, "--cross-check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("torchsummary agrees") and out.count("\n") == 1


def test_a_difference_shows_the_first_differing_line_and_exits_1(
    in_thread_worker: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Our text for another batch size: the same table with other shapes, as a wrong renderer would print.
    monkeypatch.setattr(crosscheck, "format_torchsummary", lambda analysis: format_torchsummary(analysis, 8))
    assert main(["summary", *TINY, "--cross-check"]) == 1
    out = capsys.readouterr().out
    assert "torchsummary differs at line" in out
    assert "[8, 8, 16, 16]" in out and "[-1, 8, 16, 16]" in out
