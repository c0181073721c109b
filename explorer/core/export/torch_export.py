"""Writing a torch.export program (.pt2): exported with a dynamic batch dimension, saved
with ``torch.export.save``, loaded back and run beside the model before it is written."""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from explorer.core.analysis import analyze
from explorer.core.export.onnx_export import EXAMPLE_BATCH, MAX_BATCH, quiet
from explorer.core.export.result import ExportResult, Progress
from explorer.core.export.verification import verify_outputs
from explorer.core.export.weights import model_with_weights
from explorer.core.files import atomic_write_bytes
from explorer.core.spec import ArchSpec


def export_program(spec: ArchSpec, path: Path, weights: str, progress: Progress) -> ExportResult:
    model = model_with_weights(spec, weights)
    progress("exporting with torch.export")
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    example = torch.zeros((EXAMPLE_BATCH, *spec.input_shape))
    with quiet():
        program = torch.export.export(model, (example,), dynamic_shapes=({0: batch},))
    with tempfile.TemporaryDirectory() as folder:
        temp = Path(folder) / "model.pt2"
        torch.export.save(program, temp)
        progress("loading the saved program and running it beside the model")
        loaded = torch.export.load(temp).module()
        verification = verify_outputs(spec, model, loaded, "reloaded program")
        params = sum(program.state_dict[name].numel() for name in program.graph_signature.parameters)
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            loaded(torch.zeros((1, *spec.input_shape)))
        atomic_write_bytes(path, temp.read_bytes())
    totals = analyze(spec).totals
    return ExportResult(
        path,
        "torch.export program",
        verification,
        totals.total_params,
        totals.macs,
        params,
        counter.get_total_flops() // 2,
    )
