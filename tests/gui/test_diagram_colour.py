"""The Diagram tab's "Colour by": static metrics at once, latency and GMAC/s only with a
profile of the architecture on show, the legend in the drawing and in exports, every
metric in a box's tooltip."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from explorer.core.benchtypes import BenchConfig
from explorer.core.profile import Profile, profile
from explorer.core.render import export
from explorer.core.render.colour_by import LEGEND_ID, PROFILED_METRICS
from explorer.core.spec import ArchSpec
from explorer.gui.app import application
from explorer.gui.panels.diagram import DiagramPanel
from explorer.gui.profile_store import profile_store
from explorer.gui.session import Session

pytestmark = pytest.mark.skipif(export.find_dot() is None, reason="needs graphviz's dot")
TINY = ArchSpec(depths=(1, 1), widths=(8, 16), stem_width=8, input_size=(16, 16), num_classes=4)


@pytest.fixture(scope="module")
def result() -> Profile:
    return profile(TINY, BenchConfig(device="cpu", threads=1, warmup=0, iterations=2))


@pytest.fixture
def panel(qtbot) -> DiagramPanel:  # type: ignore[no-untyped-def]
    application()
    widget = DiagramPanel(Session(TINY))
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    qtbot.waitUntil(widget.is_ready, timeout=20_000)
    return widget


def _choose(qtbot, panel: DiagramPanel, metric: str) -> None:  # type: ignore[no-untyped-def]
    panel.colour_box.setCurrentIndex(panel.colour_box.findData(metric))
    qtbot.waitUntil(panel.is_ready, timeout=20_000)


def _offered(panel: DiagramPanel, metric: str) -> bool:
    return bool(panel.colour_box.model().item(panel.colour_box.findData(metric)).isEnabled())  # type: ignore[attr-defined]


def test_static_metrics_colour_the_drawing_with_a_legend(qtbot, panel: DiagramPanel) -> None:  # type: ignore[no-untyped-def]
    assert LEGEND_ID.encode() not in panel.drawing.svg  # type: ignore[union-attr]
    _choose(qtbot, panel, "macs")
    svg = panel.drawing.svg  # type: ignore[union-attr]
    assert f'id="{LEGEND_ID}"'.encode() in svg and b"MACs per image" in svg
    panel.values_box.setChecked(True)
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    assert b"MMACs" in panel.drawing.svg or b"kMACs" in panel.drawing.svg  # type: ignore[union-attr]
    tip = panel.describe("layer1.0")
    assert "parameters:" in tip and "MACs per image:" in tip and "output bytes per image" in tip


def test_latency_is_offered_only_with_a_profile_of_this_spec(  # type: ignore[no-untyped-def]
    qtbot, panel: DiagramPanel, result: Profile
) -> None:
    assert not any(_offered(panel, metric) for metric in PROFILED_METRICS)
    profile_store(panel.session).store(result)
    assert all(_offered(panel, metric) for metric in PROFILED_METRICS)
    _choose(qtbot, panel, "latency")
    assert b"time per batch" in panel.drawing.svg  # type: ignore[union-attr]
    assert "time per batch (profile median):" in panel.describe("layer1.0")
    panel.session.propose(replace(TINY, depths=(2, 1)))
    qtbot.waitUntil(lambda: panel.colour_box.currentData() == "", timeout=10_000)
    assert not _offered(panel, "latency") and "another architecture" in panel.message.text()


def test_an_export_carries_the_colours_and_the_legend(  # type: ignore[no-untyped-def]
    qtbot, panel: DiagramPanel, tmp_path: Path
) -> None:
    _choose(qtbot, panel, "params")
    path = tmp_path / "net.svg"
    panel.export_to(path)
    qtbot.waitUntil(lambda: path.exists() and "Saved" in panel.message.text(), timeout=20_000)
    text = path.read_text()
    assert f'id="{LEGEND_ID}"' in text and "parameters" in text


@pytest.mark.parametrize("level", ["stage", "block"])
def test_every_box_holds_what_the_layers_tab_shows_for_it(qtbot, settings, level: str) -> None:  # type: ignore[no-untyped-def]
    """In the real window: a stage's or a block's box gives the params and MACs of its row in the
    Layers tab (a block's shortcut and add included), and an add's "+" node holds nothing."""
    from explorer.core.presets import preset
    from explorer.core.render.colour_by import METRIC_INFO
    from tests.gui.conftest import open_window, wait_current

    window = open_window(qtbot, settings, preset("torchvision/resnet50"))
    wait_current(qtbot, window)
    diagram = window.show_tab("Diagram")
    assert isinstance(diagram, DiagramPanel)
    qtbot.waitUntil(diagram.is_ready, timeout=20_000)
    diagram.set_options(level=level, fold="none")  # a box for every block of the table
    _choose(qtbot, diagram, "macs")
    rows = []
    pending = list(window.layer_view.model.root().children)
    while pending:
        node = pending.pop()
        if node.kind == level:
            rows.append(node)
        pending.extend(node.children)
    assert len(rows) == (4 if level == "stage" else 16)
    for row in rows:
        tip = diagram.describe(row.full_name)
        assert f"parameters: {METRIC_INFO['params'].format(row.figure('params'))}<br>" in tip, row.full_name
        assert f"MACs per image: {METRIC_INFO['macs'].format(row.figure('macs'))}<br>" in tip, row.full_name
    if level == "block":
        add = diagram.describe("layer1.0.add")
        assert "parameters: 0 params" in add and "MACs per image: 0 MACs" in add
