"""``export_model``: one entry for every format, chosen by the file's extension.

Every format is verified before its file is written (atomically): a failed check raises
``ExportVerificationError`` and leaves no file behind."""

from __future__ import annotations

from pathlib import Path

from explorer.core.export.choices import DEFAULT_OPSET, export_format
from explorer.core.export.onnx_export import export_onnx
from explorer.core.export.result import ExportResult, Progress
from explorer.core.export.source_export import export_source
from explorer.core.export.torch_export import export_program
from explorer.core.spec import ArchSpec


def _silent(_message: str) -> None:
    pass


def export_model(
    spec: ArchSpec,
    path: Path,
    weights: str = "random",
    opset: int = DEFAULT_OPSET,
    progress: Progress = _silent,
) -> ExportResult:
    """Exports ``spec``'s network to ``path`` in the format its extension names."""
    suffix = export_format(path)
    if suffix == ".py":
        return export_source(spec, path, weights, progress)
    if suffix == ".onnx":
        return export_onnx(spec, path, weights, opset, progress)
    return export_program(spec, path, weights, progress)
