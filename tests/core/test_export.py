"""Export through graphviz's dot: real SVG/PNG/PDF files, node ids in the SVG, missing dot."""

from __future__ import annotations

import shutil
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from explorer.core.graph import Cluster, Edge, graph_from_spec
from explorer.core.presets import preset
from explorer.core.render import export
from explorer.core.render.dot import element_target
from explorer.core.render.export import (
    GraphvizFailed,
    GraphvizNotFound,
    diagram_dot,
    export_diagram,
    format_from_path,
    graphviz_status,
    install_hint,
    render,
    render_dot,
    render_svg_bytes,
)

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")
MAGIC = {"svg": b"<?xml", "png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def no_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export.shutil, "which", lambda name: None)


def png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@needs_dot
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_export_writes_a_real_file(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"resnet18.{fmt}"
    assert export_diagram(preset("resnet18"), path, "block").format == fmt
    assert path.read_bytes().startswith(MAGIC[fmt])
    assert not [p for p in tmp_path.iterdir() if p != path], "no temporary file is left behind"


@needs_dot
def test_png_dpi_scales_the_image() -> None:
    text = diagram_dot(preset("resnet18"), "stage")
    small = png_size(render_dot(text, "png", dpi=72))
    large = png_size(render_dot(text, "png", dpi=144))
    assert large[0] == pytest.approx(2 * small[0], abs=2)
    assert large[1] == pytest.approx(2 * small[1], abs=2)


@needs_dot
@pytest.mark.parametrize("level", ["block", "layer"])
def test_svg_elements_map_back_to_the_graph(level: str) -> None:
    spec = preset("cifar/resnet20")
    root = ET.fromstring(render_svg_bytes(spec, level, "detailed"))  # type: ignore[arg-type]
    groups = {g.get("id"): g.get("class") for g in root.iter(f"{SVG}g")}
    graph = graph_from_spec(spec, level)  # type: ignore[arg-type]
    for node in graph.nodes:
        assert groups.get(node.id) == "node", node.id
    for edge in graph.shortcut_edges():
        assert groups.get(edge.id) == "edge", edge.id
    # Every drawn element, tags and captions included, leads back to what it shows.
    targets = {element_id: element_target(graph, element_id) for element_id in groups if element_id}
    unknown = [i for i, target in targets.items() if target is None and groups[i] != "graph"]
    assert not unknown
    tag = targets["shortcut:layer2.0:label"]
    assert isinstance(tag, Edge) and tag.kind == "reshaping" and tag.block_name == "layer2.0"
    caption = targets["cluster_layer2:caption"]
    assert isinstance(caption, Cluster) and caption.stage == 1
    assert targets["layer3.0.add"] == graph.node("layer3.0.add")


def fake_dot(tmp_path: Path, body: str) -> str:
    script = tmp_path / "dot"
    script.write_text(f"#!/bin/sh\ncat > /dev/null\n{body}\n", encoding="utf-8")
    script.chmod(0o755)
    return str(script)


def test_dot_warnings_are_kept_and_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warning = "Warning: graph is too large for cairo-renderer bitmaps. Scaling by 0.78 to fit"
    fake = fake_dot(tmp_path, f"echo '{warning}' >&2\nprintf 'PNGDATA'")
    monkeypatch.setattr(export, "find_dot", lambda: fake)
    rendered = render("digraph {}", "png", dpi=600)
    assert rendered.data == b"PNGDATA"
    assert rendered.warnings == (f"{warning}: lower the dpi, or export svg or pdf for full resolution",)


def test_a_dot_that_hangs_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = fake_dot(tmp_path, "exec sleep 5")
    monkeypatch.setattr(export, "find_dot", lambda: fake)
    with pytest.raises(GraphvizFailed, match=r"did not finish within 0\.2 s"):
        render("digraph {}", "svg", timeout_s=0.2)


def test_dot_format_needs_no_graphviz(tmp_path: Path, no_dot: None) -> None:
    path = tmp_path / "net.dot"
    assert export_diagram(preset("resnet18"), path, "stage").format == "dot"
    assert path.read_text(encoding="utf-8").startswith('digraph "stage_paper"')


def test_missing_dot_says_how_to_install(tmp_path: Path, no_dot: None) -> None:
    with pytest.raises(GraphvizNotFound, match="'dot' program was not found") as caught:
        export_diagram(preset("resnet18"), tmp_path / "net.svg")
    assert install_hint() in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not list(tmp_path.iterdir())
    status = graphviz_status()
    assert not status.available and status.path is None
    assert "not found" in status.message


def test_missing_dot_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(GraphvizNotFound):
        render_svg_bytes(preset("resnet18"), "stage")


@pytest.mark.parametrize(
    ("platform", "words"),
    [
        ("linux", "apt install graphviz"),
        ("darwin", "brew install graphviz"),
        ("win32", "winget"),
        ("sunos5", "graphviz.org"),
    ],
)
def test_install_hint_per_platform(platform: str, words: str) -> None:
    assert words in install_hint(platform)


@needs_dot
def test_graphviz_status_reports_the_version() -> None:
    status = graphviz_status()
    assert status.available and status.path
    assert "graphviz" in status.version.lower()


@needs_dot
def test_dot_errors_become_graphviz_failed() -> None:
    with pytest.raises(GraphvizFailed, match="could not draw the diagram as svg"):
        render_dot("digraph { a -> }", "svg")


def test_format_from_path() -> None:
    assert format_from_path(Path("a/B.PNG")) == "png"
    with pytest.raises(ValueError, match=r"name it \.svg, \.png, \.pdf, \.dot"):
        format_from_path(Path("diagram.jpeg"))
    with pytest.raises(ValueError, match="dpi 0: give a whole number"):
        render_dot("digraph {}", "png", dpi=0)
