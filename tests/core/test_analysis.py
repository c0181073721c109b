"""Analysis facts that follow from the architecture by hand."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings

from explorer.core.analysis import analyze
from explorer.core.presets import PRESET_NAMES, preset
from explorer.core.render.table import format_table
from explorer.core.spec import ArchSpec
from tests.strategies import small_specs


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_column_sums_equal_the_totals(name: str) -> None:
    analysis = analyze(preset(name))
    totals = analysis.totals
    assert sum(row.params for row in analysis.rows) == totals.total_params
    assert sum(row.macs for row in analysis.rows) == totals.macs
    stem_and_head = sum(row.params for row in analysis.rows if row.stage is None)
    assert sum(stage.params for stage in analysis.stages) + stem_and_head == totals.total_params
    for stage in analysis.stages:
        assert sum(block.params for block in stage.blocks) == stage.params
        assert len(stage.blocks) == stage.depth


@settings(max_examples=100, deadline=None)
@given(spec=small_specs(max_stages=6))
def test_generated_specs_have_consistent_rows(spec: ArchSpec) -> None:
    analysis = analyze(spec)
    for row in analysis.rows:
        for source in row.inputs:
            assert source < row.index
        if row.op != "block":
            assert row.output_bytes == 4 * _volume(row.output_shape)
    blocks = [block for stage in analysis.stages for block in stage.blocks]
    assert len(blocks) == sum(spec.depths)
    assert sum(1 for row in analysis.rows if row.op == "add") == len(blocks)


def _volume(shape: tuple[int, ...]) -> int:
    out = 1
    for side in shape:
        out *= side
    return out


def test_receptive_field_and_jump_of_a_small_network_by_hand() -> None:
    # 3x3 stem: RF 3. Block 1 (stride 1): two 3x3 convs, RF 5 then 7. Block 2 (stride 2):
    # the first 3x3 conv at jump 1 gives RF 9 and jump 2; the second, at jump 2, RF 13.
    spec = ArchSpec(depths=(1, 1), widths=(4, 8), input_size=(8, 8))
    rows = {row.name: row for row in analyze(spec).rows if row.op == "conv"}
    assert (rows["conv1"].receptive_field, rows["conv1"].jump) == (3, 1)
    assert (rows["layer1.0.conv2"].receptive_field, rows["layer1.0.conv2"].jump) == (7, 1)
    assert (rows["layer2.0.conv1"].receptive_field, rows["layer2.0.conv1"].jump) == (9, 2)
    assert (rows["layer2.0.conv2"].receptive_field, rows["layer2.0.conv2"].jump) == (13, 2)
    assert (rows["layer2.0.shortcut.0"].receptive_field, rows["layer2.0.shortcut.0"].jump) == (7, 2)


def test_depth_counts_weighted_layers_on_the_main_path() -> None:
    assert analyze(preset("torchvision/resnet50")).totals.depth == 50
    assert analyze(preset("resnet18")).totals.depth == 17  # no classifier in the notebook


def test_residual_adds_take_their_shortcut_from_the_block_input() -> None:
    analysis = analyze(preset("resnet18"))
    for stage in analysis.stages:
        for block in stage.blocks:
            add = next(r for r in analysis.rows[block.first_row : block.last_row + 1] if r.op == "add")
            block_row = analysis.rows[block.last_row]
            shortcut_source = add.inputs[1]
            if block.shortcut == "identity":
                assert shortcut_source == block_row.inputs[0]
            else:
                assert analysis.rows[shortcut_source].role == "shortcut"


def test_analysis_needs_no_torch() -> None:
    code = (
        "import sys; from explorer import analyze, ArchSpec; analyze(ArchSpec(block='bottleneck')); "
        "from explorer.core.render.table import format_torchsummary; "
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("resnet18", "17 weighted layers (no fc)"),
        ("resnet50", "49 weighted layers (no fc)"),
        ("torchvision/resnet18", "18 weighted layers"),
        ("torchvision/resnet50", "50 weighted layers"),
    ],
)
def test_the_depth_says_what_it_counts(name: str, words: str) -> None:
    analysis = analyze(preset(name))
    assert analysis.depth_text == words
    assert f"Depth: {words}\n" in format_table(analysis)
    assert analysis.depth_text.startswith(str(analysis.totals.depth))
