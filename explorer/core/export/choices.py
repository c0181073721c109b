"""The choices an export offers, without importing torch (the app's menus read them at start)."""

from __future__ import annotations

from pathlib import Path

from explorer.core.export.result import ExportError
from explorer.core.quoting import quote_value

FORMATS = {".py": "PyTorch source", ".onnx": "ONNX", ".pt2": "torch.export program"}
DEFAULT_OPSET = 18
MIN_OPSET = 18
MAX_OPSET = 23
RANDOM = "random"
ZERO_INIT = "zero-init"
WEIGHT_CHOICES = (RANDOM, ZERO_INIT)


def export_format(path: Path) -> str:
    """The extension that picks the format, or ``ExportError`` saying which ones exist."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(
            f"cannot tell the format of {quote_value(str(path))} from its extension: "
            "name it .py (PyTorch source), .onnx or .pt2 (torch.export)"
        )
    return suffix
