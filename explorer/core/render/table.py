"""Text renderings of an Analysis: torchsummary's exact text, a readable table, CSV,
Markdown and JSON. Rendering lives here, never in the data classes."""

from __future__ import annotations

import csv
import io
import json

from explorer.core.analysis import MIB, Analysis, LayerRow, summary_memory_mib
from explorer.core.render.cells import csv_text, markdown_code, markdown_text, one_line
from explorer.core.units import format_bytes, format_count, format_macs, format_receptive_field, format_shape

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


TABLE_COLUMNS = ("layer", "type", "output shape", "params", "MACs", "RF", "jump")


def _layer_label(row: LayerRow) -> str:
    if row.op == "block":
        return row.name
    if row.stage is None:
        return row.name
    return "    " + row.name.split(".", 2)[2]


def row_details(row: LayerRow) -> str:
    """What a row does that its type does not say: a dilation other than 1, a drop-path rate."""
    details = []
    if row.dilation is not None and row.dilation != 1:
        details.append(f"dilation {row.dilation}")
    if row.rate is not None:
        details.append(f"rate {row.rate:.4g}")
    return f", {', '.join(details)}" if details else ""


def _type_label(row: LayerRow) -> str:
    if row.op == "block":
        return row.type
    if row.op == "add":
        return "Add (residual)"
    type_name = row.type or row.op  # a functional step with no module type, such as a mean
    if row.summary_id is None:
        return f"{type_name} (functional{row_details(row)})"
    if row.role == "shortcut":
        return f"{type_name} (shortcut{row_details(row)})"
    details = row_details(row)
    return f"{type_name} ({details[2:]})" if details else type_name


def _table_lines(analysis: Analysis) -> list[tuple[str, ...]]:
    """Rows grouped stage > block > layer: each block's header precedes its layers."""
    lines: list[tuple[str, ...]] = []
    stage_by_index = {stage.index: stage for stage in analysis.stages}
    block_starting_at = {b.first_row: b for s in analysis.stages for b in s.blocks}
    current_stage = None
    for row in analysis.rows:
        if row.stage is not None and row.stage != current_stage:
            current_stage = row.stage
            stage = stage_by_index[row.stage]
            lines.append(
                (
                    stage.name,
                    f"stage: {stage.depth} x {stage.blocks[0].type}, /{stage.stride}",
                    format_shape(stage.output_shape),
                    f"{stage.params:,}",
                    f"{stage.macs:,}",
                    "",
                    "",
                )
            )
        if row.op == "block":
            continue
        block = block_starting_at.get(row.index)
        if block is not None:
            lines.append(
                (
                    f"  {block.name}",
                    f"{block.type}, {block.shortcut} shortcut"
                    + (f", dilation {block.dilation}" if block.dilation != 1 else ""),
                    format_shape(block.output_shape),
                    f"{block.params:,}",
                    f"{block.macs:,}",
                    "",
                    "",
                )
            )
        lines.append(
            (
                _layer_label(row),
                _type_label(row),
                format_shape(row.output_shape),
                f"{row.params:,}",
                f"{row.macs:,}",
                format_receptive_field(row.receptive_field, row.sees_whole_input, grouped=False),
                str(row.jump),
            )
        )
    return lines


def format_table(analysis: Analysis) -> str:
    """A readable hierarchical table with MACs and receptive field, then the totals."""
    body = [tuple(one_line(cell) for cell in line) for line in _table_lines(analysis)]
    widths = [max(len(col), *(len(line[i]) for line in body)) for i, col in enumerate(TABLE_COLUMNS)]
    right = {3, 4, 5, 6}

    def fmt(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(cells)
        ).rstrip()

    rule = "-" * len(fmt(tuple("x" * w for w in widths)))
    out = [fmt(TABLE_COLUMNS), rule, *(fmt(line) for line in body), rule]
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


CSV_COLUMNS = (
    "index",
    "name",
    "type",
    "summary_id",
    "role",
    "stage",
    "block",
    "input_shape",
    "output_shape",
    "kernel_size",
    "stride",
    "padding",
    "groups",
    "params",
    "trainable_params",
    "macs",
    "receptive_field",
    "sees_whole_input",
    "jump",
    "output_bytes",
    "dilation",
    "rate",
)


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
    writer.writerow(CSV_COLUMNS)
    for row in analysis.rows:
        writer.writerow([_cell(getattr(row, column)) for column in CSV_COLUMNS])
    return buffer.getvalue()


def format_markdown(analysis: Analysis) -> str:
    header = ("Layer", "Type", "Output shape", "Params", "MACs", "RF")
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---", "---", "---", "---:", "---:", "---:"]) + "|",
    ]
    for row in analysis.rows:
        name = f"**{markdown_text(row.name)}**" if row.op == "block" else markdown_code(row.name)
        cells = (
            name,
            markdown_text(_type_label(row)),
            format_shape(row.output_shape),
            f"{row.params:,}",
            f"{row.macs:,}",
            format_receptive_field(row.receptive_field, row.sees_whole_input, grouped=False),
        )
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- {line}" for line in _totals_lines(analysis)]
    return "\n".join(lines) + "\n"


def format_json(analysis: Analysis) -> str:
    return json.dumps(analysis.to_dict(), indent=2) + "\n"


FORMATTERS = {
    "table": format_table,
    "torchsummary": format_torchsummary,
    "csv": format_csv,
    "markdown": format_markdown,
    "json": format_json,
}
