"""Text renderings of a Comparison: an aligned table, CSV, Markdown and JSON."""

from __future__ import annotations

import csv
import io
import json

from explorer.core.compare import BenchFigures, Cell, Comparison, Metric, shown_metrics
from explorer.core.diff import spec_diff
from explorer.core.render.cells import csv_text, markdown_text, one_line
from explorer.core.units import format_receptive_field


def _value(metric: Metric, cell: Cell) -> str:
    if cell.value is None:
        return "-"
    if cell.whole_input:
        return format_receptive_field(int(cell.value), True)
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


# A timing's conditions, as CSV columns after its kind ("bench_mode", "train_bench_optimizer").
_CONDITIONS = ("mode", "optimizer", "dtype", "amp", "layout", "batch_size", "device", "threads", "compiled")


def _timings(comparison: Comparison) -> list[tuple[str, str]]:
    """The timing kinds some variant has, with what each times."""
    kinds = (("bench", "forward pass"), ("train_bench", "training step"))
    return [(key, what) for key, what in kinds if any(getattr(v, key) for v in comparison.variants)]


def conditions_lines(comparison: Comparison) -> list[str]:
    """Every timing's conditions, a line per variant and kind: figures without them mislead."""
    lines = []
    for key, what in _timings(comparison):
        for variant in comparison.variants:
            figures: BenchFigures | None = getattr(variant, key)
            if figures is not None:
                lines.append(f"{one_line(variant.name)} {what} timed under: {figures.conditions()}")
    return lines


def format_comparison_table(comparison: Comparison) -> str:
    """One column per variant, one row per figure, each with its delta against the baseline."""
    rows = comparison.table()
    metrics = _shown_metrics(comparison)
    header = ["", *(one_line(row.variant.name) + (" (baseline)" if row.is_baseline else "") for row in rows)]
    body = []
    for metric in metrics:
        body.append([metric.label, *(_value(metric, row.cells[metric.key]) for row in rows)])
        body.append(["", *("" if row.is_baseline else _delta(metric, row.cells[metric.key]) for row in rows)])
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line)
        ).rstrip()
        for line in [header, *body]
    ]
    lines.insert(1, "-" * len(lines[0]))
    lines.extend(conditions_lines(comparison))
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
    timings = [key for key, _ in _timings(comparison)]
    writer.writerow(
        [
            "variant",
            "baseline",
            *(m.key for m in metrics),
            *(f"{m.key}_delta_percent" for m in metrics),
            *(f"{m.key}_sees_whole_input" for m in metrics if m.whole_input is not None),
            *(f"{key}_{name}" for key in timings for name in _CONDITIONS),
        ]
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
                *(
                    "yes" if row.cells[m.key].whole_input else "no"
                    for m in metrics
                    if m.whole_input is not None
                ),
                *(
                    _condition_cell(getattr(row.variant, key), name)
                    for key in timings
                    for name in _CONDITIONS
                ),
            ]
        )
    return buffer.getvalue()


def _condition_cell(figures: BenchFigures | None, name: str) -> str:
    """A condition as CSV text: empty when the variant has no such timing or it was not recorded."""
    value = None if figures is None else getattr(figures, name)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return csv_text(str(value))


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
    conditions = conditions_lines(comparison)
    if conditions:
        lines.append("")
        lines.extend(f"- {markdown_text(line)}" for line in conditions)
    return "\n".join(lines) + "\n"


def format_comparison_json(comparison: Comparison) -> str:
    data = comparison.to_dict()
    data["table"] = [
        {
            "variant": row.variant.name,
            "baseline": row.is_baseline,
            **{
                key: {
                    "value": cell.value,
                    "delta": cell.delta,
                    "delta_percent": cell.delta_percent,
                    **({"sees_whole_input": cell.whole_input} if cell.whole_input else {}),
                }
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
