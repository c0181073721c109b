"""A diagram's size: its length estimated before drawing (which chooses folding), and an SVG
or PDF fitted to a page's text width, refused where its text would be too small to read."""

from __future__ import annotations

import re
import shutil
from xml.etree import ElementTree

import pytest

from explorer.core.graph import graph_from_spec
from explorer.core.presets import preset
from explorer.core.render.dot import graph_to_dot
from explorer.core.render.export import diagram_dot, render
from explorer.core.render.page import (
    MIN_TEXT_PT,
    PAGE_SIZES,
    TWO_PAGES_PT,
    PageFitError,
    choose_fold,
    estimated_length,
    narrowing_options,
    render_on_page,
    smallest_text,
)

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")


def svg_size(svg: bytes) -> tuple[float, float]:
    root = ElementTree.fromstring(svg)
    return float(root.get("width", "").removesuffix("pt")), float(root.get("height", "").removesuffix("pt"))


@needs_dot
@pytest.mark.parametrize(
    ("name", "level", "style", "rankdir", "fold"),
    [
        ("resnet18", "block", "paper", "TB", "none"),
        ("torchvision/resnet50", "block", "detailed", "LR", "none"),
        ("torchvision/resnet50", "layer", "paper", "TB", "none"),
        ("timm/seresnet50", "layer", "detailed", "TB", "none"),
        ("cifar/resnet56", "block", "paper", "LR", "none"),
        ("torchvision/resnet152", "layer", "paper", "TB", "repeats"),
        ("cifar/resnet20", "stage", "paper", "TB", "none"),
    ],
)
def test_the_estimated_length_is_near_what_dot_draws(
    name: str, level: str, style: str, rankdir: str, fold: str
) -> None:
    graph = graph_from_spec(preset(name), level, fold)  # type: ignore[arg-type]
    width, height = svg_size(render(graph_to_dot(graph, style, rankdir), "svg").data)  # type: ignore[arg-type]
    drawn = height if rankdir == "TB" else width
    assert estimated_length(graph, style, rankdir) == pytest.approx(drawn, rel=0.15)  # type: ignore[arg-type]


def test_folding_is_chosen_past_about_two_pages() -> None:
    deep = choose_fold(preset("cifar/resnet1202"), "block")
    assert deep.fold == "repeats" and deep.unfolded_length > 20 * TWO_PAGES_PT
    assert deep.reason().startswith("folded by default, as unfolded it would be about ")
    short = choose_fold(preset("resnet18"), "block")
    assert short.fold == "none" and short.unfolded_length < TWO_PAGES_PT
    assert short.reason().startswith("not folded by default, as it is about ")
    assert choose_fold(preset("torchvision/resnet152"), "layer").fold == "repeats"
    # A stage diagram has nothing to fold, however long.
    assert choose_fold(preset("cifar/resnet1202"), "stage").fold == "none"


def test_the_smallest_text_is_read_from_the_dot_text() -> None:
    paper = diagram_dot(preset("resnet18"), "block")
    assert smallest_text(paper) == 9
    assert smallest_text(diagram_dot(preset("resnet18"), "block", "detailed")) == 8
    assert smallest_text(paper.replace("fontsize=9", "fontsize=4.5")) == 4.5


@needs_dot
def test_an_svg_is_scaled_to_the_text_width_keeping_its_drawing() -> None:
    text = diagram_dot(preset("torchvision/resnet152"), "layer", fold="repeats")
    natural = render(text, "svg").data
    fitted = render_on_page(text, "svg", "a4")
    width, height = svg_size(fitted.rendered.data)
    assert width == pytest.approx(PAGE_SIZES["a4"].text_width_pt, abs=0.01)
    natural_width, natural_height = svg_size(natural)
    assert height == pytest.approx(natural_height * width / natural_width, abs=0.05)
    assert fitted.scale == pytest.approx(width / natural_width, rel=1e-4)
    # Only the size on the page changes: the drawing and its viewBox are dot's.
    assert re.sub(rb'<svg width="[^"]*" height="[^"]*"', b"", fitted.rendered.data) == re.sub(
        rb'<svg width="[^"]*" height="[^"]*"', b"", natural
    )
    assert fitted.smallest_text_pt >= MIN_TEXT_PT
    assert fitted.describe().startswith("A4 text width: scaled to ")


@needs_dot
@pytest.mark.parametrize("page", ["a4", "letter"])
def test_a_pdf_is_drawn_at_the_text_width(page: str) -> None:
    text = diagram_dot(preset("torchvision/resnet34"), "block")
    fitted = render_on_page(text, "pdf", page)  # type: ignore[arg-type]
    data = fitted.rendered.data
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert box is not None
    assert float(box.group(1)) == pytest.approx(PAGE_SIZES[page].text_width_pt, abs=1.0)  # type: ignore[index]


@needs_dot
def test_a_figure_whose_text_would_be_unreadable_is_refused_with_the_way_out() -> None:
    text = diagram_dot(preset("torchvision/resnet152"), "layer", fold="repeats", wrap="stages")
    options = narrowing_options("layer", "paper", "TB", "repeats", "stages")
    with pytest.raises(PageFitError) as refused:
        render_on_page(text, "svg", "a4", options)
    message = str(refused.value)
    assert "A4 text width (454 pt)" in message and "under 6 pt" in message
    assert "--wrap none" in message and "--level block" in message
    with pytest.raises(ValueError, match="SVG or PDF"):
        render_on_page(text, "png", "a4")


def test_the_way_out_names_only_what_would_narrow_the_figure() -> None:
    assert narrowing_options("layer", "detailed", "LR", "none", "none") == (
        "--fold repeats",
        "--wrap stages",
        "--rankdir TB",
        "--style paper",
        "a coarser level (--level block)",
    )
    assert narrowing_options("stage", "paper", "TB", "none", "none") == ()
