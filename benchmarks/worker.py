"""What running in the worker process costs: its start, a warm run's overhead, a cancel's wait.

    .venv/bin/python benchmarks/worker.py [--runs 20] [--starts 3]

- start: from starting a worker process to its ready message (its torch import included),
  against a bare ``python -c "import torch"`` in the same run;
- warm overhead: the same tiny run (one pass of a network of two blocks on the CPU) through a
  warm worker and called in this process, alternated; the difference of the medians is what
  the pipe, the frames and the process switch add to a run;
- cancel: a run of torchvision/resnet152 at batch 32 cancelled mid-iteration (once its first
  pass has begun): from the cancel to the answer, against the pass's own time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from explorer.core.bench import run_benchmark
from explorer.core.benchtypes import BenchConfig
from explorer.core.presets import preset
from explorer.core.spec import ArchSpec
from explorer.core.worker import RunCancelled, Worker
from explorer.core.worker.jobs import bench_job

TINY = ArchSpec(depths=(1, 1), widths=(8, 16), stem_width=8, input_size=(16, 16))
ONE_PASS = BenchConfig(device="cpu", warmup=0, iterations=1)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.1f} ms"


def starts(count: int) -> None:
    bare, ours = [], []
    for _ in range(count):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        bare.append(time.perf_counter() - began)
        worker = Worker()
        began = time.perf_counter()
        worker.run(bench_job(TINY, ONE_PASS))  # the start, then one tiny run
        ours.append(worker.last_start_s or 0.0)
        worker.close()
    print(
        f"start          worker to ready {_ms(statistics.median(ours))}   python -c 'import torch' "
        f"{_ms(statistics.median(bare))}   (medians of {count})"
    )


def warm_overhead(runs: int) -> None:
    worker = Worker()
    worker.run(bench_job(TINY, ONE_PASS))
    run_benchmark(TINY, ONE_PASS)  # this process's own torch warm too
    through, here = [], []
    for _ in range(runs):
        began = time.perf_counter()
        worker.run(bench_job(TINY, ONE_PASS))
        through.append(time.perf_counter() - began)
        began = time.perf_counter()
        run_benchmark(TINY, ONE_PASS)
        here.append(time.perf_counter() - began)
    worker.close()
    added = statistics.median(through) - statistics.median(here)
    print(
        f"warm run       worker {_ms(statistics.median(through))}   in this process "
        f"{_ms(statistics.median(here))}   added {_ms(added)}   (medians of {runs}; target: 20 ms at most)"
    )


def cancel() -> None:
    spec = preset("torchvision/resnet152")
    config = BenchConfig(device="cpu", batch_size=32, warmup=5, iterations=5)
    worker = Worker()
    worker.run(bench_job(TINY, ONE_PASS))
    stop = threading.Event()
    asked: list[float] = []
    passes: list[float] = []

    def on_event(kind: str, *values: object) -> None:
        if kind == "progress" and not passes:
            passes.append(time.perf_counter())
            # Half a pass in: the next one has begun, and the cancel finds it mid-iteration.
            threading.Timer(0.01, lambda: (asked.append(time.perf_counter()), stop.set())).start()

    began = time.perf_counter()
    with contextlib.suppress(RunCancelled):
        worker.run(bench_job(spec, config), on_event, stop.is_set)
    answered = time.perf_counter()
    worker.close()
    first_pass = passes[0] - began if passes else float("nan")
    print(
        f"cancel         answered {_ms(answered - asked[0])} after the cancel, mid-pass; "
        f"the first pass (with the build) took {_ms(first_pass)}   (target: 500 ms at most)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    starts(args.starts)
    warm_overhead(args.runs)
    cancel()
    return 0


if __name__ == "__main__":
    sys.exit(main())
