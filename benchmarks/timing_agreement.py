"""Does our engine time what torch.utils.benchmark.Timer times? The ratio of their medians.

    .venv/bin/python benchmarks/timing_agreement.py [--seconds 1] [--rounds 8] [--threads N] [--fresh] [--app]

For resnet18 and resnet50 with the ImageNet stem (the torchvision presets) at 3x224x224,
batch 1 and 8, on the CPU: our timing loop (``time_forward``, the loop ``run_benchmark``
uses) and Timer time the very same model object on the same input tensor with the same
thread count. They alternate in rounds so that a change in the machine's load falls on
both alike. Each ratio (ours / Timer) must stay within 0.95..1.05; the exit status is 1
if one does not.

The same object matters: two builds of one model can differ by 10% in speed on a CPU
(where their weights land in memory). ``--fresh`` adds, for information, the median of
``run_benchmark`` end to end, which builds a new model every round.

``--app`` times the spec as the app and the command line do: ``run_benchmark`` in the warm
worker process, a new model each round. Its peer is Timer in a process of its own, also with
a new model each round, so that both run beside a coordinating process that computes
nothing (as the window's process never runs torch): this script's own torch threads keep
spinning for a moment after its in-process rounds, which cost the next run on a 2-core
machine several percent, so the script also waits for them to go idle first. The ratio of
the app's median to that Timer's must stay within 0.97..1.03 (the move to a worker process
must not change a timing).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from torch.utils.benchmark import Timer

from explorer.core.bench import BenchConfig, TimingStats, run_benchmark, time_forward
from explorer.core.benchtypes import is_noisy, relative_spread
from explorer.core.build import build_model
from explorer.core.presets import preset
from explorer.core.worker import Worker
from explorer.core.worker.jobs import bench_job

MODELS = ("torchvision/resnet18", "torchvision/resnet50")
BATCHES = (1, 8)
LOW, HIGH = 0.95, 1.05
APP_LOW, APP_HIGH = 0.97, 1.03
WARMUP = 3
# Long enough for a finished parallel region's spinning threads to go to sleep.
SETTLE_S = 0.5

_TIMER_IN_ITS_OWN_PROCESS = """
import json, sys
import torch
from torch.utils.benchmark import Timer
from explorer.core.build import build_model
from explorer.core.presets import preset
name, batch, seconds, threads = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
torch.manual_seed(0)
spec = preset(name)
model = build_model(spec, "cpu").eval()
inputs = torch.randn((batch, *spec.input_shape))
stmt = "with torch.inference_mode():\\n    model(inputs)"
clock = Timer(stmt=stmt, globals={"model": model, "inputs": inputs, "torch": torch}, num_threads=threads)
clock.timeit(int(sys.argv[5]))
print(json.dumps(clock.blocked_autorange(min_run_time=seconds).times))
"""


def timer_in_its_own_process(name: str, batch: int, seconds: float, threads: int) -> list[float]:
    """Timer's per-run times of a new model of ``name``, measured by a fresh process."""
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
    done = subprocess.run(
        [sys.executable, "-c", _TIMER_IN_ITS_OWN_PROCESS, name, *map(str, (batch, seconds, threads, WARMUP))],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return [float(t) for t in json.loads(done.stdout.strip().splitlines()[-1])]


def _spread(samples: list[float]) -> float:
    return TimingStats.from_samples(samples).iqr_s


def _load() -> str:
    """Other work on the machine skews one tool's slice more than the other's: say how much there was."""
    if not hasattr(os, "getloadavg"):
        return "load average unknown"
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def compare(
    name: str, batch: int, args: argparse.Namespace, worker: Worker | None
) -> tuple[list[float], list[float], list[float], list[float], list[float]]:
    torch.manual_seed(0)
    spec = preset(name)
    model = build_model(spec, "cpu").eval()
    inputs = torch.randn((batch, *spec.input_shape))
    config = BenchConfig(
        device="cpu",
        batch_size=batch,
        warmup=WARMUP,
        iterations=3,
        min_time_s=args.seconds,
        threads=args.threads,
    )
    stmt = "with torch.inference_mode():\n    model(inputs)"
    clock = Timer(
        stmt=stmt, globals={"model": model, "inputs": inputs, "torch": torch}, num_threads=args.threads
    )
    mine: list[float] = []
    theirs: list[float] = []
    fresh: list[float] = []
    app: list[float] = []
    app_peer: list[float] = []
    for _ in range(args.rounds):
        stats = time_forward(model, inputs, config)
        assert stats is not None
        mine += stats.samples_s
        clock.timeit(WARMUP)  # the same warm-up
        theirs += clock.blocked_autorange(min_run_time=args.seconds).times  # per-run time of each block
        if args.fresh:
            result = run_benchmark(spec, config)
            fresh += result.stats.samples_s if result.stats else []
        if worker is not None:
            time.sleep(SETTLE_S)
            result = worker.run(bench_job(spec, config))
            app += result.stats.samples_s if result.stats else []
            app_peer += timer_in_its_own_process(name, batch, args.seconds, args.threads)
    return mine, theirs, fresh, app, app_peer


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=1.0, help="timed seconds a tool, round and case")
    parser.add_argument("--rounds", type=int, default=8, help="alternations of the two tools (default 8)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="CPU threads for both")
    parser.add_argument("--models", default=",".join(MODELS), help="presets, comma-separated")
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)), help="batch sizes, comma-separated")
    parser.add_argument("--fresh", action="store_true", help="also run_benchmark end to end (not checked)")
    parser.add_argument("--app", action="store_true", help="also the app's path: the worker process")
    args = parser.parse_args()
    worker = Worker() if args.app else None

    rounds = f"{args.rounds} rounds of {args.seconds:g} s a tool"
    print(f"torch {torch.__version__}, CPU, {args.threads} threads, {rounds}; {_load()}")
    columns = ("ours ms", "IQR", "n", "Timer ms", "IQR", "n")
    header = f"{'model':<22} {'batch':>5} " + " ".join(f"{c:>{len(c) + 2}}" for c in columns) + "  ratio"
    print(header)
    print("-" * len(header))
    failures = 0
    for name in args.models.split(","):
        for batch in (int(text) for text in args.batches.split(",")):
            mine, theirs, fresh, app, app_peer = compare(name, batch, args, worker)
            ratio = statistics.median(mine) / statistics.median(theirs)
            verdict = "ok" if LOW <= ratio <= HIGH else "OUTSIDE 0.95..1.05"
            noisy = [
                relative_spread(statistics.median(samples), _spread(samples))
                for samples in (mine, theirs)
                if is_noisy(statistics.median(samples), _spread(samples))
            ]
            if noisy:
                verdict += f" (noisy: an IQR of {max(noisy):.0%} of the median; other work was running)"
            failures += not LOW <= ratio <= HIGH
            line = (
                f"{name:<22} {batch:>5} {statistics.median(mine) * 1e3:>9.2f} {_spread(mine) * 1e3:>5.2f} "
                f"{len(mine):>3} {statistics.median(theirs) * 1e3:>10.2f} {_spread(theirs) * 1e3:>5.2f} "
                f"{len(theirs):>3}  {ratio:.3f}  {verdict}"
            )
            if fresh:
                line += f"  (run_benchmark, new model each round: {statistics.median(fresh) * 1e3:.2f} ms)"
            if app:
                app_ratio = statistics.median(app) / statistics.median(app_peer)
                within = APP_LOW <= app_ratio <= APP_HIGH
                failures += not within
                line += (
                    f"\n{'':<22} {'':>5} app (worker process, new model each round) "
                    f"{statistics.median(app) * 1e3:.2f} ms, IQR {_spread(app) * 1e3:.2f}, n {len(app)}; "
                    f"Timer in its own process {statistics.median(app_peer) * 1e3:.2f} ms, "
                    f"IQR {_spread(app_peer) * 1e3:.2f}, n {len(app_peer)}: "
                    f"ratio {app_ratio:.3f} {'ok' if within else 'OUTSIDE 0.97..1.03'}"
                )
            print(line, flush=True)
    print(_load())
    if worker is not None:
        worker.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
