"""The drawn layout, read back from dot's JSON: labels inside their boxes, no edge through a node."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from explorer.core.presets import preset
from explorer.core.render.export import diagram_dot

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")

Box = tuple[float, float, float, float]
POINTS_PER_INCH = 72.0
# Edges end on their nodes' borders; this much overlap is the arrow head touching the border.
TOUCH = 1.5
ROUNDING = 0.01  # dot writes positions with two decimals

UNFOLDED = [
    ("resnet18", "layer", "paper", "TB"),
    ("resnet18", "layer", "detailed", "TB"),
    ("torchvision/resnet50", "block", "paper", "TB"),
    ("torchvision/resnet50", "block", "detailed", "TB"),
    ("torchvision/resnet152", "stage", "paper", "TB"),
    ("torchvision/resnet152", "block", "paper", "TB"),
    ("cifar/resnet20", "layer", "paper", "TB"),
    ("cifar/resnet20", "block", "detailed", "LR"),
]
# Alike blocks drawn once (fold "repeats"), and each stage a column (wrap "stages").
FOLDED = [
    ("torchvision/resnet152", "layer", "paper", "TB", "repeats", "stages"),
    ("torchvision/resnet152", "layer", "detailed", "TB", "repeats", "none"),
    ("cifar/resnet1202", "block", "paper", "TB", "repeats", "none"),
    ("timm/seresnet50", "block", "detailed", "LR", "repeats", "stages"),
    ("cifar/resnet56", "layer", "paper", "LR", "repeats", "none"),
]
PICTURES = [(*picture, "none", "none") for picture in UNFOLDED] + FOLDED


def laid_out(
    name: str, level: str, style: str, rankdir: str, fold: str = "none", wrap: str = "none"
) -> dict[str, Any]:
    text = diagram_dot(preset(name), level, style, rankdir, None, fold, wrap)  # type: ignore[arg-type]
    done = subprocess.run(["dot", "-Tjson"], input=text.encode(), capture_output=True, check=True, timeout=60)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def node_boxes(layout: dict[str, Any]) -> dict[int, tuple[dict[str, Any], Box]]:
    boxes = {}
    for item in layout["objects"]:
        if "pos" not in item:
            continue  # a cluster
        x, y = (float(v) for v in item["pos"].split(","))
        half_w = float(item["width"]) * POINTS_PER_INCH / 2
        half_h = float(item["height"]) * POINTS_PER_INCH / 2
        boxes[item["_gvid"]] = (item, (x - half_w, y - half_h, x + half_w, y + half_h))
    return boxes


def bezier_samples(points: list[list[float]], steps: int = 12) -> list[tuple[float, float]]:
    samples = []
    for i in range(0, len(points) - 3, 3):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points[i : i + 4]
        for step in range(steps + 1):
            t = step / steps
            a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t**2 * (1 - t), t**3
            samples.append((a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3))
    return samples


def inside(point: tuple[float, float], box: Box, margin: float) -> bool:
    x, y = point
    return box[0] + margin < x < box[2] - margin and box[1] + margin < y < box[3] - margin


@pytest.mark.parametrize(("name", "level", "style", "rankdir", "fold", "wrap"), PICTURES)
def test_no_edge_runs_through_a_node(
    name: str, level: str, style: str, rankdir: str, fold: str, wrap: str
) -> None:
    layout = laid_out(name, level, style, rankdir, fold, wrap)
    boxes = node_boxes(layout)
    crossings = []
    for edge in layout["edges"]:
        curves = [op["points"] for op in edge.get("_draw_", []) if op["op"] == "b"]
        for point in (p for curve in curves for p in bezier_samples(curve)):
            for gvid, (node, box) in boxes.items():
                if gvid not in (edge["tail"], edge["head"]) and inside(point, box, TOUCH):
                    crossings.append((edge["id"], node["name"]))
    assert not crossings, sorted(set(crossings))[:10]


@pytest.mark.parametrize(("name", "level", "style", "rankdir", "fold", "wrap"), PICTURES)
def test_labels_sit_inside_their_boxes_and_boxes_do_not_overlap(
    name: str, level: str, style: str, rankdir: str, fold: str, wrap: str
) -> None:
    boxes = node_boxes(laid_out(name, level, style, rankdir, fold, wrap))
    for node, (x0, y0, x1, y1) in boxes.values():
        texts = [op for op in node.get("_ldraw_", []) if op["op"] == "T"]
        assert texts or node.get("style") == "invis", node["name"]
        for op in texts:
            x, y = op["pt"]
            width = op["width"]
            left = {"l": x, "r": x - width}.get(op["align"], x - width / 2)
            assert x0 - ROUNDING <= left and left + width <= x1 + ROUNDING, (node["name"], op["text"])
            assert y0 <= y <= y1, (node["name"], op["text"])
    ordered = sorted(box for _, box in boxes.values())
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b[0] >= a[2]:
                break
            assert not (a[1] < b[3] and b[1] < a[3]), f"boxes {a} and {b} overlap"
