"""Checking the analysis against the real module, in a separate process.

``python -m explorer.gui.module_check`` reads one JSON request per line on stdin
(``{"id": N, "spec": {...}}``) and answers each with one JSON line on stdout. It
builds the model on the meta device (no memory, no weights), runs a forward pass
with hooks on every module, and compares the parameter count and every module's
output shape with ``analyze(spec)``. Importing torch takes seconds, which is why this
runs in its own process: the window never waits for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Any

from explorer.core.analysis import analyze
from explorer.core.spec import ArchSpec, SpecError


def check_module(spec: ArchSpec) -> dict[str, Any]:
    """Build ``spec`` on the meta device and compare it with its analysis."""
    import torch
    from torch import nn

    from explorer.core.build import build_model

    analysis = analyze(spec)
    # Eval mode: in training mode batch-norm refuses a batch of one whose feature map is 1x1
    # (one value per channel), which says nothing about the architecture being checked.
    model = build_model(spec, "meta").eval()
    names = {module: name for name, module in model.named_modules()}
    calls: list[tuple[str, str, tuple[int, ...]]] = []

    def record(module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        calls.append((names[module], type(module).__name__, tuple(output.shape[1:])))

    handles = [
        module.register_forward_hook(record)
        for module in model.modules()
        if module is not model and not isinstance(module, (nn.Sequential, nn.ModuleList))
    ]
    try:
        with torch.no_grad():
            model(torch.empty((1, *spec.input_shape), device="meta"))
    finally:
        for handle in handles:
            handle.remove()

    params = sum(p.numel() for p in model.parameters())
    expected = [(row.name, row.type, row.output_shape) for row in analysis.summary_rows]
    problems = []
    counted = analysis.totals.total_params
    if params != counted:
        problems.append(f"the built module has {params:,} parameters, the analysis counts {counted:,}")
    if len(calls) != len(expected):
        problems.append(f"the built module ran {len(calls)} modules, the analysis lists {len(expected)}")
    for got, want in zip(calls, expected, strict=False):
        if got != want:
            problems.append(
                f"module {got[0]} ({got[1]}) gave {_shape(got[2])}, the analysis expects "
                f"{want[0]} ({want[1]}) with {_shape(want[2])}"
            )
            break
    return {
        "ok": not problems,
        "params": params,
        "modules": len(calls),
        "problems": problems,
        "torch": torch.__version__,
    }


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def answer(request: dict[str, Any]) -> dict[str, Any]:
    reply: dict[str, Any] = {"id": request.get("id")}
    try:
        reply.update(check_module(ArchSpec.from_dict(request["spec"])))
    except SpecError as exc:
        reply["error"] = f"invalid spec: {exc}"
    except Exception as exc:  # any failure is reported to the window, never a traceback
        reply["error"] = f"{type(exc).__name__}: {exc}"
    return reply


# How much lower than the window this process runs: a check of a large network takes
# seconds of CPU, and on a machine with few cores the window and its analyses come first.
NICENESS = 10


def lower_priority() -> None:
    """Yield the CPU to the window whenever both want it (where the system allows it)."""
    # No os.nice on Windows; some systems do not permit it.
    with contextlib.suppress(AttributeError, OSError):
        os.nice(NICENESS)


def main() -> int:
    lower_priority()
    import torch  # before the first request, so the window learns early that torch works

    print(json.dumps({"ready": True, "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError as exc:
            print(json.dumps({"id": None, "error": f"bad request: {exc}"}), flush=True)
            continue
        print(json.dumps(answer(request)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
