"""What an export reports: the file, its verification and the figures of both sides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from explorer.core.units import format_macs

Progress = Callable[[str], None]


class ExportVerificationError(RuntimeError):
    """The exported network does not compute what the spec's model computes."""


@dataclass(frozen=True)
class Verification:
    batches: tuple[int, ...]
    max_abs_difference: float
    tolerance: float
    nonfinite: int = 0
    """Outputs that are NaN or infinite in the model and alike in the export (not in the difference)."""

    def describe(self) -> str:
        batches = " and ".join(str(b) for b in self.batches)
        difference = short_figure(self.max_abs_difference)
        how = "bit for bit" if self.tolerance == 0.0 else f"tolerance {short_figure(self.tolerance)}"
        if self.nonfinite:
            how += f"; {self.nonfinite:,} outputs not finite in the model, and alike in the export"
        return f"verified: max abs difference {difference} at batch {batches} ({how})"


def short_figure(value: float) -> str:
    return "0" if value == 0.0 else f"{value:.1e}"


class ExportWriteError(RuntimeError):
    """The verified export could not be written where it was asked to go."""


class WeightsError(ValueError):
    """A checkpoint that cannot be read or does not fit the spec; the message says which keys."""


class ExportError(ValueError):
    """A user mistake in asking for an export (format, option): one line that says the fix."""


class MissingExportDependency(ExportError):
    """The format needs packages that are not installed; the message names the install command."""


INSTALL_EXPORT = "pip install 'resnet-explorer[export]'"


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    verification: Verification
    spec_params: int
    spec_macs: int
    graph_params: int | None = None
    graph_macs: int | None = None
    graph_note: str = ""
    """What the graph's figures count, where they differ from the spec's by design."""

    def lines(self) -> list[str]:
        spec = f"spec: {self.spec_params:,} parameters, {format_macs(self.spec_macs)}"
        lines = [f"wrote {self.path} ({self.format})", self.verification.describe(), spec]
        if self.graph_params is not None:
            graph = f"exported graph: {self.graph_params:,} parameters"
            if self.graph_macs is not None:
                graph += f", {format_macs(self.graph_macs)}"
            lines.append(graph + (f" ({self.graph_note})" if self.graph_note else ""))
        return lines
