"""Independent measurements of a built model: torchsummary's text, forward hooks, FlopCounterMode."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import torch
import torchsummary
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def torchsummary_text(model: nn.Module, input_shape: tuple[int, ...]) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        torchsummary.summary(model, tuple(input_shape), device="cpu")
    return buffer.getvalue()


def hooked_rows(
    model: nn.Module, input_shape: tuple[int, ...]
) -> list[tuple[str, str, tuple[int, ...], int]]:
    """(module path, class name, per-sample output shape, own params) for every module call."""
    names = {module: name for name, module in model.named_modules()}
    calls: list[tuple[str, str, tuple[int, ...], int]] = []

    def hook(module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        own = sum(p.numel() for p in module.parameters(recurse=False))
        calls.append((names[module], type(module).__name__, tuple(output.shape[1:]), own))

    handles = [
        module.register_forward_hook(hook)
        for module in model.modules()
        if module is not model and not isinstance(module, (nn.Sequential, nn.ModuleList))
    ]
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=next(model.parameters()).device))
    finally:
        for handle in handles:
            handle.remove()
    return calls


def flops_by_module(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, int]:
    """FLOPs of each leaf module at batch 1 ('' holds the whole model's total)."""
    counter = FlopCounterMode(display=False)
    model.eval()
    with counter, torch.no_grad():
        model(torch.zeros(1, *input_shape, device=next(model.parameters()).device))
    counts = counter.get_flop_counts()
    result = {"": sum(counts.get("Global", {}).values())}
    for key, per_op in counts.items():
        if key == "Global":
            continue
        # FlopCounterMode names modules "ResNet.layer1.0.conv1"; drop the root's class name.
        path = key.split(".", 1)[1] if "." in key else ""
        result[path] = sum(per_op.values())
    return result


def notebook_namespace(notebook: Path) -> dict[str, object]:
    """Runs the code cells of the notebook that define its model (imports, blocks, ResNet, factories)."""
    text = notebook.read_text(encoding="utf-8")
    cells = re.split(r"^In \[\d+\]:\s*$", text, flags=re.MULTILINE)[1:]
    # A module name of their own, as in the notebook's __main__: torchsummary names rows by it.
    namespace: dict[str, object] = {"__name__": "notebook"}
    for cell in cells:
        code_lines = []
        for line in cell.splitlines():
            if line.startswith(("#####", "![", "----")):
                break
            code_lines.append(line)
        code = "\n".join(code_lines)
        if "summary(" in code or "optim" in code:
            continue
        exec(compile(code, str(notebook), "exec"), namespace)
    return namespace
