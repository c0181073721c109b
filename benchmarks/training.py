"""Does our train-mode loop time what a plain hand-written training loop times? The ratio of medians.

    .venv/bin/python benchmarks/training.py [--rounds 3] [--steps 3] [--threads N] [--batch 8]

For torchvision's resnet18 and resnet50 at 3x224x224, batch 8, on the CPU: our loop
(``time_train_steps``, the loop ``run_benchmark`` runs in train mode) and a timm-style
loop written out by hand (zero_grad, forward, cross-entropy, backward, SGD step with
momentum 0.9, a clock read around each step) train the very same model object on the same
batch with the same thread count, alternating in rounds (and who goes first) so that a
change in the machine's load falls on both alike. Each ratio (ours / plain) should stay within 0.95..1.05; the
exit status is 1 if one does not.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from explorer.core.bench import BenchConfig, TimingStats, time_train_steps
from explorer.core.benchtypes import relative_spread
from explorer.core.build import build_model
from explorer.core.devices import resolve_device
from explorer.core.presets import preset
from explorer.core.train_step import SGD_LEARNING_RATE, SGD_MOMENTUM, random_batch

MODELS = ("torchvision/resnet18", "torchvision/resnet50")
LOW, HIGH = 0.95, 1.05
WARMUP = 1


def plain_loop(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, steps: int) -> list[float]:
    """timm's train loop, stripped to the step: what a user would write to time one."""
    optimizer = torch.optim.SGD(model.parameters(), lr=SGD_LEARNING_RATE, momentum=SGD_MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    samples = []
    for index in range(WARMUP + steps):
        began = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        if index >= WARMUP:
            samples.append(time.perf_counter() - began)
    return samples


def compare(name: str, args: argparse.Namespace) -> tuple[list[float], list[float]]:
    torch.manual_seed(0)
    spec = preset(name)
    model = build_model(spec, "cpu")
    images, labels = random_batch(spec, args.batch, resolve_device("cpu"), channels_last=False)
    config = BenchConfig(
        device="cpu",
        mode="train",
        batch_size=args.batch,
        warmup=WARMUP,
        iterations=args.steps,
        threads=args.threads,
    )
    mine: list[float] = []
    plain: list[float] = []
    previous = torch.get_num_threads()
    for round_number in range(args.rounds):
        # Who goes first alternates, so that a change in load or a warmer cache favours neither.
        for ours_now in (True, False) if round_number % 2 == 0 else (False, True):
            if ours_now:
                stats = time_train_steps(model, (images, labels), config)
                assert stats is not None
                mine += stats.samples_s
            else:
                if args.threads is not None:
                    torch.set_num_threads(args.threads)
                plain += plain_loop(model, images, labels, args.steps)
                torch.set_num_threads(previous)
    return mine, plain


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=3, help="timed steps a round, each loop")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    load = "load average %.2f %.2f %.2f" % os.getloadavg() if hasattr(os, "getloadavg") else ""
    print(f"CPU, {torch.get_num_threads() if args.threads is None else args.threads} threads, {load}")
    print(f"{'model':<22} {'ours (ms)':>10} {'IQR':>6} {'plain (ms)':>11} {'IQR':>6} {'ratio':>7}")
    failed = False
    for name in MODELS:
        mine, plain = compare(name, args)
        ours, theirs = TimingStats.from_samples(mine), TimingStats.from_samples(plain)
        ratio = ours.median_s / theirs.median_s
        inside = LOW <= ratio <= HIGH
        failed |= not inside
        flag = "" if inside else f"  outside {LOW}..{HIGH}"
        if ours.noisy or theirs.noisy:
            flag += "  noisy: other work was running, run it again"
        print(
            f"{name:<22} {ours.median_s * 1e3:>10.1f} {relative_spread(ours.median_s, ours.iqr_s):>6.0%} "
            f"{theirs.median_s * 1e3:>11.1f} {relative_spread(theirs.median_s, theirs.iqr_s):>6.0%} "
            f"{ratio:>7.3f}{flag}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
