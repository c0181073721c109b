"""What a per-layer profile costs, and whether its layers add up to the whole pass.

    .venv/bin/python benchmarks/layer_profile.py [--device cpu|cuda] [--batch N] [--iters N] [--threads N]
                                           [--models torchvision/resnet50,cifar/resnet56]
                                           [--mode inference|train]

For each model, ``profile`` runs plain passes (the model called whole) alternating with
profiled ones (every layer clocked). Printed per model: the plain pass's median, the profiled
pass's median and its overhead over the plain one, the per-layer sum (median over passes)
and its ratio to the plain median (the check ``profile`` reports: within 15% passes), and
the sum of the layers' own medians beside it. With ``--mode train`` a pass is a training
step: the plain one its forward, loss and backward, the per-layer sum each layer's forward
and backward plus the loss's. On a loaded machine the figures wander; the
load average is printed with them. With $OUT set, the JSON results are written there too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explorer.core.benchtypes import BenchConfig
from explorer.core.presets import preset
from explorer.core.profile import profile
from explorer.core.render.profile_text import profile_text
from explorer.core.wording import counted

MODELS = ("torchvision/resnet50", "cifar/resnet56")


def _load() -> str:
    if not hasattr(os, "getloadavg"):
        return "load average unknown"
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--mode", choices=("inference", "train"), default="inference")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--tables", action="store_true", help="also print each profile's tables")
    args = parser.parse_args()
    results = []
    failed = False
    for name in args.models.split(","):
        config = BenchConfig(
            device=args.device,
            batch_size=args.batch,
            iterations=args.iters,
            threads=args.threads,
            dtype=args.dtype,
            channels_last=args.channels_last,
            mode=args.mode,
        )
        result = profile(preset(name), config)
        figures = {
            "model": name,
            "device": result.card.device_name,
            "batch": args.batch,
            "dtype": args.dtype,
            "mode": args.mode,
            "plain_ms": result.end_to_end.median_s * 1e3,
            "profiled_ms": result.profiled.median_s * 1e3,
            "overhead": result.overhead,
            "layer_sum_ms": result.layer_sum_s * 1e3,
            "agreement": result.agreement,
            "layer_medians_sum_ms": result.total_s * 1e3,
        }
        results.append(figures)
        failed |= not result.agrees
        print(
            f"{name:<22} batch {args.batch} on {result.card.device} ({result.card.device_name}), "
            f"{counted(result.card.threads, 'thread')}: plain {figures['plain_ms']:.3f} ms, "
            f"profiled {figures['profiled_ms']:.3f} ms (overhead {result.overhead:+.1%}); "
            f"per-layer sum {figures['layer_sum_ms']:.3f} ms = {result.agreement:.1%} of plain "
            f"(sum of layer medians {figures['layer_medians_sum_ms']:.3f} ms)"
        )
        if args.tables:
            print(profile_text(result, top=10))
    print(_load())
    out = os.environ.get("OUT")
    if out:
        Path(out, "profile_benchmark.json").write_text(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
