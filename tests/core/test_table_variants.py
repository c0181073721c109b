"""The text table shows the variants' rows: attention steps, drop-path rates and dilations."""

from __future__ import annotations

from dataclasses import replace

from explorer.core.analysis import analyze
from explorer.core.presets import preset
from explorer.core.render.table import format_csv, format_markdown, format_table


def _analysis():  # type: ignore[no-untyped-def]
    spec = replace(preset("timm/seresnet50"), drop_path=0.1, output_stride=16, input_size=(64, 64))
    return analyze(spec)


def test_every_row_has_a_type_and_drop_path_rates_and_dilations_show() -> None:
    analysis = _analysis()
    table = format_table(analysis)
    lines = table.splitlines()
    mean = next(line for line in lines if "se.mean" in line)
    assert "mean (functional)" in mean
    rates = [row.rate for row in analysis.rows if row.rate is not None]
    assert rates and max(rates) > 0
    assert f"DropPath (rate {max(rates):.4g})" in table
    dilated = next(row for row in analysis.rows if row.dilation not in (None, 1))
    assert f"dilation {dilated.dilation}" in table
    assert any("layer4.1" in line and f"dilation {dilated.dilation}" in line for line in lines)
    assert f"rate {max(rates):.4g}" in format_markdown(analysis)


def test_the_csv_has_the_dilation_and_the_rate() -> None:
    analysis = _analysis()
    header, *rows = format_csv(analysis).splitlines()
    assert header.split(",")[-2:] == ["dilation", "rate"]
    assert len(rows) == len(analysis.rows)


def test_rows_after_an_attention_gate_show_a_global_receptive_field() -> None:
    analysis = _analysis()
    gate = next(row for row in analysis.rows if row.name == "layer1.0.se.mean")
    table = format_table(analysis)
    mean = next(line for line in table.splitlines() if "se.mean" in line)
    assert f"global ({gate.receptive_field})" in mean
    assert "Receptive field of the last layer: global (each output sees the whole input" in table
    assert f"global ({gate.receptive_field})" in format_markdown(analysis)
    header, *rows = format_csv(analysis).splitlines()
    column = header.split(",").index("sees_whole_input")
    assert [row.split(",")[column] for row in rows] == [str(row.sees_whole_input) for row in analysis.rows]
    assert analysis.to_dict()["rows"][gate.index]["sees_whole_input"] is True
    plain = analyze(replace(analysis.spec, attention="none", se_ratio=1 / 16))
    assert "global" not in format_table(plain)
