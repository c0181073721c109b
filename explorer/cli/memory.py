"""resnet-explorer memory: the memory of one training step, predicted from the architecture."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from explorer.cli.errors import CliError
from explorer.cli.parser import whole_number
from explorer.cli.specargs import add_spec_arguments, spec_from_args
from explorer.core.presets import preset_name_of
from explorer.core.render.cells import aligned_columns
from explorer.core.training_memory import (
    COUNTED,
    DEVICE_TYPES,
    NOT_COUNTED,
    OPTIMIZERS,
    PRECISIONS,
    TrainingMemory,
    TrainingMemoryError,
    largest_batch_that_fits,
    parse_memory_size,
    predict_training_memory,
)
from explorer.core.units import format_bytes


def register(subparsers: Any) -> None:
    memory = subparsers.add_parser(
        "memory",
        help="the memory of a training step: saved activations per stage, parameters, gradients, "
        "optimizer state, and the largest batch that fits",
        description="Predict, without building the model, the memory one training step takes: what "
        "autograd saves for backward per stage, the parameters, their gradients and the optimizer's "
        "state, in float32 or autocast mixed precision; with --fit, the largest batch that fits.",
    )
    add_spec_arguments(memory)
    group = memory.add_argument_group("training step")
    group.add_argument(
        "--batch", type=whole_number, default=1, metavar="N", help="images per step (default 1)"
    )
    group.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default="sgd-momentum",
        help="sgd keeps no state, sgd-momentum one copy of the parameters, adamw two (default sgd-momentum)",
    )
    group.add_argument(
        "--dtype",
        choices=PRECISIONS,
        default="float32",
        help="float16/bfloat16: autocast mixed precision (default float32)",
    )
    group.add_argument(
        "--device-type",
        choices=DEVICE_TYPES,
        default="cuda",
        help="whose autocast rules mixed precision follows (default cuda)",
    )
    group.add_argument(
        "--fit",
        metavar="SIZE",
        help="also print the largest batch that fits in SIZE, e.g. 24GiB, 512MiB, 8GB or 1.5e9 (bytes)",
    )
    memory.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    memory.set_defaults(handler=run_memory)


def run_memory(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    try:
        fit = parse_memory_size(args.fit) if args.fit is not None else None
        prediction = predict_training_memory(spec, args.batch, args.optimizer, args.dtype, args.device_type)
        max_batch = (
            largest_batch_that_fits(spec, fit, args.optimizer, args.dtype, args.device_type)
            if fit is not None
            else None
        )
    except TrainingMemoryError as exc:
        flag = "--fit" if "memory size" in str(exc) else "--batch"
        raise CliError(f"{flag}: {exc}") from None
    name = preset_name_of(spec)
    if args.json:
        print(json.dumps(memory_json(prediction, name, fit, max_batch), indent=2))
    else:
        print(memory_text(prediction, name or "the spec", fit, max_batch))
    return 0


def memory_json(
    memory: TrainingMemory, name: str | None, fit: int | None, max_batch: int | None
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "preset": name,
        "spec": memory.spec.to_dict(),
        "batch": memory.batch,
        "optimizer": memory.optimizer,
        "precision": memory.precision,
        "device_type": memory.device_type,
        "param_bytes": memory.param_bytes,
        "buffer_bytes": memory.buffer_bytes,
        "grad_bytes": memory.grad_bytes,
        "optimizer_state_bytes": memory.optimizer_state_bytes,
        "saved_activation_bytes": memory.saved_activation_bytes,
        "loss_saved_bytes": memory.loss_saved_bytes,
        "weight_copy_bytes": memory.weight_copy_bytes,
        "input_bytes": memory.input_bytes,
        "backward_peak_bytes": memory.backward_peak_bytes,
        "total_bytes": memory.total_bytes,
        "stages": [asdict(group) for group in memory.stages],
        "blocks": [asdict(group) for group in memory.blocks],
        "counted": COUNTED,
        "not_counted": NOT_COUNTED,
    }
    if fit is not None:
        result["fit_bytes"] = fit
        result["max_batch"] = max_batch
    return result


def _totals(memory: TrainingMemory) -> list[tuple[str, int]]:
    lines = [
        ("parameters", memory.param_bytes),
        ("buffers (BN statistics, filters)", memory.buffer_bytes),
        ("gradients", memory.grad_bytes),
        (f"optimizer state ({memory.optimizer})", memory.optimizer_state_bytes),
        ("saved activations", memory.saved_activation_bytes),
    ]
    if memory.weight_copy_bytes:
        lines.append((f"{memory.precision} weight copies", memory.weight_copy_bytes))
    if memory.input_bytes:
        lines.append(("float32 input batch", memory.input_bytes))
    lines.append(("backward peak (estimate)", memory.backward_peak_bytes))
    return lines


def memory_text(memory: TrainingMemory, name: str, fit: int | None, max_batch: int | None) -> str:
    mixed = "" if memory.precision == "float32" else f" (autocast, {memory.device_type} rules)"
    out = [
        f"Training step of {name}: batch {memory.batch}, {memory.optimizer}, {memory.precision}{mixed}",
        "",
        "Saved activations per stage",
    ]
    stages = []
    for group in memory.stages:
        share = group.saved_bytes / memory.saved_activation_bytes if memory.saved_activation_bytes else 0.0
        stages.append((group.name, format_bytes(group.saved_bytes), f"{share:.1%}"))
    out += [f"  {line}" for line in aligned_columns(stages, right={1, 2})]
    out += ["", "Totals"]
    totals = [
        (label, format_bytes(value)) for label, value in [*_totals(memory), ("total", memory.total_bytes)]
    ]
    out += [f"  {line}" for line in aligned_columns(totals, right={1})]
    out += ["", COUNTED, NOT_COUNTED]
    if fit is not None:
        fits = f"{max_batch}" if max_batch else "none (even batch 1 needs more)"
        out += ["", f"Largest batch that fits in {format_bytes(fit)}: {fits}"]
    return "\n".join(out)
