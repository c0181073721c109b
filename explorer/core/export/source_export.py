"""Writing the standalone PyTorch source, verified by running it beside ``build_model``."""

from __future__ import annotations

import types
from pathlib import Path

from torch import nn

from explorer.core.analysis import analyze
from explorer.core.export.choices import WEIGHT_CHOICES
from explorer.core.export.pytorch_source import factory_name, pytorch_source
from explorer.core.export.result import ExportError, ExportResult, Progress
from explorer.core.export.verification import verify_outputs
from explorer.core.export.weights import model_with_weights, spec_for_weights
from explorer.core.files import atomic_write_text
from explorer.core.spec import ArchSpec


def load_source(source: str, name: str = "exported_model") -> types.ModuleType:
    """The generated source run as a module of its own."""
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def export_source(spec: ArchSpec, path: Path, weights: str, progress: Progress) -> ExportResult:
    if weights not in WEIGHT_CHOICES:
        raise ExportError(
            "a .py file holds the code, not the weights: export it with --weights random or zero-init "
            "and load the checkpoint with load_state_dict, or export to .onnx or .pt2"
        )
    spec = spec_for_weights(spec, weights)
    progress("generating the source")
    source = pytorch_source(spec)
    progress("running the generated module beside the model")
    reference = model_with_weights(spec, weights)
    generated: nn.Module = getattr(load_source(source), factory_name(spec))()
    generated.load_state_dict(reference.state_dict(), strict=True)
    generated.eval()
    verification = verify_outputs(spec, reference, generated, "generated module", exact=True)
    atomic_write_text(path, source)
    totals = analyze(spec).totals
    return ExportResult(path, "PyTorch source", verification, totals.total_params, totals.macs)
