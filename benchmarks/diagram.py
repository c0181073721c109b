"""Spec -> SVG time of our diagrams against torchview on the meta device, in one run.

    .venv/bin/python benchmarks/diagram.py [--presets torchvision/resnet152,resnet152] [--level layer]
                                           [--repeat 7] [--skip-torchview]

Ours: layer plan + analysis + graph + DOT text with every cache cleared ("graph+DOT"),
then graphviz's dot to SVG ("dot"), and the CPU time of both ("cpu", which other work on the
machine does not inflate), drawn unfolded, folded (alike blocks drawn once) and
folded with a column per stage; with the size dot gives each (width x height, pt) and its
boxes. torchview: the model built on the meta device, ``draw_graph(..., device="meta")``
("graph"), then its own dot to SVG. Medians of ``--repeat`` runs after one warm-up.
Targets for ours at the layer level of resnet152: <= 300 ms unfolded, <= 100 ms folded.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import median_ms

TARGET_MS = 300
FOLDED_TARGET_MS = 100
# How each of our drawings is made: (name, fold, wrap).
OURS = (("ours", "none", "none"), ("folded", "repeats", "none"), ("fold+wrap", "repeats", "stages"))


def clock(function):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (dot): on a machine others load,
    it counts the work alone, not the waits for a core."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def measure_ours(spec, level: str, repeat: int, fold: str = "none", wrap: str = "none") -> dict[str, float]:  # type: ignore[no-untyped-def]
    import re

    from explorer.core import analysis, graph, plan
    from explorer.core.render.dot import graph_to_dot
    from explorer.core.render.export import render_dot

    def text() -> str:
        plan.layer_plan.cache_clear()
        analysis.analyze.cache_clear()
        graph.graph_from_spec.cache_clear()
        return graph_to_dot(graph.graph_from_spec(spec, level, fold), wrap=wrap)  # type: ignore[arg-type]

    build, draw, cpu = [], [], []
    for run in range(repeat + 1):
        cpu_start = cpu_seconds()
        build_s, dot_text = clock(text)
        draw_s, svg = clock(lambda dot_text=dot_text: render_dot(dot_text, "svg"))
        if run:  # the first run warms imports and the file cache
            build.append(build_s)
            draw.append(draw_s)
            cpu.append(cpu_seconds() - cpu_start)
    size = re.search(rb'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    width, height = (float(side) for side in size.groups()) if size else (0.0, 0.0)
    return {
        "graph": median_ms(build),
        "dot": median_ms(draw),
        "cpu": median_ms(cpu),
        "nodes": svg.count(b'class="node"'),
        "svg_kb": len(svg) / 1024,
        "width": width,
        "height": height,
    }


def measure_torchview(spec, repeat: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    import torchview

    from explorer.core.build import build_model

    channels, height, width = spec.input_shape
    model_times, graph_times, draw_times = [], [], []
    for run in range(repeat + 1):
        model_s, model = clock(lambda: build_model(spec, "meta"))
        graph_s, drawn = clock(
            lambda model=model: torchview.draw_graph(
                model, input_size=(1, channels, height, width), device="meta"
            )
        )
        draw_s, svg = clock(lambda drawn=drawn: drawn.visual_graph.pipe(format="svg"))
        if run:
            model_times.append(model_s)
            graph_times.append(graph_s)
            draw_times.append(draw_s)
    nodes = drawn.visual_graph.source.count(" [label=")
    return {
        "model": median_ms(model_times),
        "graph": median_ms(graph_times),
        "dot": median_ms(draw_times),
        "nodes": nodes,
        "svg_kb": len(svg) / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--presets", default="torchvision/resnet152,resnet152")
    parser.add_argument("--level", default="layer", choices=("stage", "block", "layer"))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--skip-torchview", action="store_true")
    args = parser.parse_args()

    from explorer.core.presets import preset
    from explorer.core.render.export import graphviz_status

    status = graphviz_status()
    if not status.available:
        print(status.message, file=sys.stderr)
        return 2
    print(f"{status.version}; median of {args.repeat} runs after a warm-up; level {args.level}")
    header = (
        f"{'preset':<24} {'tool':<10} {'boxes':>6} {'model ms':>9} {'graph ms':>9} {'dot ms':>8} "
        f"{'total ms':>9} {'cpu ms':>7} {'SVG KiB':>8} {'size pt':>13}"
    )
    print(header)
    print("-" * len(header))
    for name in args.presets.split(","):
        spec = preset(name)
        totals, results = {}, {}
        for tool, fold, wrap in OURS:
            result = results[tool] = measure_ours(spec, args.level, args.repeat, fold, wrap)
            totals[tool] = result["graph"] + result["dot"]
            size = f"{result['width']:.0f} x {result['height']:.0f}"
            print(
                f"{name if tool == 'ours' else '':<24} {tool:<10} {result['nodes']:>6.0f} {'-':>9} "
                f"{result['graph']:>9.1f} {result['dot']:>8.1f} {totals[tool]:>9.1f} {result['cpu']:>7.1f} "
                f"{result['svg_kb']:>8.0f} {size:>13}"
            )
        verdict = "meets" if totals["folded"] <= FOLDED_TARGET_MS else "MISSES"
        print(
            f"{'':<24} {'folding':<10} unfolded/folded {totals['ours'] / totals['folded']:.1f}x; "
            f"folded {verdict} the {FOLDED_TARGET_MS} ms target"
        )
        if args.skip_torchview:
            continue
        ours, ours_total = results["ours"], totals["ours"]
        peer = measure_torchview(spec, args.repeat)
        peer_total = peer["model"] + peer["graph"] + peer["dot"]
        print(
            f"{'':<24} {'torchview':<10} {peer['nodes']:>6.0f} {peer['model']:>9.1f} {peer['graph']:>9.1f} "
            f"{peer['dot']:>8.1f} {peer_total:>9.1f} {peer['svg_kb']:>8.0f}"
        )
        peer_graph = peer["model"] + peer["graph"]
        verdict = "meets" if ours_total <= TARGET_MS else "MISSES"
        print(
            f"{'':<24} {'ratio':<10} torchview/ours: graph {peer_graph / ours['graph']:.1f}x, "
            f"dot {peer['dot'] / ours['dot']:.2f}x, total {peer_total / ours_total:.1f}x; "
            f"ours {verdict} the {TARGET_MS} ms target"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
