"""Writing an ONNX file: exported in eval mode with a dynamic batch axis, then checked by
``onnx.checker`` and run by onnxruntime beside the model before it is written."""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import math
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from explorer.core.analysis import analyze
from explorer.core.export.choices import MAX_OPSET, MIN_OPSET
from explorer.core.export.result import (
    INSTALL_EXPORT,
    ExportError,
    ExportResult,
    ExportVerificationError,
    MissingExportDependency,
    Progress,
)
from explorer.core.export.verification import verify_outputs
from explorer.core.export.weights import model_with_weights
from explorer.core.files import atomic_write_bytes
from explorer.core.spec import ArchSpec

INPUT_NAME = "input"
OUTPUT_NAME = "output"
# The batch of the traced example: 0 and 1 would make torch.export fix the axis.
EXAMPLE_BATCH = 2
MAX_BATCH = 65536


def onnx_modules() -> tuple[ModuleType, ModuleType]:
    """``onnx`` and ``onnxruntime``, or ``MissingExportDependency`` naming the install command."""
    try:
        onnx = importlib.import_module("onnx")
        runtime = importlib.import_module("onnxruntime")
        importlib.import_module("onnxscript")  # torch's ONNX exporter needs it
    except ImportError as exc:
        raise MissingExportDependency(
            f"ONNX export needs onnx, onnxruntime and onnxscript ({exc.name or exc} is missing): "
            f"{INSTALL_EXPORT}"
        ) from None
    return onnx, runtime


def check_opset(opset: int) -> None:
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ExportError(f"opset must be {MIN_OPSET} to {MAX_OPSET}, got {opset}")


def export_onnx(spec: ArchSpec, path: Path, weights: str, opset: int, progress: Progress) -> ExportResult:
    check_opset(opset)
    onnx, runtime = onnx_modules()
    model = model_with_weights(spec, weights)
    progress("exporting to ONNX")
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    example = torch.zeros((EXAMPLE_BATCH, *spec.input_shape))
    with tempfile.TemporaryDirectory() as folder:
        temp = Path(folder) / "model.onnx"
        with quiet():
            program = torch.onnx.export(
                model,
                (example,),
                dynamo=True,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_shapes=({0: batch},),
                opset_version=opset,
                verbose=False,
            )
            assert program is not None  # the dynamo exporter always returns its program
            program.save(str(temp))
        if any(item != temp for item in Path(folder).iterdir()):
            raise ExportVerificationError("the network is too large for one ONNX file (over 2 GB)")
        progress("checking the graph with onnx.checker")
        graph = onnx.load(str(temp))
        try:
            onnx.checker.check_model(graph, full_check=True)
        except Exception as exc:  # onnx raises its own ValidationError, or a shape inference error
            raise ExportVerificationError(f"onnx.checker rejects the exported graph: {exc}") from None
        progress("running the graph in onnxruntime beside the model")
        session = runtime.InferenceSession(str(temp), providers=["CPUExecutionProvider"])

        def run(x: torch.Tensor) -> torch.Tensor:
            return torch.from_numpy(session.run([OUTPUT_NAME], {INPUT_NAME: x.numpy()})[0])

        verification = verify_outputs(spec, model, run, "ONNX graph in onnxruntime")
        params, macs = graph_figures(onnx, graph)
        atomic_write_bytes(path, temp.read_bytes())
    totals = analyze(spec).totals
    return ExportResult(
        path,
        f"ONNX, opset {opset}",
        verification,
        totals.total_params,
        totals.macs,
        params,
        macs,
        "BatchNorm folded into the convolutions' weights and biases",
    )


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """torch's exporters print their progress, log what they skip (torchvision's operators)
    and warn about matters of their own: none of it concerns the user's network."""
    logger = logging.getLogger("torch")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def graph_figures(onnx: ModuleType, graph: Any) -> tuple[int, int]:
    """The graph's weights (every initializer value) and its MACs per sample: Conv, Gemm
    and MatMul nodes, from the shapes ``onnx.shape_inference`` gives their outputs."""
    inferred = onnx.shape_inference.infer_shapes(graph)
    sizes = {init.name: tuple(init.dims) for init in inferred.graph.initializer}
    params = sum(math.prod(dims) for dims in sizes.values())
    shapes: dict[str, tuple[int, ...]] = {}
    for info in [*inferred.graph.value_info, *inferred.graph.output]:
        dims = info.type.tensor_type.shape.dim
        # The batch axis is symbolic; per sample, the rest must be known.
        if all(d.HasField("dim_value") for d in dims[1:]):
            shapes[info.name] = tuple(d.dim_value for d in dims[1:])
    macs = 0
    for node in inferred.graph.node:
        if node.op_type not in ("Conv", "Gemm", "MatMul") or len(node.input) < 2:
            continue
        weight, out = sizes.get(node.input[1]), shapes.get(node.output[0])
        if weight is None or out is None:
            continue
        if node.op_type == "Conv":
            macs += math.prod(out) * math.prod(weight[1:])
        else:
            macs += math.prod(out) * (math.prod(weight) // out[-1])
    return params, macs
