"""The GPU check: resnet50 (torchvision preset) at batch 256, float16, channels_last.

    .venv/bin/python benchmarks/gpu_check.py                  # on a machine with a GPU
    GPU_CHECK_TINY=1 .venv/bin/python benchmarks/gpu_check.py # anywhere: a quick run of the same path

Prints images/s and achieved TFLOP/s (2 x the analysis's MACs) for the fp16 channels_last
run, a float32 baseline at the same batch on the same device, and the ratio of our loop's
median to torch.utils.benchmark.Timer's on one model object for the fp16 run.
With GPU_CHECK_TINY=1 (or --tiny) the batch is 2 and the iterations few, and on a CPU
the reduced dtype is bfloat16, since CPU autocast offers no float16 worth timing.
With $OUT set, the JSON results are written there.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from torch.utils.benchmark import Timer

from explorer.core.bench import BenchConfig, BenchResult, run_benchmark, time_forward
from explorer.core.build import build_model
from explorer.core.devices import resolve_device, supported_dtypes
from explorer.core.presets import preset
from explorer.core.render.bench_text import result_text

PRESET = "torchvision/resnet50"


def tflops(result: BenchResult) -> float:
    return 2 * (result.gmacs_per_s or 0.0) / 1e3


def agreement(config: BenchConfig, device_key: str, seconds: float) -> tuple[float, float]:
    """Our loop's median and torch.utils.benchmark.Timer's on one model object and input.

    Timer enters autocast on every call, ours once for the whole loop; Timer would run
    on one CPU thread unless told otherwise.
    """
    torch.manual_seed(0)
    spec = preset(PRESET)
    model = build_model(spec, device_key).eval()
    inputs = torch.randn((config.batch_size, *spec.input_shape), device=device_key)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    ours = time_forward(model, inputs, replace(config, warmup=max(3, config.warmup), min_time_s=seconds))
    assert ours is not None
    kind = torch.device(device_key).type
    dtype = getattr(torch, config.dtype)
    stmt = "with torch.inference_mode(), torch.autocast(kind, dtype=dtype):\n    model(inputs)"
    names = {"model": model, "inputs": inputs, "torch": torch, "kind": kind, "dtype": dtype}
    clock = Timer(stmt=stmt, globals=names, num_threads=torch.get_num_threads())
    clock.timeit(max(3, config.warmup))
    theirs = float(statistics.median(clock.blocked_autorange(min_run_time=seconds).times))
    return ours.median_s, theirs


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="auto", help="auto (default), cuda:N, mps or cpu")
    parser.add_argument("--tiny", action="store_true", default=os.environ.get("GPU_CHECK_TINY") == "1")
    args = parser.parse_args()

    device = resolve_device(args.device)
    tiny = args.tiny
    if device.kind == "cpu" and not tiny:
        print("no GPU here: running the tiny check instead (as with GPU_CHECK_TINY=1)")
        tiny = True
    reduced = "float16" if "float16" in supported_dtypes(device) else "bfloat16"
    batch, warmup, iterations, seconds = (2, 1, 3, 0.5) if tiny else (256, 10, 30, 3.0)
    print(
        f"{PRESET} on {device.label}, torch {torch.__version__}, batch {batch}{' (tiny run)' if tiny else ''}"
    )

    common = {"device": device.key, "batch_size": batch, "warmup": warmup, "iterations": iterations}
    fast = BenchConfig(dtype=reduced, channels_last=True, **common)  # type: ignore[arg-type]
    baseline = BenchConfig(dtype="float32", **common)  # type: ignore[arg-type]
    spec = preset(PRESET)
    results = {}
    for label, config in ((f"{reduced} channels_last", fast), ("float32 contiguous", baseline)):
        result = run_benchmark(spec, config)
        results[label] = result
        print(f"\n== {label}")
        sys.stdout.write(result_text(result))
        if not result.ok:
            return 1
        print(f"-> {result.images_per_s:,.1f} images/s, {tflops(result):.2f} TFLOP/s achieved (2 x MACs)")

    ours = results[f"{reduced} channels_last"].stats
    base = results["float32 contiguous"].stats
    if ours is None or base is None:
        return 1
    mine, theirs = agreement(fast, device.key, seconds)
    print(f"\nsame model object: our loop {mine * 1e3:.3f} ms, Timer {theirs * 1e3:.3f} ms", end="")
    print(f": ratio {mine / theirs:.3f}")
    speedup = base.median_s / ours.median_s
    print(f"{reduced} channels_last is {speedup:.2f}x float32 contiguous (same device, same run)")

    out = os.environ.get("OUT")
    if out:
        payload = {label: result.to_dict() for label, result in results.items()}
        payload["agreement"] = {"ours_median_s": mine, "timer_median_s": theirs}  # type: ignore[assignment]
        Path(out, "gpu_check.json").write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
