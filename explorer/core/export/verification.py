"""The check every export passes before its file is written: the exported network's
outputs against the built model's, at two batch sizes (so a batch axis that is not truly
dynamic fails)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from explorer.core.export.memory_need import VERIFY_BATCHES
from explorer.core.export.result import ExportVerificationError, Verification, short_figure
from explorer.core.spec import ArchSpec

# float32 kernels of two runtimes differ in summation order: a few units in the last place
# of the largest output, far below this.
RELATIVE_TOLERANCE = 1e-4
_INPUT_SEED = 0


def verify_outputs(
    spec: ArchSpec,
    reference: torch.nn.Module,
    candidate: Callable[[torch.Tensor], torch.Tensor],
    what: str,
    exact: bool = False,
) -> Verification:
    """Runs ``reference`` (in eval mode) and ``candidate`` on the same seeded inputs at each
    of ``VERIFY_BATCHES``; raises ``ExportVerificationError`` past the tolerance (0 if ``exact``)."""
    generator = torch.Generator().manual_seed(_INPUT_SEED)
    worst = 0.0
    tolerance = 0.0
    nonfinite = 0
    for batch in VERIFY_BATCHES:
        x = torch.randn((batch, *spec.input_shape), generator=generator)
        with torch.no_grad():
            expected = reference(x)
            got = candidate(x)
        if tuple(got.shape) != tuple(expected.shape):
            raise ExportVerificationError(
                f"the {what} gives outputs of shape {tuple(got.shape)} at batch {batch}, "
                f"the model {tuple(expected.shape)}"
            )
        # An untrained very deep network overflows (NaN, inf): the export must overflow alike.
        finite = torch.isfinite(expected)
        alike = (got == expected) | (torch.isnan(got) & torch.isnan(expected))
        if not bool((finite | alike).all()):
            raise ExportVerificationError(
                f"the {what} differs from the model where the model's outputs are not finite "
                f"at batch {batch}: the file was not written"
            )
        nonfinite += int((~finite).sum())
        expected, got = expected[finite], got[finite]
        scale = float(expected.abs().max()) if expected.numel() else 0.0
        if not exact:
            tolerance = max(tolerance, RELATIVE_TOLERANCE * max(1.0, scale))
        difference = float((got.double() - expected.double()).abs().max()) if got.numel() else 0.0
        if not difference <= tolerance:  # NaN fails too
            raise ExportVerificationError(
                f"the {what} differs from the model by {short_figure(difference)} at batch {batch} "
                f"(tolerance {short_figure(tolerance)}): the file was not written"
            )
        worst = max(worst, difference)
    return Verification(VERIFY_BATCHES, worst, tolerance, nonfinite)
