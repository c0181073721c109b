"""A user's text in the tables the app writes: CSV cells never run as formulas, and a
name never breaks a Markdown or text table."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest

from explorer.core.analysis import analyze
from explorer.core.compare import Comparison
from explorer.core.presets import preset
from explorer.core.render.cells import csv_text, markdown_text, one_line
from explorer.core.render.compare_text import (
    format_comparison_csv,
    format_comparison_markdown,
    format_comparison_table,
)
from explorer.core.render.table import format_csv, format_markdown, format_table

FORMULAS = ["=1+2", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x","y")']
BREAKING = "a|b\nc\r\nd`e*f_g<h>[i]\\j"


@pytest.mark.parametrize("text", FORMULAS)
def test_a_csv_cell_that_looks_like_a_formula_is_prefixed(text: str) -> None:
    assert csv_text(text) == "'" + text.replace("\r", "\n")


@pytest.mark.parametrize("text", ["resnet18", "a=b", "1-2", "", "'quoted"])
def test_other_csv_cells_are_kept(text: str) -> None:
    assert csv_text(text) == text


def test_a_markdown_cell_holds_no_pipe_line_break_or_markup() -> None:
    cell = markdown_text(BREAKING)
    assert "\n" not in cell and "\r" not in cell
    unescaped = cell.replace("\\\\", "")
    for char in "|`*_<>[]":
        assert all(unescaped[i - 1] == "\\" for i, c in enumerate(unescaped) if c == char), char
    assert one_line(BREAKING) == "a|b c d`e*f_g<h>[i]\\j"


def comparison_of(name: str) -> Comparison:
    return Comparison().add("base", preset("resnet18")).add(name, preset("resnet34"))


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("name", FORMULAS)
def test_comparison_csv_neutralises_formula_names(name: str) -> None:
    rows = read_csv(format_comparison_csv(comparison_of(name)))
    assert rows[2][0] == "'" + name.replace("\r", "\n")
    assert rows[2][1:] == read_csv(format_comparison_csv(comparison_of("safe")))[2][1:]


def test_comparison_markdown_and_text_keep_their_shape_with_a_breaking_name() -> None:
    comparison = comparison_of(BREAKING)
    markdown = format_comparison_markdown(comparison)
    plain = format_comparison_markdown(comparison_of("safe"))
    assert markdown.count("\n") == plain.count("\n")
    for line, plain_line in zip(markdown.splitlines(), plain.splitlines(), strict=True):
        assert line.replace("\\|", "").count("|") == plain_line.count("|")
    table = format_comparison_table(comparison)
    assert table.count("\n") == format_comparison_table(comparison_of("safe")).count("\n")


def hostile_analysis():  # type: ignore[no-untyped-def]
    analysis = analyze(preset("resnet18"))
    rows = tuple(replace(row, name=f"=cmd|{row.name}\nx") for row in analysis.rows)
    return replace(analysis, rows=rows)


def test_layer_csv_neutralises_text_cells_and_keeps_numbers() -> None:
    analysis = hostile_analysis()
    rows = read_csv(format_csv(analysis))
    header = rows[0]
    names = [row[header.index("name")] for row in rows[1:]]
    assert all(name.startswith("'=cmd|") for name in names)
    plain = read_csv(format_csv(analyze(preset("resnet18"))))
    params = header.index("params")
    assert [row[params] for row in rows] == [row[params] for row in plain]


def test_layer_markdown_and_text_table_keep_their_shape() -> None:
    analysis = hostile_analysis()
    plain = analyze(preset("resnet18"))
    markdown, plain_markdown = format_markdown(analysis), format_markdown(plain)
    assert markdown.count("\n") == plain_markdown.count("\n")
    for line, plain_line in zip(markdown.splitlines(), plain_markdown.splitlines(), strict=True):
        assert line.replace("\\|", "").count("|") == plain_line.count("|")
    assert format_table(analysis).count("\n") == format_table(plain).count("\n")
