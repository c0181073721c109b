"""The Layers tab and the Compare tab show the columns their declarations name: the ones
declared today, and one added to the declaration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from explorer.core import compare as compare_module
from explorer.core.analysis import analyze
from explorer.core.columns import PROFILE_COLUMNS, Output, columns_for
from explorer.core.compare import METRICS, BenchFigures, Comparison, Metric, shown_metrics
from explorer.core.presets import preset
from explorer.core.profile import GroupTime, LayerTime
from explorer.gui.models.comparison_table import ComparisonTableModel
from explorer.gui.models.layer_tree import LayerTreeModel

DISPLAY = Qt.ItemDataRole.DisplayRole
TIP = Qt.ItemDataRole.ToolTipRole


def _headers(model, role=DISPLAY) -> list[object]:  # type: ignore[no-untyped-def]
    return [model.headerData(s, Qt.Orientation.Horizontal, role) for s in range(model.columnCount())]


def _profile_of(analysis):  # type: ignore[no-untyped-def]
    """A profile's figures, made up: the tab reads its layers', blocks' and stages' times."""
    layers = [
        LayerTime(
            row.index, row.name, row.type, row.stage, None, True, 1e-4, 0.01, row.macs, 2.5, 1.0, 1e-4, None
        )
        for row in analysis.rows
    ]
    groups = [
        GroupTime(group.name, 0, 0, 2e-3, 0.2, group.macs, None, None, 2e-3, None)
        for stage in analysis.stages
        for group in (stage, *stage.blocks)
    ]
    return SimpleNamespace(spec=analysis.spec, layers=layers, blocks=groups, stages=[])


def test_the_layers_tab_shows_the_columns_declared_for_it() -> None:
    analysis = analyze(preset("cifar/resnet20"))
    model = LayerTreeModel()
    model.set_analysis(analysis)
    declared = columns_for(Output.LAYERS_TAB)
    assert _headers(model) == [column.header for column in declared]
    assert _headers(model, TIP) == [column.description or column.full_title for column in declared]
    right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    aligned = _headers(model, Qt.ItemDataRole.TextAlignmentRole)
    assert [place for place, align in enumerate(aligned) if align == right] == [
        place for place, column in enumerate(declared) if column.align == "right"
    ]
    model.set_profile(_profile_of(analysis))  # type: ignore[arg-type]
    timed = [column for column in PROFILE_COLUMNS if Output.LAYERS_TAB in column.outputs]
    assert _headers(model) == [column.header for column in (*declared, *timed)]
    first_block = model.index(0, 0, model.index(1, 0))
    block_time = next(group for group in _profile_of(analysis).blocks if group.name == "layer1.0")
    assert [first_block.siblingAtColumn(len(declared) + place).data() for place in range(len(timed))] == [
        column.text(block_time) for column in timed
    ]


# A fresh interpreter: the Layers tab lays its columns out once, when its module is imported.
_WITH_A_COLUMN_ADDED = r"""
import json, math
from dataclasses import replace
from explorer.core import columns
from explorer.core.columns import LayerColumn, OfGroup, Output

values = LayerColumn(
    "output_values", "Values", "values per image", frozenset({Output.LAYERS_TAB}),
    raw=lambda row: math.prod(row.output_shape), text=lambda count: f"{count:,}",
    title="Output values", description="How many values each output holds",
    align="right", of_group=OfGroup.OUTPUT, copied=str,
)
keys = [column.key for column in columns.LAYER_COLUMNS]
place = keys.index("params") + 1
columns.LAYER_COLUMNS = (*columns.LAYER_COLUMNS[:place], values, *columns.LAYER_COLUMNS[place:])

from PySide6.QtCore import Qt
from explorer.core.analysis import analyze, analyze_after
from explorer.core.presets import preset
from explorer.gui.app import application
from explorer.gui.models.layer_tree import SORT_ROLE, LayerTreeModel, tree_change
from explorer.gui.panels.layer_view import LayerView
from explorer.gui.session import Session

application()
spec = preset("cifar/resnet20")
view = LayerView(Session(spec))
view.show()
model = view.model
sections = range(model.columnCount())
heads = [model.headerData(s, Qt.Orientation.Horizontal) for s in sections]
tips = [model.headerData(s, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) for s in sections]
column = heads.index("Values")
stem = model.index(0, 0)
conv = model.index(0, 0, stem).siblingAtColumn(column)
view.tree.expandAll()
view.tree.selectAll()

before = analyze(spec)
edited = LayerTreeModel()
edited.set_analysis(before)
kept = edited.apply_change(tree_change(before, analyze_after(before, replace(spec, widths=(24, 32, 64)))))
print(json.dumps({
    "headers": heads,
    "tip": tips[column],
    "conv": conv.data(),
    "sort": conv.data(SORT_ROLE),
    "copied": model.copy_text(conv),
    "tooltip": model.tooltip(conv),
    "stem": stem.siblingAtColumn(column).data(),
    "copied_header": view.selected_text().splitlines()[0],
    "widths": [view.tree.columnWidth(c) for c in range(model.columnCount())],
    "edited": [kept, edited.index(1, 0).siblingAtColumn(column).data()],
}))
"""


def test_a_column_added_to_the_declaration_shows_in_the_layers_tab(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", _WITH_A_COLUMN_ADDED], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout.splitlines()[-1])
    tab = [column.header for column in columns_for(Output.LAYERS_TAB)]
    place = tab.index("Params") + 1
    assert shown["headers"] == [*tab[:place], "Values", *tab[place:]]
    assert shown["tip"] == "How many values each output holds"
    assert (shown["conv"], shown["sort"], shown["copied"]) == ("16,384", 16384, "16384")
    assert "kernel 3" in shown["tooltip"]  # no tip of its own: the row's
    assert shown["stem"] == "16,384"  # a group shows its output's
    titles = [column.full_title for column in columns_for(Output.LAYERS_TAB)]
    assert shown["copied_header"].split("\t") == [*titles[:place], "Output values", *titles[place:]]
    assert len(shown["widths"]) == len(tab) + 1 and all(width > 0 for width in shown["widths"])
    assert shown["edited"] == [True, f"{24 * 32 * 32:,}"]  # the first stage's, after an edit


STEP = BenchFigures("cpu", 8, 120.0, 4.0, 66.7, mode="train", optimizer="adamw")


def _comparison() -> Comparison:
    comparison = Comparison().add("r20", preset("cifar/resnet20")).add("r32", preset("cifar/resnet32"))
    return comparison.with_train_bench(1, STEP)


def test_the_compare_tab_shows_the_metrics_declared_and_one_added(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ComparisonTableModel()
    model.set_comparison(_comparison())
    assert _headers(model) == ["Variant", *(metric.label for metric in shown_metrics(_comparison()))]
    stages = Metric("stages", "Stages", lambda variant, analysis: len(analysis.stages), judged=False)
    monkeypatch.setattr(compare_module, "METRICS", (*METRICS[:2], stages, *METRICS[2:]))
    model.set_comparison(_comparison())
    assert _headers(model)[3] == "Stages"
    assert model.index(1, 3).data() == "3  (+0.0%)"
    assert model.index(1, 3).data(Qt.ItemDataRole.ForegroundRole) is None  # not judged
