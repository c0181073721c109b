"""Text renderings of a Comparison: an aligned table, CSV, Markdown and JSON."""

from __future__ import annotations

import csv
import io
import json

from explorer.core.compare import Cell, Comparison, Metric, shown_metrics
from explorer.core.diff import spec_diff
from explorer.core.render.cells import csv_text, markdown_text, one_line


def _value(metric: Metric, cell: Cell) -> str:
    if cell.value is None:
        return "-"
    return f"{int(cell.value):,}" if metric.integer else f"{cell.value:,.2f}"


def _delta(metric: Metric, cell: Cell) -> str:
    if cell.delta is None:
        return ""
    number = f"{int(cell.delta):+,}" if metric.integer else f"{cell.delta:+,.2f}"
    if cell.delta_percent is None:
        return number
    return f"{number} ({cell.delta_percent:+.1f}%)"


def _shown_metrics(comparison: Comparison) -> list[Metric]:
    return shown_metrics(comparison)


def format_comparison_table(comparison: Comparison) -> str:
    """One column per variant, one row per figure, each with its delta against the baseline."""
    rows = comparison.table()
    metrics = _shown_metrics(comparison)
    header = ["", *(one_line(row.variant.name) + (" (baseline)" if row.is_baseline else "") for row in rows)]
    body = []
    for metric in metrics:
        body.append([metric.label, *(_value(metric, row.cells[metric.key]) for row in rows)])
        body.append(["", *("" if row.is_baseline else _delta(metric, row.cells[metric.key]) for row in rows)])
    devices = {v.bench.device + f", batch {v.bench.batch_size}" for v in comparison.variants if v.bench}
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line)
        ).rstrip()
        for line in [header, *body]
    ]
    lines.insert(1, "-" * len(lines[0]))
    if devices:
        lines.append(f"timed on: {'; '.join(sorted(devices))}")
    for i, variant in enumerate(comparison.variants):
        if i != comparison.baseline:
            base = comparison.variants[comparison.baseline]
            for text in spec_diff(base.spec, variant.spec).describe():
                lines.append(f"{one_line(variant.name)} vs {one_line(base.name)}: {text}")
    return "\n".join(lines) + "\n"


def format_comparison_csv(comparison: Comparison) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    metrics = _shown_metrics(comparison)
    writer.writerow(
        ["variant", "baseline", *(m.key for m in metrics), *(f"{m.key}_delta_percent" for m in metrics)]
    )
    for row in comparison.table():
        values = [row.cells[m.key].value for m in metrics]
        percents = [row.cells[m.key].delta_percent for m in metrics]
        writer.writerow(
            [
                csv_text(row.variant.name),
                "yes" if row.is_baseline else "",
                *(
                    "" if v is None else (int(v) if m.integer else f"{v:.4f}")
                    for m, v in zip(metrics, values, strict=True)
                ),
                *("" if p is None else f"{p:.2f}" for p in percents),
            ]
        )
    return buffer.getvalue()


def format_comparison_markdown(comparison: Comparison) -> str:
    rows = comparison.table()
    metrics = _shown_metrics(comparison)
    header = [
        "",
        *(f"**{markdown_text(r.variant.name)}**" + (" (baseline)" if r.is_baseline else "") for r in rows),
    ]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * len(rows)]
    for metric in metrics:
        cells = []
        for row in rows:
            cell = row.cells[metric.key]
            percent = cell.delta_percent
            shown = not row.is_baseline and percent is not None
            cells.append(_value(metric, cell) + (f" ({percent:+.1f}%)" if shown else ""))
        lines.append(f"| {metric.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def format_comparison_json(comparison: Comparison) -> str:
    data = comparison.to_dict()
    data["table"] = [
        {
            "variant": row.variant.name,
            "baseline": row.is_baseline,
            **{
                key: {"value": cell.value, "delta": cell.delta, "delta_percent": cell.delta_percent}
                for key, cell in row.cells.items()
            },
        }
        for row in comparison.table()
    ]
    return json.dumps(data, indent=2) + "\n"


COMPARISON_FORMATTERS = {
    "table": format_comparison_table,
    "csv": format_comparison_csv,
    "markdown": format_comparison_markdown,
    "json": format_comparison_json,
}
