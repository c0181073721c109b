"""Checking our torchsummary text against the real torchsummary run on the built model.

The layer table is computed from the spec without running a model; this check builds the
model for real (a fresh one, on the CPU, in eval mode), lets ``torchsummary.summary`` print its
table, and compares the two texts byte for byte.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

from explorer.core.analysis import analyze
from explorer.core.memory import estimate_memory
from explorer.core.render.table import format_torchsummary
from explorer.core.spec import ArchSpec
from explorer.core.units import format_bytes

# torchsummary times a batch of two, whatever batch size it prints.
TORCHSUMMARY_BATCH = 2


class CrossCheckError(RuntimeError):
    """The check could not run (not a difference between the two texts)."""


@dataclass(frozen=True, slots=True)
class CrossCheck:
    """Our text, torchsummary's, and the first line where they part (1-based), if any."""

    ours: str
    theirs: str

    @property
    def agrees(self) -> bool:
        return self.ours == self.theirs

    @property
    def first_difference(self) -> int | None:
        ours, theirs = self.ours.splitlines(), self.theirs.splitlines()
        for number, (mine, other) in enumerate(zip(ours, theirs, strict=False), start=1):
            if mine != other:
                return number
        if len(ours) != len(theirs) or self.ours != self.theirs:
            return min(len(ours), len(theirs)) + 1
        return None

    def report(self) -> str:
        """One line when the texts agree; otherwise the first differing line of each."""
        rows = len(self.ours.splitlines())
        number = self.first_difference
        if number is None:
            return f"torchsummary agrees: its table equals ours, byte for byte ({rows} lines)"
        mine = _line(self.ours, number)
        other = _line(self.theirs, number)
        return f"torchsummary differs at line {number}:\n  ours:         {mine}\n  torchsummary: {other}"


def _line(text: str, number: int) -> str:
    lines = text.splitlines()
    return repr(lines[number - 1]) if number <= len(lines) else "(no such line: the text ends before it)"


def cross_check(spec: ArchSpec, free_bytes: int | None = None) -> CrossCheck:
    """Run torchsummary on a fresh CPU model of ``spec`` and compare its text with ours.

    Nothing shared is touched: the model is built here and dropped afterwards. ``free_bytes``
    (the CPU's free memory by default) guards against a spec too large to run.
    Raises ``CrossCheckError`` when the check cannot run.
    """
    from explorer.core.devices import free_memory

    estimate = estimate_memory(spec, TORCHSUMMARY_BATCH).total_bytes
    free = free_memory("cpu") if free_bytes is None else free_bytes
    if free is not None and estimate > free:
        raise CrossCheckError(
            f"running this network needs about {format_bytes(estimate)} but the CPU has "
            f"{format_bytes(free)} free; check a smaller input or fewer blocks"
        )
    try:
        import torch
        import torchsummary
    except ImportError as exc:
        raise CrossCheckError(f"torchsummary is not installed ({exc}): pip install torchsummary") from None

    from explorer.core.build import build_model

    ours = format_torchsummary(analyze(spec))
    model = build_model(spec, "cpu").eval()
    printed = io.StringIO()
    try:
        with torch.no_grad(), contextlib.redirect_stdout(printed):
            torchsummary.summary(model, tuple(spec.input_shape), device="cpu")
    except (RuntimeError, MemoryError) as exc:
        raise CrossCheckError(f"torchsummary could not run the model: {exc}") from None
    finally:
        del model
    return CrossCheck(ours, printed.getvalue())
