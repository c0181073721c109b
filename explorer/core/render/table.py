"""Text renderings of an Analysis: torchsummary's exact text, a readable table, CSV,
Markdown and JSON. Rendering lives here, never in the data classes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import replace

from explorer.core.analysis import MIB, Analysis, LayerRow, summary_memory_mib
from explorer.core.columns import LayerColumn, OfGroup, Output, columns_for
from explorer.core.jsonable import plain
from explorer.core.render.cells import csv_text, markdown_code, markdown_text, one_line
from explorer.core.units import format_bytes, format_count, format_macs, format_shape

_RULE = "-" * 64
_DOUBLE_RULE = "=" * 64


def _summary_shape(shape: tuple[int, ...], batch_size: int) -> str:
    return str([batch_size, *shape])


def format_torchsummary(analysis: Analysis, batch_size: int = -1) -> str:
    """The text ``torchsummary.summary(model, input_size, batch_size)`` prints, byte for byte."""
    rows = analysis.summary_rows
    lines = [_RULE, "{:>20}  {:>25} {:>15}".format("Layer (type)", "Output Shape", "Param #"), _DOUBLE_RULE]
    for row in rows:
        lines.append(
            "{:>20}  {:>25} {:>15}".format(
                row.summary_id, _summary_shape(row.output_shape, batch_size), f"{row.params:,}"
            )
        )
    totals = analysis.totals
    input_mib, output_mib, params_mib, total_mib = summary_memory_mib(
        analysis.spec.input_shape, [row.output_shape for row in rows], totals.total_params, batch_size
    )
    lines += [
        _DOUBLE_RULE,
        f"Total params: {totals.total_params:,}",
        f"Trainable params: {totals.trainable_params:,}",
        f"Non-trainable params: {totals.total_params - totals.trainable_params:,}",
        _RULE,
        "Input size (MB): %0.2f" % input_mib,
        "Forward/backward pass size (MB): %0.2f" % output_mib,
        "Params size (MB): %0.2f" % params_mib,
        "Estimated Total Size (MB): %0.2f" % total_mib,
        _RULE,
    ]
    return "\n".join(lines) + "\n"


def _layer_label(row: LayerRow) -> str:
    if row.op == "block":
        return row.name
    if row.stage is None:
        return row.name
    return "    " + row.name.split(".", 2)[2]


def _text_header(header: str) -> str:
    """The text table's headers are lower case, but for an acronym's capitals ("MACs", "RF")."""
    if header[1:2].isupper():
        return header
    return header[:1].lower() + header[1:]


def _heading_cell(column: LayerColumn, name: str, kind: str) -> str:
    return name if column.key == "name" else kind


def _group_cell(column: LayerColumn, rows: Sequence[LayerRow]) -> str:
    """A group's cell on its heading, above its layers: its totals and its output only."""
    if column.of_group not in (OfGroup.TOTAL, OfGroup.OUTPUT):
        return ""
    return column.text(column.group_value(rows))


def _group_line(
    columns: tuple[LayerColumn, ...], name: str, kind: str, rows: Sequence[LayerRow]
) -> list[str]:
    return [
        _heading_cell(column, name, kind) if column.heading else _group_cell(column, rows)
        for column in columns
    ]


def _table_lines(analysis: Analysis, columns: tuple[LayerColumn, ...]) -> list[list[str]]:
    """Rows grouped stage > block > layer: each block's header precedes its layers."""
    lines: list[list[str]] = []
    rows = analysis.rows
    stage_by_index = {stage.index: stage for stage in analysis.stages}
    block_starting_at = {b.first_row: b for s in analysis.stages for b in s.blocks}
    current_stage = None
    for row in rows:
        if row.stage is not None and row.stage != current_stage:
            current_stage = row.stage
            stage = stage_by_index[row.stage]
            kind = f"stage: {stage.depth} x {stage.blocks[0].type}, /{stage.stride}"
            members = rows[stage.blocks[0].first_row : stage.blocks[-1].last_row + 1]
            lines.append(_group_line(columns, stage.name, kind, members))
        if row.op == "block":
            continue
        block = block_starting_at.get(row.index)
        if block is not None:
            kind = f"{block.type}, {block.shortcut} shortcut" + (
                f", dilation {block.dilation}" if block.dilation != 1 else ""
            )
            members = rows[block.first_row : block.last_row + 1]
            lines.append(_group_line(columns, f"  {block.name}", kind, members))
        lines.append(
            [
                _layer_label(row) if column.key == "name" else column.text(column.cell_value(row))
                for column in columns
            ]
        )
    return lines


def format_table(analysis: Analysis) -> str:
    """A readable hierarchical table with MACs and receptive field, then the totals."""
    columns = columns_for(Output.TEXT_TABLE)
    headers = [_text_header(column.header) for column in columns]
    body = [[one_line(cell) for cell in line] for line in _table_lines(analysis, columns)]
    widths = [max(len(header), *(len(line[i]) for line in body)) for i, header in enumerate(headers)]
    right = {i for i, column in enumerate(columns) if column.align == "right"}

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(cells)
        ).rstrip()

    rule = "-" * len(fmt(["x" * w for w in widths]))
    out = [fmt(headers), rule, *(fmt(line) for line in body), rule]
    out += _totals_lines(analysis)
    return "\n".join(out) + "\n"


def _last_field_text(pixels: int, sees_whole_input: bool) -> str:
    if not sees_whole_input:
        return f"{pixels} px"
    return (
        f"global (each output sees the whole input through the attention's global pooling; "
        f"{pixels} px through the convolutions)"
    )


def _totals_lines(analysis: Analysis) -> list[str]:
    t = analysis.totals
    spec = analysis.spec
    return [
        f"Input: {format_shape(spec.input_shape)}   Output: {format_shape(t.output_shape)}   "
        f"Depth: {analysis.depth_text}",
        f"Params: {t.total_params:,} ({format_count(t.total_params)}); trainable {t.trainable_params:,}, "
        f"non-trainable {t.non_trainable_params:,}",
        f"MACs: {t.macs:,} ({format_macs(t.macs)}) per image",
        f"Receptive field of the last layer: {_last_field_text(t.receptive_field, t.sees_whole_input)}",
        f"Memory (torchsummary, float32): input {format_bytes(t.input_size_mib * MIB)}, forward/backward "
        f"{format_bytes(t.forward_backward_size_mib * MIB)}, params {format_bytes(t.params_size_mib * MIB)}, "
        f"total {format_bytes(t.total_size_mib * MIB)}",
    ]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    if isinstance(value, str):
        return csv_text(value)
    return str(value)


def format_csv(analysis: Analysis) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = columns_for(Output.CSV)
    writer.writerow([column.key for column in columns])
    for row in analysis.rows:
        writer.writerow([_cell(column.raw_value(row)) for column in columns])
    return buffer.getvalue()


def _markdown_cell(column: LayerColumn, row: LayerRow) -> str:
    if column.key == "name":
        return f"**{markdown_text(row.name)}**" if row.op == "block" else markdown_code(row.name)
    value = column.cell_value(row)
    # Text (a type, a name) may hold markup; the text of a number or a shape is made here.
    return markdown_text(value) if isinstance(value, str) else column.text(value)


def format_markdown(analysis: Analysis) -> str:
    columns = columns_for(Output.MARKDOWN)
    lines = [
        "| " + " | ".join(column.header for column in columns) + " |",
        "|" + "|".join("---:" if column.align == "right" else "---" for column in columns) + "|",
    ]
    for row in analysis.rows:
        lines.append("| " + " | ".join(_markdown_cell(column, row) for column in columns) + " |")
    lines.append("")
    lines += [f"- {line}" for line in _totals_lines(analysis)]
    return "\n".join(lines) + "\n"


def format_json(analysis: Analysis) -> str:
    columns = columns_for(Output.JSON)
    data = replace(analysis, rows=()).to_dict()  # the rows are the columns' to write
    data["rows"] = [{column.key: plain(column.raw_value(row)) for column in columns} for row in analysis.rows]
    return json.dumps(data, indent=2) + "\n"


FORMATTERS = {
    "table": format_table,
    "torchsummary": format_torchsummary,
    "csv": format_csv,
    "markdown": format_markdown,
    "json": format_json,
}
