"""analyze(spec): every layer's shapes, parameters, MACs and receptive field.

A pure-Python pass over the layer plan: no weights, no forward pass, no torch.
Parameters are counted the way torchsummary counts them (a module's own ``weight``
and ``bias``), MACs the way ``torch.utils.flop_counter`` does (convolutions and
linear layers only, one MAC per multiply-add), and the memory figures follow
torchsummary's formulas to the last bit so that its text can be reproduced exactly.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from explorer.core.jsonable import plain
from explorer.core.ops import OPS, Op
from explorer.core.plan import (
    NETWORK_INPUT,
    LayerPlan,
    PlannedBlock,
    layer_plan,
    layer_plan_after,
    step_shape,
)
from explorer.core.sizecache import size_bounded_cache
from explorer.core.spec import ArchSpec

BYTES_PER_VALUE = 4  # float32, as torchsummary assumes
MIB = 1024**2.0
# About three analyses of the largest spec allowed (some 34,000 rows each), or many small ones.
MAX_CACHED_ANALYSIS_ROWS = 100_000

Shape = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LayerRow:
    """One step of the forward pass, in execution order.

    ``params`` are the parameters the module holds itself (a block row holds none;
    its totals are in ``BlockSummary``). ``summary_id`` is torchsummary's row name
    (``Conv2d-5``), ``None`` for functional steps that torchsummary does not see.
    ``macs`` are per sample; ``receptive_field`` and ``jump`` are in input pixels.
    ``receptive_field`` is the convolution path's: where ``sees_whole_input``, an attention
    gate's global pooling before the row makes each output depend on the whole input too.
    """

    index: int
    name: str
    type: str
    op: Op
    role: str
    summary_id: str | None
    stage: int | None
    block: int | None
    inputs: tuple[int, ...]
    input_shape: Shape
    output_shape: Shape
    kernel_size: int | None
    stride: int | None
    padding: int | None
    groups: int | None
    params: int
    trainable_params: int
    macs: int
    receptive_field: int
    jump: int
    output_bytes: int
    dilation: int | None = None
    """The spacing of a convolution's taps, where it is not 1 (a dilated stage)."""
    rate: float | None = None
    """A drop-path step's stochastic-depth rate."""
    sees_whole_input: bool = False
    """Whether each output depends on the whole input, through an attention gate's global
    pooling (which scales every position by what it saw everywhere)."""


@dataclass(frozen=True, slots=True)
class BlockSummary:
    name: str
    type: str
    stage: int
    index: int
    shortcut: str
    stride: int
    input_shape: Shape
    output_shape: Shape
    params: int
    macs: int
    first_row: int
    last_row: int
    dilation: int = 1
    drop_path: float = 0.0


@dataclass(frozen=True, slots=True)
class StageSummary:
    name: str
    index: int
    depth: int
    width: int
    stride: int
    input_shape: Shape
    output_shape: Shape
    params: int
    macs: int
    blocks: tuple[BlockSummary, ...]


@dataclass(frozen=True, slots=True)
class Totals:
    """Whole-network figures; the ``_size_mib`` figures are torchsummary's "MB", which are MiB
    (float32, batch 1)."""

    total_params: int
    trainable_params: int
    non_trainable_params: int
    input_size_mib: float
    forward_backward_size_mib: float
    params_size_mib: float
    total_size_mib: float
    macs: int
    depth: int
    output_shape: Shape
    receptive_field: int
    sees_whole_input: bool = False
    """The last layer's: see ``LayerRow.sees_whole_input``."""


@dataclass(frozen=True, slots=True)
class RunningTotals:
    """The whole-network sums after each row, so that an edit adds up only the rows it changed.

    ``params``, ``trainable`` and ``outputs`` (values in the output, as torchsummary's
    memory figure counts them) cover the rows torchsummary sees; ``macs`` every row;
    ``depth`` the weighted layers on the main path.
    """

    params: tuple[int, ...] = ()
    trainable: tuple[int, ...] = ()
    outputs: tuple[int, ...] = ()
    macs: tuple[int, ...] = ()
    depth: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Analysis:
    spec: ArchSpec
    rows: tuple[LayerRow, ...]
    stages: tuple[StageSummary, ...]
    totals: Totals
    running: RunningTotals = field(default=RunningTotals(), compare=False, repr=False)

    @property
    def depth_counted(self) -> str:
        """What ``totals.depth`` counts, in the words the app shows beside it.

        A name such as resnet18 counts the classifier; a network without one has a
        layer less, and says so rather than surprise whoever knows the name.
        """
        return "weighted layers" if self.spec.num_classes else "weighted layers (no fc)"

    @property
    def depth_text(self) -> str:
        """The depth with what it counts: "18 weighted layers", "17 weighted layers (no fc)"."""
        return f"{self.totals.depth} {self.depth_counted}"

    @property
    def summary_rows(self) -> tuple[LayerRow, ...]:
        """The rows torchsummary prints, in its order."""
        return tuple(row for row in self.rows if row.summary_id is not None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec.to_dict(),
            "input_shape": list(self.spec.input_shape),
            "totals": plain(asdict(self.totals)),
            "stages": [plain(asdict(stage)) for stage in self.stages],
            "rows": [plain(asdict(row)) for row in self.rows],
        }


def _is_weighted_main(row: LayerRow) -> bool:
    """Whether ``row`` counts towards the depth: a convolution of the main path, or a classifier."""
    return (row.op == "conv" and row.role in ("stem", "main", "head")) or row.op == "linear"


def _rows(
    plan: LayerPlan, reused: tuple[LayerRow, ...] = (), running: RunningTotals = RunningTotals()
) -> tuple[list[LayerRow], RunningTotals]:
    """The rows of ``plan``, taking ``reused`` (rows a previous analysis computed for the
    same first layers, with their running totals) as they are and computing the rest."""
    input_shape: Shape = plan.spec.input_shape
    rows: list[LayerRow] = list(reused)
    start = len(rows)
    params_sum = list(running.params[:start])
    trainable_sum = list(running.trainable[:start])
    outputs_sum = list(running.outputs[:start])
    macs_sum = list(running.macs[:start])
    depth_sum = list(running.depth[:start])
    params_total = params_sum[-1] if start else 0
    trainable_total = trainable_sum[-1] if start else 0
    outputs_total = outputs_sum[-1] if start else 0
    macs_total = macs_sum[-1] if start else 0
    depth_total = depth_sum[-1] if start else 0
    summary_count = _summary_count(rows)

    def shape_of(index: int) -> Shape:
        return input_shape if index == NETWORK_INPUT else rows[index].output_shape

    def field_of(index: int) -> tuple[int, int]:
        if index == NETWORK_INPUT:
            return (1, 1)
        row = rows[index]
        return (row.receptive_field, row.jump)

    def sees_whole_input(index: int) -> bool:
        return index != NETWORK_INPUT and rows[index].sees_whole_input

    for index in range(start, len(plan.layers)):
        layer = plan.layers[index]
        rule = OPS[layer.op]
        source_shape = shape_of(layer.inputs[0])
        output = step_shape(plan, index, shape_of)
        whole = any(sees_whole_input(i) for i in layer.inputs)
        if rule.kind == "container":
            receptive = field_of(index - 1)
            whole = sees_whole_input(index - 1)
        elif rule.whole_map and layer.role == "attention":
            # A gate's pooling sees the whole map, and its result scales every position of it:
            # from here on each output depends on the whole input. Growing the figure by the
            # map's side at every gate would count that again and again; the figure stays the
            # convolution path's, and the flag says the rest.
            receptive = field_of(layer.inputs[0])
            whole = True
        else:
            receptive = rule.receptive(layer, max(field_of(i) for i in layer.inputs), source_shape)

        summary_id = None
        if not layer.functional:
            summary_count += 1
            summary_id = f"{layer.type_name}-{summary_count}"
        params = rule.params(layer)
        kernel, stride, padding, groups = rule.details(layer)
        row = LayerRow(
            index=index,
            name=layer.name,
            type=layer.type_name,
            op=layer.op,
            role=layer.role,
            summary_id=summary_id,
            stage=layer.stage,
            block=layer.block,
            inputs=layer.inputs,
            input_shape=source_shape,
            output_shape=output,
            kernel_size=kernel,
            stride=stride,
            padding=padding,
            groups=groups,
            params=params,
            trainable_params=params,
            macs=rule.macs(layer, output),
            receptive_field=receptive[0],
            jump=receptive[1],
            output_bytes=math.prod(output) * BYTES_PER_VALUE,
            dilation=layer.dilation if layer.dilation != 1 else None,
            rate=layer.rate if rule.has_rate else None,
            sees_whole_input=whole,
        )
        rows.append(row)
        if summary_id is not None:
            params_total += row.params
            trainable_total += row.trainable_params
            outputs_total += math.prod(output)
        macs_total += row.macs
        depth_total += _is_weighted_main(row)
        params_sum.append(params_total)
        trainable_sum.append(trainable_total)
        outputs_sum.append(outputs_total)
        macs_sum.append(macs_total)
        depth_sum.append(depth_total)
    totals = RunningTotals(
        tuple(params_sum), tuple(trainable_sum), tuple(outputs_sum), tuple(macs_sum), tuple(depth_sum)
    )
    return rows, totals


def _summary_count(rows: list[LayerRow]) -> int:
    """How many torchsummary rows ``rows`` hold: the number in the last one's name."""
    for row in reversed(rows):
        if row.summary_id is not None:
            return int(row.summary_id.rsplit("-", 1)[1])
    return 0


def _block_summary(block: PlannedBlock, rows: list[LayerRow]) -> BlockSummary:
    members = rows[block.first_layer : block.last_layer + 1]
    return BlockSummary(
        name=block.name,
        type=block.type_name,
        stage=block.stage,
        index=block.index,
        shortcut=block.shortcut,
        stride=block.stride,
        input_shape=members[-1].input_shape,
        output_shape=members[-1].output_shape,
        params=sum(row.params for row in members),
        macs=sum(row.macs for row in members),
        first_row=block.first_layer,
        last_row=block.last_layer,
        dilation=block.dilation,
        drop_path=block.drop_path,
    )


def _stages(
    plan: LayerPlan, rows: list[LayerRow], kept_rows: int = 0, previous: tuple[StageSummary, ...] = ()
) -> tuple[StageSummary, ...]:
    """The stage summaries; those of ``previous`` whose rows all lie in the first
    ``kept_rows`` (rows an edit did not change) are reused, block by block."""
    spec = plan.spec
    reusable = {
        block.name: block for stage in previous for block in stage.blocks if block.last_row < kept_rows
    }
    by_stage: list[list[BlockSummary]] = [[] for _ in range(spec.num_stages)]
    for block in plan.blocks:
        summary = reusable.get(block.name)
        by_stage[block.stage].append(summary if summary is not None else _block_summary(block, rows))
    stages = []
    for stage, blocks in enumerate(by_stage):
        old = previous[stage] if stage < len(previous) else None
        fresh = StageSummary(
            name=f"layer{stage + 1}",
            index=stage,
            depth=spec.depths[stage],
            width=spec.stage_widths[stage],
            stride=spec.stage_strides[stage],
            input_shape=blocks[0].input_shape,
            output_shape=blocks[-1].output_shape,
            params=sum(b.params for b in blocks),
            macs=sum(b.macs for b in blocks),
            blocks=tuple(blocks),
        )
        stages.append(old if old == fresh else fresh)  # the same object where nothing changed
    return tuple(stages)


def summary_memory_mib(
    input_shape: Shape, summary_outputs: list[Shape], total_params: int, batch_size: int = -1
) -> tuple[float, float, float, float]:
    """torchsummary's input, forward/backward, params and total sizes, bit for bit.

    It multiplies by ``batch_size`` (-1 unless given) and takes ``abs`` afterwards;
    the operations and their order are kept so the floats round the same way.
    """
    return summary_memory_mib_of(
        input_shape, sum(math.prod(shape) for shape in summary_outputs), total_params, batch_size
    )


def summary_memory_mib_of(
    input_shape: Shape, output_values: int, total_params: int, batch_size: int = -1
) -> tuple[float, float, float, float]:
    """``summary_memory_mib`` from the number of values in all the outputs (whole numbers
    add up exactly in any order, so the floats are the same)."""
    total_output = batch_size * output_values
    input_mib = abs(math.prod(input_shape) * batch_size * 4.0 / MIB)
    output_mib = abs(2.0 * total_output * 4.0 / MIB)
    params_mib = abs(total_params * 4.0 / MIB)
    total_mib = params_mib + output_mib + input_mib
    return input_mib, output_mib, params_mib, total_mib


def _totals(plan: LayerPlan, rows: list[LayerRow], running: RunningTotals) -> Totals:
    total = running.params[-1]
    trainable = running.trainable[-1]
    input_mib, output_mib, params_mib, total_mib = summary_memory_mib_of(
        plan.spec.input_shape, running.outputs[-1], total
    )
    return Totals(
        total_params=total,
        trainable_params=trainable,
        non_trainable_params=total - trainable,
        input_size_mib=input_mib,
        forward_backward_size_mib=output_mib,
        params_size_mib=params_mib,
        total_size_mib=total_mib,
        macs=running.macs[-1],
        depth=running.depth[-1],
        output_shape=rows[-1].output_shape,
        receptive_field=rows[-1].receptive_field,
        sees_whole_input=rows[-1].sees_whole_input,
    )


def _analysis(spec: ArchSpec, plan: LayerPlan, previous: Analysis | None = None) -> Analysis:
    kept = 0 if previous is None else _first_changed_row(layer_plan(previous.spec), plan, previous)
    reused = previous.rows[:kept] if previous is not None else ()
    running = previous.running if previous is not None else RunningTotals()
    rows, sums = _rows(plan, reused, running)
    stages = _stages(plan, rows, kept, previous.stages if previous is not None else ())
    return Analysis(
        spec=spec, rows=tuple(rows), stages=stages, totals=_totals(plan, rows, sums), running=sums
    )


def _first_changed_row(old: LayerPlan, new: LayerPlan, previous: Analysis) -> int:
    """How many first rows of ``previous`` the analysis of ``new`` shares: up to the first
    layer that differs (a row depends only on its layer and the rows before it)."""
    if old.spec.input_shape != new.spec.input_shape or len(previous.running.params) != len(previous.rows):
        return 0
    count = 0
    for before, after in zip(old.layers, new.layers, strict=False):
        if before is not after and before != after:
            break
        count += 1
    return count


@size_bounded_cache(max_entries=32, max_size=MAX_CACHED_ANALYSIS_ROWS, size_of=lambda a: len(a.rows))
def analyze(spec: ArchSpec) -> Analysis:
    """The full analysis of ``spec`` (cached: specs and analyses are immutable)."""
    return _analysis(spec, layer_plan(spec))


def analyze_after(previous: Analysis, spec: ArchSpec) -> Analysis:
    """``analyze(spec)``, equal in every figure, computed from ``previous`` (the analysis
    of a spec before an edit): the rows before the first layer the edit changed, their
    shapes, receptive fields and running totals are taken as they are, and only the rest
    is computed. Cached alike."""
    return analyze.get_or_compute(
        lambda: _analysis(spec, layer_plan_after(layer_plan(previous.spec), spec), previous), spec
    )
