"""Fold groups: runs of consecutive blocks of a stage that a diagram draws alike.

The ResNet paper's Table 1 writes each stage's block once with its repeat count; a diagram
can do the same for the blocks it would draw identically. Two blocks are alike when every
layer of theirs agrees in everything a diagram shows or computes from (its op, role, label,
kernel, stride, padding, groups, dilation, shapes, parameters, MACs and bytes, and where
its inputs come from within the block) and the blocks agree in kind, widths, stride,
dilation and shortcut. Only a layer's name and its block's place differ, and a drop-path
step's rate, which grows block by block (timm's linear rule) and which a folded drawing
gives as the range it spans.

The first block of a stage usually changes the shape (with its projection or zero-pad
shortcut), so it differs from the rest and stays a group of its own; one that does not
(a stride-1 stage whose width does not change) folds with them, as Table 1 counts it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from explorer.core.analysis import LayerRow, analyze
from explorer.core.ops import OPS
from explorer.core.plan import NETWORK_INPUT, PlannedBlock, layer_plan
from explorer.core.spec import ArchSpec

Fold = Literal["none", "repeats"]
FOLDS: tuple[Fold, ...] = ("none", "repeats")

# Where a block's layer reads a tensor from outside the block (its input, or the network's).
_OUTSIDE = "outside"


@dataclass(frozen=True, slots=True)
class FoldGroup:
    """Consecutive alike blocks of one stage, drawn once with the repeat mark ``×N``.

    ``id`` names the stage and the blocks' indices ("layer3.1-35"); it is the prefix of the
    ids of the nodes and edges that draw the group folded, and stays the same while the
    group's blocks do. ``first_row`` to ``last_row`` are the analysis rows of all its blocks.
    """

    id: str
    stage: int
    blocks: tuple[str, ...]
    first_row: int
    last_row: int

    @property
    def repeat(self) -> int:
        return len(self.blocks)

    @property
    def rows(self) -> range:
        return range(self.first_row, self.last_row + 1)

    @property
    def label(self) -> str:
        """The blocks it stands for in words: "layer3.1–35"."""
        return f"{self.blocks[0]}\u2013{self.blocks[-1].rsplit('.', 1)[1]}"


def _relative(source: int, first: int, last: int) -> int | str:
    return source - first if source != NETWORK_INPUT and first <= source <= last else _OUTSIDE


def _drawn_label(row: LayerRow) -> str:
    # The drop-path rate is the one thing alike blocks may differ in: it is left out of the
    # likeness and shown as a range where the group is drawn.
    return OPS[row.op].label(row if row.rate is None else dataclasses.replace(row, rate=None))


def row_signature(row: LayerRow, first: int, last: int) -> tuple[object, ...]:
    """What a diagram shows of a layer, or computes from it, apart from its name and place."""
    return (
        row.op,
        row.role,
        row.type,
        row.stage,
        _drawn_label(row),
        tuple(_relative(source, first, last) for source in row.inputs),
        row.input_shape,
        row.output_shape,
        row.kernel_size,
        row.stride,
        row.padding,
        row.groups,
        row.dilation,
        row.params,
        row.trainable_params,
        row.macs,
        row.output_bytes,
    )


def block_signature(block: PlannedBlock, rows: Sequence[LayerRow]) -> tuple[object, ...]:
    """Equal for two blocks exactly when a diagram draws them alike (see the module's doc)."""
    first, last = block.first_layer, block.last_layer
    return (
        block.stage,
        block.type_name,
        block.in_channels,
        block.inner_channels,
        block.out_channels,
        block.stride,
        block.dilation,
        block.shortcut,
        _relative(block.merge_layer, first, last),
        _relative(block.shortcut_source, first, last),
        _relative(block.output_layer, first, last),
        tuple(row_signature(row, first, last) for row in rows[first : last + 1]),
    )


def _group_id(blocks: Sequence[PlannedBlock]) -> str:
    return f"{blocks[0].name}-{blocks[-1].index}"


def fold_runs(blocks: Sequence[PlannedBlock], rows: Sequence[LayerRow]) -> tuple[FoldGroup, ...]:
    """The runs of two or more consecutive alike blocks of a stage, in order."""
    runs: list[list[PlannedBlock]] = []
    previous: tuple[object, ...] | None = None
    for block in blocks:
        signature = block_signature(block, rows)
        if runs and signature == previous:
            runs[-1].append(block)
        else:
            runs.append([block])
        previous = signature
    return tuple(
        FoldGroup(
            _group_id(run),
            run[0].stage,
            tuple(block.name for block in run),
            run[0].first_layer,
            run[-1].last_layer,
        )
        for run in runs
        if len(run) > 1
    )


def fold_groups(spec: ArchSpec) -> tuple[FoldGroup, ...]:
    """The fold groups of ``spec``: every run of two or more alike blocks of a stage."""
    return fold_runs(layer_plan(spec).blocks, analyze(spec).rows)
