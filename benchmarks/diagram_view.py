"""The Diagram tab's selection and repaint costs, against the alternatives, in one run.

    .venv/bin/python benchmarks/diagram_view.py [--presets torchvision/resnet152,cifar/resnet1202]
                                                [--level layer] [--repeat 7]

For each network, offscreen, in a 1280x800 window:

- select: a click's selection outlined in the drawing and the view repainted (what the
  tab does), against drawing the diagram again with ``highlight_nodes`` (graphviz lays it
  out anew, then the SVG is parsed and painted);
- repaint: one full repaint of the view at actual size with the drawing cut in bands
  (what the tab does), against one SVG document for the whole drawing.

Medians of ``--repeat`` runs after one warm-up.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import median_ms, timed


def measure(name: str, level: str, repeat: int) -> dict[str, float]:
    from PySide6.QtCore import QByteArray
    from PySide6.QtSvg import QSvgRenderer
    from PySide6.QtWidgets import QApplication

    from explorer.core.graph import graph_from_spec
    from explorer.core.presets import preset
    from explorer.core.render.dot import graph_to_dot
    from explorer.core.render.export import render_dot
    from explorer.core.render.highlight import highlight_nodes
    from explorer.gui.diagram_drawing import Band, DiagramRequest, draw
    from explorer.gui.panels.diagram import DiagramPanel
    from explorer.gui.session import Session

    spec = preset(name)
    session = Session(spec)
    panel = DiagramPanel(session)
    panel.resize(1280, 800)
    panel.set_options(level=level)
    drawing = draw(DiagramRequest(spec, level))
    panel.view.show_drawing(drawing, keep_view=False)
    panel.drawing = drawing
    panel.show()
    QApplication.processEvents()
    panel.view.actual_size()
    nodes = [node.id for node in drawing.graph.nodes if node.row_index is not None]
    picks = iter(nodes[len(nodes) // 3 :] * (repeat + 2))
    viewport = panel.view.viewport()

    def select_in_scene() -> None:
        panel.click_element(next(picks))
        viewport.repaint()

    def select_by_redrawing() -> None:
        dot_text = highlight_nodes(graph_to_dot(graph_from_spec(spec, level)), [next(picks)])
        renderer = QSvgRenderer(QByteArray(render_dot(dot_text, "svg")))
        panel.view.show_drawing(replace(drawing, bands=(Band(drawing.bounds, renderer),)), keep_view=True)
        viewport.repaint()

    results: dict[str, float] = {}
    for label, action in (("select, in scene", select_in_scene), ("select, redraw", select_by_redrawing)):
        action()
        results[label] = median_ms(timed(action, repeat))

    whole = replace(drawing, bands=(Band(drawing.bounds, QSvgRenderer(QByteArray(drawing.svg))),))
    for label, shown in (("repaint, bands", drawing), ("repaint, one document", whole)):
        panel.view.show_drawing(shown, keep_view=True)
        viewport.repaint()
        results[label] = median_ms(timed(viewport.repaint, repeat))
    results["bands"] = len(drawing.bands)
    results["boxes"] = len(drawing.graph.nodes)
    panel.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="torchvision/resnet152,cifar/resnet1202")
    parser.add_argument("--level", default="layer")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from explorer.gui.app import application

    application()
    for name in args.presets.split(","):
        r = measure(name, args.level, args.repeat)
        print(f"{name} at {args.level} level: {r['boxes']:.0f} boxes, {r['bands']:.0f} bands")
        select, redraw = r["select, in scene"], r["select, redraw"]
        print(f"  select:  in scene {select:7.1f} ms, redraw with highlight_nodes {redraw:7.1f} ms", end="")
        print(f"  ({redraw / select:.0f}x)")
        bands, whole = r["repaint, bands"], r["repaint, one document"]
        print(f"  repaint: in bands {bands:7.1f} ms, one SVG document            {whole:7.1f} ms", end="")
        print(f"  ({whole / bands:.0f}x)")


if __name__ == "__main__":
    main()
