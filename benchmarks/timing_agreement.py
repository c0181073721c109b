"""Does run_benchmark time what torch.utils.benchmark.Timer times? The ratio of their medians.

    .venv/bin/python benchmarks/timing_agreement.py [--seconds 1] [--rounds 8] [--threads N]

For resnet18 and resnet50 with the ImageNet stem (the torchvision presets) at 3x224x224,
batch 1 and 8, on the CPU: both time the same model (same weights, same seed) on the same
input with the same thread count. The two alternate in rounds so that a change in the
machine's load falls on both alike. Each ratio (ours / Timer) must stay within 0.95..1.05;
the exit status is 1 if one does not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from torch.utils.benchmark import Timer

from explorer.core.bench import BenchConfig, run_benchmark
from explorer.core.build import build_model
from explorer.core.presets import preset

MODELS = ("torchvision/resnet18", "torchvision/resnet50")
BATCHES = (1, 8)
LOW, HIGH = 0.95, 1.05
SEED = 0


def ours(name: str, batch: int, threads: int, seconds: float) -> list[float]:
    torch.manual_seed(SEED)  # the engine builds the model, then draws the input
    config = BenchConfig(
        device="cpu", batch_size=batch, warmup=3, iterations=5, min_time_s=seconds, threads=threads
    )
    result = run_benchmark(preset(name), config)
    if result.stats is None:
        raise SystemExit(f"{name} batch {batch}: {result.error or result.status}")
    return list(result.stats.samples_s)


def timer(name: str, batch: int, threads: int) -> Timer:
    torch.manual_seed(SEED)
    spec = preset(name)
    model = build_model(spec, "cpu").eval()
    inputs = torch.randn((batch, *spec.input_shape))
    stmt = "with torch.inference_mode():\n    model(inputs)"
    clock = Timer(stmt=stmt, globals={"model": model, "inputs": inputs, "torch": torch}, num_threads=threads)
    clock.timeit(3)  # the same warm-up as ours
    return clock


def _spread(samples: list[float]) -> float:
    quartiles = statistics.quantiles(samples, n=4, method="inclusive") if len(samples) > 1 else [0, 0, 0]
    return quartiles[2] - quartiles[0]


def _load() -> str:
    """Other work on the machine skews one tool's slice more than the other's: say how much there was."""
    if not hasattr(os, "getloadavg"):
        return "load average unknown"
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=1.0, help="timed seconds a tool, round and case")
    parser.add_argument("--rounds", type=int, default=8, help="alternations of the two tools (default 8)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="CPU threads for both")
    args = parser.parse_args()

    rounds = f"{args.rounds} rounds of {args.seconds:g} s a tool"
    print(f"torch {torch.__version__}, CPU, {args.threads} threads, {rounds}; {_load()}")
    columns = ("ours ms", "IQR", "n", "Timer ms", "IQR", "n")
    header = f"{'model':<22} {'batch':>5} " + " ".join(f"{c:>{len(c) + 2}}" for c in columns) + "  ratio"
    print(header)
    print("-" * len(header))
    failures = 0
    for name in MODELS:
        for batch in BATCHES:
            mine: list[float] = []
            theirs: list[float] = []
            clock = timer(name, batch, args.threads)
            for _ in range(args.rounds):
                mine += ours(name, batch, args.threads, args.seconds)
                # Timer's per-run times, one for each of its blocks
                theirs += clock.blocked_autorange(min_run_time=args.seconds).times
            ratio = statistics.median(mine) / statistics.median(theirs)
            verdict = "ok" if LOW <= ratio <= HIGH else "OUTSIDE 0.95..1.05"
            failures += verdict != "ok"
            print(
                f"{name:<22} {batch:>5} {statistics.median(mine) * 1e3:>9.2f} {_spread(mine) * 1e3:>5.2f} "
                f"{len(mine):>3} {statistics.median(theirs) * 1e3:>10.2f} {_spread(theirs) * 1e3:>5.2f} "
                f"{len(theirs):>3}  {ratio:.3f}  {verdict}",
                flush=True,
            )
    print(_load())
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
