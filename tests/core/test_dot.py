"""graph_to_dot: deterministic text (golden files), styles, shortcut edges, quoting."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from xml.etree import ElementTree

import pytest

from explorer.core.graph import ArchGraph, Cluster, Edge, graph_from_spec
from explorer.core.presets import preset
from explorer.core.render.dot import element_target, graph_to_dot, node_label, quote
from explorer.core.render.export import render
from tests.conftest import GOLDEN

GOLDEN_DIAGRAMS = GOLDEN / "diagram"

CASES = [
    ("resnet18", "layer", "paper", "TB"),
    ("torchvision/resnet50", "block", "detailed", "TB"),
    ("torchvision/resnet152", "stage", "paper", "TB"),
    ("cifar/resnet20", "block", "paper", "LR"),
    ("resnet18", "stage", "detailed", "LR"),
]


def golden_path(name: str, level: str, style: str, rankdir: str):  # type: ignore[no-untyped-def]
    return GOLDEN_DIAGRAMS / f"{name.replace('/', '_')}-{level}-{style}-{rankdir}.dot"


@pytest.mark.parametrize(("name", "level", "style", "rankdir"), CASES)
def test_dot_matches_golden_file(
    request: pytest.FixtureRequest, name: str, level: str, style: str, rankdir: str
) -> None:
    text = graph_to_dot(graph_from_spec(preset(name), level), style, rankdir)  # type: ignore[arg-type]
    path = golden_path(name, level, style, rankdir)
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"missing {path}: run pytest with --update-golden"
    assert text == path.read_text(encoding="utf-8")


def test_dot_is_deterministic() -> None:
    spec = preset("torchvision/resnet50")
    first = graph_to_dot(graph_from_spec(spec, "layer"), "detailed")
    graph_from_spec.cache_clear()
    assert graph_to_dot(graph_from_spec(spec, "layer"), "detailed") == first


def edge_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if " -> " in line]


@pytest.mark.parametrize("level", ["block", "layer"])
def test_shortcut_edges_are_drawn_apart(level: str) -> None:
    graph = graph_from_spec(preset("torchvision/resnet50"), level)  # type: ignore[arg-type]
    text = graph_to_dot(graph, "paper")
    projections = [edge for edge in graph.shortcut_edges() if edge.kind == "reshaping"]
    identities = [edge for edge in graph.shortcut_edges() if edge.kind == "identity"]
    assert (len(projections), len(identities)) == (4, 12)
    for edge in projections:
        # source -> labelled tag -> add, both halves dashed, the arrow on the second.
        tag = f"{edge.id}:label"
        assert f'"{tag}" [id="{tag}", label="{edge.label}"' in text
        tail = one_line(text, f'"{edge.source}" -> "{tag}"')
        head = one_line(text, f'"{tag}" -> "{edge.target}"')
        assert 'style="dashed"' in tail and 'arrowhead="none"' in tail and 'tailport="e"' in tail
        assert 'style="dashed"' in head and f'id="{edge.id}"' in head and 'headport="e"' in head
    for edge in identities:
        line = one_line(text, f'"{edge.source}" -> "{edge.target}"')
        assert "dashed" not in line and 'tailport="e"' in line and f'id="{edge.id}"' in line
    assert sum('style="dashed"' in line for line in edge_lines(text)) == 2 * len(projections)
    assert '"shortcut:layer2.0:label" [id="shortcut:layer2.0:label", label="1x1 conv, 512, /2"' in text


def one_line(text: str, start: str) -> str:
    lines = [line for line in text.splitlines() if line.strip().startswith(start + " ")]
    assert len(lines) == 1, start
    return lines[0]


def test_every_node_has_its_graph_id() -> None:
    graph = graph_from_spec(preset("cifar/resnet20"), "layer")
    text = graph_to_dot(graph, "detailed")
    ids = re.findall(r'^\s+"[^"]+" \[id="([^"]+)"', text, flags=re.MULTILINE)
    captions = [f"{cluster.id}:caption" for cluster in graph.stage_clusters()]
    tags = [f"{edge.id}:label" for edge in graph.shortcut_edges() if edge.kind == "reshaping"]
    assert (len(captions), len(tags)) == (3, 2)
    assert sorted(ids) == sorted([node.id for node in graph.nodes] + captions + tags)


def test_stages_are_coloured_clusters() -> None:
    graph = graph_from_spec(preset("resnet50"), "block")
    text = graph_to_dot(graph)
    assert text.count("subgraph") == 4
    fills = re.findall(r'subgraph "cluster_layer\d" \{\n\s+graph \[.*fillcolor="(#[0-9A-F]{6})"', text)
    assert len(set(fills)) == 4
    assert '[id="cluster_layer2:caption", label="layer2\\l4 x bottleneck, /2\\l"' in text


def test_paper_and_detailed_labels() -> None:
    graph = graph_from_spec(preset("torchvision/resnet50"), "layer")
    conv = graph.node("layer2.0.conv2")
    assert node_label(conv, "paper") == "3x3 conv, 128, /2"
    detailed = node_label(conv, "detailed")
    assert "<b>layer2.0.conv2</b>" in detailed
    assert "128x28x28, 147,456 params" in detailed
    assert node_label(graph.node("layer2.0.add"), "detailed") == "+"
    stage = graph_from_spec(preset("torchvision/resnet50"), "stage").node("layer2")
    assert node_label(stage, "paper").splitlines()[0] == "layer2: 4 x bottleneck"


def test_detailed_projection_label_has_params() -> None:
    text = graph_to_dot(graph_from_spec(preset("torchvision/resnet18"), "block"), "detailed")
    assert 'label="1x1 conv, 128, /2 + BN\\n8,448 params"' in text


def test_rankdir_and_refusals() -> None:
    graph = graph_from_spec(preset("resnet18"), "block")
    assert 'rankdir="LR"' in graph_to_dot(graph, rankdir="LR")
    assert 'tailport="s"' in graph_to_dot(graph, rankdir="LR")
    with pytest.raises(ValueError, match="unknown style"):
        graph_to_dot(graph, "fancy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown rankdir"):
        graph_to_dot(graph, rankdir="BT")  # type: ignore[arg-type]


def test_quote_escapes_quotes_backslashes_and_newlines() -> None:
    assert quote('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c\\nd"'


def test_element_ids_lead_back_to_the_graph() -> None:
    graph = graph_from_spec(preset("torchvision/resnet18"), "layer")
    assert element_target(graph, "layer2.0.conv1") == graph.node("layer2.0.conv1")
    assert element_target(graph, "layer1.0.relu@2") == graph.node("layer1.0.relu@2")
    main = element_target(graph, "layer2.0.conv1:layer2.0.bn1")
    assert isinstance(main, Edge) and main.kind == "main"
    for part in ("", ":label", ":tail"):
        shortcut = element_target(graph, f"shortcut:layer3.0{part}")
        assert isinstance(shortcut, Edge) and shortcut.label == "1x1 conv, 256, /2"
    for part in ("", ":caption"):
        stage = element_target(graph, f"cluster_layer4{part}")
        assert isinstance(stage, Cluster) and stage.stage == 3
    assert element_target(graph, "graph0") is None
    assert element_target(graph, "nothing:label") is None


HOSTILE = 'a"b\\c<d>e{f}g|h\ni\r\nj]k[l;m&amp;n\\l\x01o\x7fp é'
# An id, as the drawing's ids must be: one line of printable characters.
HOSTILE_ID = 'a"b\\c<d>e{f}g|h j]k[l;m&amp;n\\l é'  # fmt: skip


def test_quote_leaves_no_raw_line_break_or_control_character() -> None:
    quoted = quote(HOSTILE)
    assert quoted.startswith('"') and quoted.endswith('"')
    body = quoted[1:-1]
    assert not any(ord(char) < 32 or ord(char) == 127 for char in body)
    assert re.search(r'(?<!\\)(\\\\)*"', body) is None  # no quote that ends the string early
    assert "&amp;amp;" in body  # an ampersand stays itself, never an entity graphviz decodes


def hostile_graph(level: str) -> ArchGraph:
    """resnet18's graph with one block, its label lines and a stage named in hostile text."""
    graph = graph_from_spec(preset("resnet18"), level)  # type: ignore[arg-type]

    def swap(text: str | None) -> str | None:
        return None if text is None else text.replace("layer1.0", HOSTILE_ID)

    nodes = tuple(
        replace(
            node,
            id=swap(node.id),
            name=swap(node.name),
            lines=(*node.lines, HOSTILE),
            block_name=swap(node.block_name),
        )
        for node in graph.nodes
    )
    edges = tuple(
        replace(
            edge,
            source=swap(edge.source),
            target=swap(edge.target),
            block_name=swap(edge.block_name),
            label=edge.label and HOSTILE,
        )
        for edge in graph.edges
    )
    clusters = tuple(
        replace(cluster, label=cluster.label + HOSTILE, node_ids=tuple(swap(n) for n in cluster.node_ids))
        for cluster in graph.clusters
    )
    return replace(graph, nodes=nodes, edges=edges, clusters=clusters)  # type: ignore[arg-type]


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")
@pytest.mark.parametrize("style", ["paper", "detailed"])
def test_hostile_text_is_drawn_as_written(style: str) -> None:
    graph = hostile_graph("block")
    svg = render(graph_to_dot(graph, style), "svg")  # type: ignore[arg-type]
    root = ElementTree.fromstring(svg.data)
    ids = {element.get("id") for element in root.iter()}
    assert HOSTILE_ID in ids  # the node's id comes back for a click to find it
    assert element_target(graph, HOSTILE_ID) == graph.node(HOSTILE_ID)
    texts = [element.text or "" for element in root.iter() if element.tag.endswith("text")]
    assert any('a"b\\c<d>e{f}g|h' in text for text in texts)
    assert any("j]k[l;m&amp;n\\l" in text for text in texts)


@pytest.mark.parametrize("attention", ["se", "eca"])
def test_an_attention_branch_is_dotted_grey_into_a_circled_multiply(attention: str) -> None:
    spec = replace(preset("torchvision/resnet50"), attention=attention)
    graph = graph_from_spec(spec, "layer")
    branches = [edge for edge in graph.edges if edge.kind == "branch"]
    multiplies = [node.id for node in graph.nodes if node.op == "mul"]
    assert len(multiplies) == sum(spec.depths)
    for node_id in multiplies:  # the main line and the gate's branch meet at each multiply
        assert sorted(edge.kind for edge in graph.edges if edge.target == node_id) == ["branch", "main"]
    dot = graph_to_dot(graph)
    for edge in branches:
        line = next(line for line in dot.splitlines() if f'[id="{edge.id}"' in line)
        assert 'style="dotted"' in line and 'color="#888888"' in line
        assert "tailport" not in line
    for node_id in multiplies:
        target = next(line for line in dot.splitlines() if line.strip().startswith(f'"{node_id}" [id='))
        assert 'label="×"' in target and 'shape="circle"' in target
    assert 'style="dotted"' not in graph_to_dot(graph_from_spec(preset("torchvision/resnet50"), "layer"))


def test_a_folded_group_is_drawn_once_in_a_box_with_its_repeat_mark() -> None:
    graph = graph_from_spec(preset("torchvision/resnet152"), "block", "repeats")
    text = graph_to_dot(graph)
    attrs = text.split('subgraph "cluster_layer3.1-35" {\n', 1)[1].splitlines()[0]
    assert "<b>×35</b>" in attrs and "layer3.1–35" in attrs and "penwidth=2.2" in attrs
    # Drawn once: its box, its add and its shortcut.
    assert text.count('"layer3.1-35" [id="layer3.1-35"') == 1
    assert text.count('"layer3.1-35.add" [id="layer3.1-35.add"') == 1
    assert 'id="shortcut:layer3.1-35"' in text
    assert "layer3.2" not in text
    # Nested in its stage's box.
    stage = text.index('subgraph "cluster_layer3" {')
    assert stage < text.index('subgraph "cluster_layer3.1-35" {') < text.index('subgraph "cluster_layer4" {')
    unfolded = graph_to_dot(
        graph_from_spec(preset("torchvision/resnet152"), "block", "repeats", frozenset({"layer3.1-35"}))
    )
    assert "×35, drawn one by one" in unfolded and 'style="dashed,rounded"' in unfolded
    assert '"layer3.17" [id="layer3.17"' in unfolded


def test_detailed_folded_boxes_give_each_blocks_params() -> None:
    graph = graph_from_spec(preset("torchvision/resnet50"), "layer", "repeats")
    conv = graph.node("layer3.1-5.conv2")
    assert "256x14x14, 589,824 params each" in node_label(conv, "detailed")
    assert conv.params == 5 * 589_824


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_wrapped_stages_start_level_and_the_edges_into_them_pull_no_column(rankdir: str) -> None:
    graph = graph_from_spec(preset("torchvision/resnet50"), "block", "repeats")
    text = graph_to_dot(graph, rankdir=rankdir, wrap="stages")  # type: ignore[arg-type]
    firsts = ['"layer1.0"', '"layer2.0"', '"layer3.0"', '"layer4.0"']
    order = " -> ".join(firsts if rankdir == "TB" else firsts[::-1])
    assert f'{{rank=same; {"; ".join(firsts)}; {order} [style="invis"];}}' in text
    # The end of the stage before: its last folded group's add.
    ends = {2: "layer1.1-2.add", 3: "layer2.1-3.add", 4: "layer3.1-5.add"}
    for stage, end in ends.items():
        first, tag = f'"layer{stage}.0"', f'"shortcut:layer{stage}.0:label"'
        assert 'constraint="false"' in one_line(text, f'"{end}" -> {first}')
        assert 'constraint="false"' in one_line(text, f'"{end}" -> {tag}')
        # The projection's tag stands beside the stage's first box, at the column's head.
        row = f"{first} -> {tag}" if rankdir == "TB" else f"{tag} -> {first}"
        assert f'{{rank=same; {row} [style="invis"];}}' in text
    # The stem's edge into the first stage keeps the first column under the stem.
    assert "constraint" not in one_line(text, '"stem" -> "layer1.0"')
    # Each stage's name heads its column instead of standing beside it.
    assert ":caption" not in text
    assert graph_to_dot(graph, rankdir=rankdir, wrap="none").count("constraint") == 0  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown wrap"):
        graph_to_dot(graph, wrap="rows")  # type: ignore[arg-type]


needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")
SVG_NS = "{http://www.w3.org/2000/svg}"


def svg_size_and_boxes(svg: bytes) -> tuple[float, float, int]:
    root = ElementTree.fromstring(svg)
    width, height = (float(root.get(side, "0").removesuffix("pt")) for side in ("width", "height"))
    boxes = sum(1 for group in root.iter(f"{SVG_NS}g") if group.get("class") == "node")
    return width, height, boxes


@needs_dot
def test_folded_and_wrapped_resnet152_fits_the_targets() -> None:
    spec = preset("torchvision/resnet152")
    wrapped = render(graph_to_dot(graph_from_spec(spec, "layer", "repeats"), wrap="stages"), "svg").data
    width, height, boxes = svg_size_and_boxes(wrapped)
    assert max(width, height) <= 1600 and boxes <= 120, (width, height, boxes)
    unfolded = render(graph_to_dot(graph_from_spec(spec, "layer")), "svg").data
    assert svg_size_and_boxes(unfolded)[1] > 10 * max(width, height)
    deep = render(graph_to_dot(graph_from_spec(preset("cifar/resnet1202"), "block", "repeats")), "svg").data
    width, height, _ = svg_size_and_boxes(deep)
    assert max(width, height) <= 800, (width, height)


@needs_dot
@pytest.mark.parametrize("level", ["block", "layer"])
@pytest.mark.parametrize("wrap", ["none", "stages"])
def test_every_element_of_a_folded_svg_leads_back_to_the_graph(level: str, wrap: str) -> None:
    graph = graph_from_spec(preset("timm/seresnet50"), level, "repeats", frozenset({"layer3.1-5"}))  # type: ignore[arg-type]
    root = ElementTree.fromstring(render(graph_to_dot(graph, "detailed", wrap=wrap), "svg").data)  # type: ignore[arg-type]
    groups = {group.get("id"): group.get("class") for group in root.iter(f"{SVG_NS}g")}
    for node in graph.nodes:
        assert groups.get(node.id) == "node", node.id
    for cluster in graph.clusters:
        assert groups.get(cluster.id) == "cluster", cluster.id
    targets = {element_id: element_target(graph, element_id) for element_id in groups if element_id}
    assert not [
        element_id
        for element_id, target in targets.items()
        if target is None and groups[element_id] != "graph"
    ]
    folded = targets["cluster_layer2.1-3"]
    assert isinstance(folded, Cluster) and (folded.kind, folded.group, folded.repeat) == (
        "folded",
        "layer2.1-3",
        3,
    )
    unfolded = targets["cluster_layer3.1-5"]
    assert isinstance(unfolded, Cluster) and unfolded.kind == "unfolded"
