"""The layer table's columns and the comparison's metrics are declared once: each declaration
is complete, and each output shows exactly the columns declared for it, a new one included."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import asdict, fields, replace

import pytest

from explorer.core import columns
from explorer.core import compare as compare_module
from explorer.core.analysis import Analysis, LayerRow, analyze
from explorer.core.columns import (
    EVERY_OUTPUT,
    LAYER_COLUMNS,
    PROFILE_COLUMNS,
    PROFILE_OUTPUTS,
    LayerColumn,
    OfGroup,
    Output,
    columns_for,
)
from explorer.core.compare import METRICS, BenchFigures, Comparison, Metric, shown_metrics
from explorer.core.jsonable import plain
from explorer.core.presets import preset
from explorer.core.profile import GroupTime
from explorer.core.render.compare_text import COMPARISON_FORMATTERS
from explorer.core.render.table import format_csv, format_json, format_markdown, format_table


def _analyses() -> list[Analysis]:
    """Rows of every kind: dilations, drop-path rates, attention gates, zero-pad shortcuts."""
    return [
        analyze(replace(preset("timm/seresnet50"), drop_path=0.1, output_stride=16, input_size=(64, 64))),
        analyze(preset("cifar/resnet20")),
        analyze(preset("timm/resnetv2_50d")),
    ]


def _stage_rows(analysis: Analysis, stage: int = 0) -> tuple[LayerRow, ...]:
    blocks = analysis.stages[stage].blocks
    return analysis.rows[blocks[0].first_row : blocks[-1].last_row + 1]


# The declaration is complete


def test_every_layer_column_is_declared_whole() -> None:
    keys = [column.key for column in LAYER_COLUMNS]
    assert len(set(keys)) == len(keys), "a key names one column"
    for column in LAYER_COLUMNS:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", column.key), column
        assert column.header.strip() == column.header and column.header, column.key
        # Stated, never left out: a quantity's unit, or None for a name, a type, a shape.
        assert column.unit is None or (isinstance(column.unit, str) and column.unit.strip()), column.key
        assert column.outputs and column.outputs <= EVERY_OUTPUT, column.key
        assert callable(column.text) and callable(column.raw_value) and callable(column.cell_value)
        assert column.description is None or column.description.strip(), column.key
        assert column.tab_width > 0 and (column.tab_min_width or 0) <= column.tab_width, column.key
    for output in Output:
        headers = [column.header for column in columns_for(output)]
        assert len(set(headers)) == len(headers), f"two columns of the {output.value} share a title"


def test_every_layer_column_formats_every_kind_of_row_and_group() -> None:
    for analysis in _analyses():
        groups = [_stage_rows(analysis, stage.index) for stage in analysis.stages]
        groups += [analysis.rows[b.first_row : b.last_row + 1] for s in analysis.stages for b in s.blocks]
        for column in LAYER_COLUMNS:
            for row in analysis.rows:
                value = column.cell_value(row)
                assert isinstance(column.text(value), str), (column.key, row.name)
                assert isinstance(column.shown(value), str), (column.key, row.name)
                json.dumps(plain(column.raw_value(row)))  # data: plain JSON values
                if column.cell_tip is not None:
                    assert column.cell_tip(value), (column.key, row.name)
                if column.copied is not None:
                    assert column.copied(value), (column.key, row.name)
                if column.sort_key is not None:
                    column.sort_key(value)
            for rows in groups:
                value = column.group_value(rows)
                assert (value is None) == (column.of_group is OfGroup.NOTHING), column.key
                if value is not None:
                    assert column.shown(value) and column.text(value), column.key


def test_the_grouped_outputs_word_the_name_and_type_of_a_group_themselves() -> None:
    headings = {column.key for column in LAYER_COLUMNS if column.heading}
    assert headings == {"name", "type"}
    for output in (Output.TEXT_TABLE, Output.LAYERS_TAB):
        assert headings <= {column.key for column in columns_for(output)}, output


def test_every_profile_column_is_declared_whole() -> None:
    timed = GroupTime("layer1", 3, 10, 0.0125, 0.25, 10**6, 160.0, 1.1, 0.0125, None)
    keys = [column.key for column in PROFILE_COLUMNS]
    assert len(set(keys)) == len(keys)
    for column in PROFILE_COLUMNS:
        assert column.header and column.description, column.key
        assert column.unit is None or column.unit.strip(), column.key
        assert column.outputs and column.outputs <= PROFILE_OUTPUTS, column.key
        assert column.text(timed), column.key
        assert isinstance(column.text(replace(timed, gmacs_per_s=None)), str), column.key


def test_every_field_of_a_layer_row_is_in_the_json_rows_in_its_order() -> None:
    # Files written before the declaration read their rows by these names.
    analysis = analyze(preset("cifar/resnet20"))
    rows = json.loads(format_json(analysis))["rows"]
    field_names = [field.name for field in fields(LayerRow)]
    assert [key for key in rows[0] if key in field_names] == field_names
    assert rows == [plain(asdict(row)) for row in analysis.rows]


# Each output shows the columns declared for it


def _text_headers(table: str) -> list[str]:
    return re.split(r"\s{2,}", table.splitlines()[0].strip())


def _markdown_headers(markdown: str) -> tuple[list[str], list[str]]:
    header, rule = markdown.splitlines()[:2]
    return [cell.strip() for cell in header.strip("|").split("|")], rule.strip("|").split("|")


def _expected_text_headers() -> list[str]:
    return [
        column.header if column.header[1:2].isupper() else column.header[0].lower() + column.header[1:]
        for column in columns_for(Output.TEXT_TABLE)
    ]


def test_each_output_shows_the_columns_declared_for_it() -> None:
    analysis = analyze(preset("resnet18"))
    assert _text_headers(format_table(analysis)) == _expected_text_headers()
    assert next(csv.reader(io.StringIO(format_csv(analysis)))) == [c.key for c in columns_for(Output.CSV)]
    headers, rule = _markdown_headers(format_markdown(analysis))
    markdown_columns = columns_for(Output.MARKDOWN)
    assert headers == [column.header for column in markdown_columns]
    assert rule == ["---:" if column.align == "right" else "---" for column in markdown_columns]
    rows = json.loads(format_json(analysis))["rows"]
    assert all(list(row) == [column.key for column in columns_for(Output.JSON)] for row in rows)


def _values_column(outputs: frozenset[Output], key: str = "output_values") -> LayerColumn:
    return LayerColumn(
        key,
        "Values",
        "values per image",
        outputs,
        raw=lambda row: math.prod(row.output_shape),
        text=lambda values: f"{values:,}",
        align="right",
        of_group=OfGroup.OUTPUT,
    )


def _declared_with(monkeypatch: pytest.MonkeyPatch, *added: LayerColumn, after: str = "params") -> None:
    keys = [column.key for column in LAYER_COLUMNS]
    place = keys.index(after) + 1
    monkeypatch.setattr(columns, "LAYER_COLUMNS", (*LAYER_COLUMNS[:place], *added, *LAYER_COLUMNS[place:]))


def test_a_column_added_to_the_declaration_shows_in_every_output_it_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    analysis = analyze(preset("cifar/resnet20"))
    before_csv = next(csv.reader(io.StringIO(format_csv(analysis))))
    values = _values_column(frozenset({Output.TEXT_TABLE, Output.CSV, Output.MARKDOWN, Output.JSON}))
    only_csv = _values_column(frozenset({Output.CSV}), key="csv_only")
    _declared_with(monkeypatch, values, only_csv)
    conv = analysis.rows[0]
    figure = f"{math.prod(conv.output_shape):,}"

    table = format_table(analysis)
    headers = _text_headers(table)
    assert headers == _expected_text_headers()
    assert headers[headers.index("params") + 1] == "values"
    conv_line = next(line for line in table.splitlines() if line.startswith("conv1 "))
    assert re.search(rf"\s{re.escape(figure)}\s", conv_line)
    stage = next(line for line in table.splitlines() if line.startswith("layer1 "))
    assert f"{math.prod(analysis.stages[0].output_shape):,}" in stage  # a group shows its output's

    header, first, *_ = csv.reader(io.StringIO(format_csv(analysis)))
    place = before_csv.index("params") + 1
    assert header == [*before_csv[:place], "output_values", "csv_only", *before_csv[place:]]
    assert first[place : place + 2] == [str(math.prod(conv.output_shape))] * 2

    markdown = format_markdown(analysis)
    names, rule = _markdown_headers(markdown)
    assert names == [column.header for column in columns_for(Output.MARKDOWN)]
    assert names[names.index("Params") + 1] == "Values" and rule[names.index("Values")] == "---:"
    assert f" {figure} |" in markdown.splitlines()[2]

    rows = json.loads(format_json(analysis))["rows"]
    assert list(rows[0])[-1] == "output_values"  # after LayerRow's own fields
    assert rows[0]["output_values"] == math.prod(conv.output_shape)
    assert "csv_only" not in rows[0] and "csv_only" not in table and "csv_only" not in markdown


def test_a_column_taken_out_of_an_output_leaves_it(monkeypatch: pytest.MonkeyPatch) -> None:
    analysis = analyze(preset("cifar/resnet20"))
    without_jump = tuple(
        replace(column, outputs=column.outputs - {Output.TEXT_TABLE}) if column.key == "jump" else column
        for column in LAYER_COLUMNS
    )
    monkeypatch.setattr(columns, "LAYER_COLUMNS", without_jump)
    assert "jump" not in _text_headers(format_table(analysis))
    assert "jump" in next(csv.reader(io.StringIO(format_csv(analysis))))


# The comparison's metrics


STEP = BenchFigures("cpu", 8, 120.0, 4.0, 66.7, mode="train", optimizer="adamw")
FORWARD = BenchFigures("cpu", 8, 12.5, 0.4, 640.0, mode="inference")


def _timed() -> Comparison:
    comparison = Comparison().add("r20", preset("cifar/resnet20")).add("r32", preset("cifar/resnet32"))
    return comparison.with_bench(0, FORWARD).with_bench(1, FORWARD).with_train_bench(1, STEP)


def test_every_metric_is_declared_whole() -> None:
    keys = [metric.key for metric in METRICS]
    labels = [metric.label for metric in METRICS]
    assert len(set(keys)) == len(keys) and len(set(labels)) == len(labels)
    row = _timed().table()[1]
    for metric in METRICS:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", metric.key) and metric.label.strip(), metric
        assert metric.timing in (None, "bench", "train_bench"), metric.key
        assert not metric.spread or metric.timing is not None, f"{metric.key}: a spread is a timing's"
        assert metric.note is None or metric.note.strip(), metric.key
        assert isinstance(row.cells[metric.key].value, (int, float)), metric.key


def _table_labels(text: str) -> list[str]:
    lines = text.splitlines()[2:]
    return [re.split(r"\s{2,}", line)[0] for line in lines if line and not line.startswith(" ")]


def _comparison_outputs(comparison: Comparison) -> dict[str, list[str]]:
    text = COMPARISON_FORMATTERS["table"](comparison)
    metric_lines = text.splitlines()[: 2 + 2 * len(shown_metrics(comparison))]
    header = next(csv.reader(io.StringIO(COMPARISON_FORMATTERS["csv"](comparison))))
    markdown = COMPARISON_FORMATTERS["markdown"](comparison).split("\n\n")[0].splitlines()[2:]
    table = json.loads(COMPARISON_FORMATTERS["json"](comparison))["table"]
    return {
        "table": _table_labels("\n".join(metric_lines)),
        "csv": header[2 : 2 + len(shown_metrics(comparison))],
        "markdown": [line.split("|")[1].strip() for line in markdown],
        "json": [key for key in table[0] if key not in ("variant", "baseline")],
    }


@pytest.mark.parametrize("timed", [False, True])
def test_each_comparison_output_shows_the_metrics_declared(timed: bool) -> None:
    comparison = _timed() if timed else Comparison().add("a", preset("resnet18")).add("b", preset("resnet34"))
    shown = shown_metrics(comparison)
    outputs = _comparison_outputs(comparison)
    assert outputs["table"] == outputs["markdown"] == [metric.label for metric in shown]
    assert outputs["csv"] == [metric.key for metric in shown]
    assert outputs["json"] == [metric.key for metric in METRICS]  # every figure, timed or not


def test_a_metric_added_to_the_declaration_shows_in_every_comparison_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stages = Metric("stages", "Stages", lambda variant, analysis: len(analysis.stages), judged=False)
    monkeypatch.setattr(compare_module, "METRICS", (*METRICS[:2], stages, *METRICS[2:]))
    outputs = _comparison_outputs(_timed())
    assert outputs["table"][2] == outputs["markdown"][2] == "Stages"
    assert outputs["csv"][2] == "stages" and outputs["json"][2] == "stages"
