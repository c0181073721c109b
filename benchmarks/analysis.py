"""Speed and memory of analyze() against torchsummary and torchinfo (meta device), in one run.

    .venv/bin/python benchmarks/analysis.py [--preset resnet152] [--input 3x224x224] [--skip-torchsummary]

Each tool runs in its own child process so that its peak memory growth (ru_maxrss over the
resident size after imports) is its own. Target for ours: <= 50 ms median, < 30 MB growth.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import median_ms, peak_rss_mb, rss_mb, run_child, timed


def _spec(preset_name: str, input_shape: str):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from explorer.core.presets import preset

    channels, height, width = (int(v) for v in input_shape.split("x"))
    return replace(preset(preset_name), in_channels=channels, input_size=(height, width))


def child(tool: str, preset_name: str, input_shape: str) -> None:
    spec = _spec(preset_name, input_shape)
    if tool == "ours":
        from explorer.core import analysis, plan

        def once() -> None:
            plan.layer_plan.cache_clear()
            analysis.analyze.cache_clear()
            analysis.analyze(spec)

        baseline = rss_mb()
        samples = timed(once, 50)
    elif tool == "torchsummary":
        from explorer.core.build import build_model
        from tests.oracles import torchsummary_text

        model = build_model(spec)
        baseline = rss_mb()
        samples = timed(lambda: torchsummary_text(model, spec.input_shape), 1)
    elif tool == "torchinfo":
        import torchinfo

        from explorer.core.build import build_model

        model = build_model(spec, "meta")
        baseline = rss_mb()
        samples = timed(
            lambda: torchinfo.summary(model, input_size=(1, *spec.input_shape), device="meta", verbose=0), 5
        )
    else:
        raise SystemExit(f"unknown tool {tool}")
    print(json.dumps({"median_ms": median_ms(samples), "growth_mb": peak_rss_mb() - baseline}))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default="resnet152")
    parser.add_argument("--input", default="3x224x224")
    parser.add_argument("--skip-torchsummary", action="store_true", help="it takes seconds and GBs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.preset, args.input)
        return

    tools = ["ours", "torchinfo"] + ([] if args.skip_torchsummary else ["torchsummary"])
    results = {
        tool: run_child(__file__, "--child", tool, "--preset", args.preset, "--input", args.input)
        for tool in tools
    }
    print(f"analysis of {args.preset} at {args.input}")
    print(f"{'tool':<22}{'median':>12}{'peak growth':>14}{'time / ours':>14}{'memory / ours':>15}")
    ours = results["ours"]
    for tool, figures in results.items():
        label = {
            "ours": "resnet-explorer",
            "torchinfo": "torchinfo (meta)",
            "torchsummary": "torchsummary (cpu)",
        }[tool]
        print(
            f"{label:<22}{figures['median_ms']:>10.1f}ms{figures['growth_mb']:>11.1f} MB"
            f"{figures['median_ms'] / ours['median_ms']:>13.0f}x"
            f"{figures['growth_mb'] / max(ours['growth_mb'], 0.1):>14.0f}x"
        )
    verdict = "meets" if ours["median_ms"] <= 50 and ours["growth_mb"] < 30 else "MISSES"
    print(f"target (<= 50 ms, < 30 MB growth): ours {verdict} it")


if __name__ == "__main__":
    main()
