"""The layer plan: one ordered list of layers derived from an ArchSpec.

The plan is the single source of architecture facts. ``build_model`` makes its
modules from it and ``analyze`` computes shapes, parameters and MACs from it, so
the model and its analysis cannot drift apart. The order is execution order, the
order in which torchsummary's hooks fire: a block's layers, its shortcut, the
residual add, the block's ReLU and then the block itself (a module that holds
others, a block or an attention module, fires when its forward returns).

Every layer names all of its inputs, and every block names the layer that merges its
branches and the layer its shortcut starts from, so nothing downstream counts
positions. What each kind of block, stem, shortcut, attention and anti-aliasing adds
to the plan is written once, in ``explorer.core.parts``, in the vocabulary of
``explorer.core.planning`` (the writer, the layer and the block); this module walks the
stages, and ``step_shape`` applies each op's shape rule (``explorer.core.ops``).

Nothing here imports torch: the plan and the analysis are pure Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import NamedTuple

from explorer.core import parts
from explorer.core.ops import CONTAINER_OPS, FUNCTIONAL_OPS, MODULE_TYPE_NAMES, OPS, Op, Shape
from explorer.core.planning import (
    NETWORK_INPUT,
    BlockSite,
    PlannedBlock,
    PlannedLayer,
    PlanWriter,
    Role,
    ShortcutKind,
    SpecView,
)
from explorer.core.sizecache import size_bounded_cache
from explorer.core.spec_error import SpecError

# Where the app's modules have always found the plan's vocabulary.
__all__ = [
    "CONTAINER_OPS",
    "FUNCTIONAL_OPS",
    "MODULE_TYPE_NAMES",
    "NETWORK_INPUT",
    "BlockSite",
    "LayerPlan",
    "Op",
    "PlanWriter",
    "PlannedBlock",
    "PlannedLayer",
    "Role",
    "ShortcutKind",
    "block_layouts",
    "drop_path_rates",
    "layer_plan",
    "layer_plan_after",
    "output_shapes",
    "stage_dilations",
    "step_shape",
]

# About three plans of the largest spec allowed (some 34,000 layers each), or many small ones.
MAX_CACHED_PLAN_LAYERS = 100_000


@dataclass(frozen=True, slots=True)
class LayerPlan:
    spec: SpecView
    layers: tuple[PlannedLayer, ...]
    blocks: tuple[PlannedBlock, ...]


def stage_dilations(spec: SpecView) -> tuple[tuple[int, int, int], ...]:
    """(stride, dilation, previous dilation) of each stage, by timm's output-stride rule:
    once the network has reached ``output_stride``, later stages dilate instead of striding."""
    net_stride = parts.stem_stride(spec)
    dilation = previous = 1
    result = []
    for stride in spec.stage_strides:
        if spec.output_stride != 32 and net_stride >= spec.output_stride:
            dilation *= stride
            stride = 1
        else:
            net_stride *= stride
        result.append((stride, dilation, previous))
        previous = dilation
    return tuple(result)


def drop_path_rates(spec: SpecView) -> tuple[float, ...]:
    """Each block's stochastic-depth rate: timm's linear rule, 0 for the first block and
    ``drop_path`` for the last."""
    total = sum(spec.depths)
    if total == 1 or not spec.drop_path:
        return (0.0,) * total
    return tuple(spec.drop_path * i / (total - 1) for i in range(total))


def _plan_block(writer: PlanWriter, site: BlockSite) -> PlannedBlock:
    writer.where = {"stage": site.stage, "block": site.index}
    first = writer.next_index
    kind = parts.BLOCKS[site.spec.block]
    built = kind.plan(writer, site)
    writer.container(site.prefix, "block", "block", site.source, first, kind.class_name)
    return PlannedBlock(
        name=site.prefix,
        stage=site.stage,
        index=site.index,
        type_name=kind.class_name,
        in_channels=site.in_channels,
        inner_channels=site.inner_channels,
        out_channels=site.out_channels,
        stride=site.stride,
        shortcut=built.shortcut,
        first_layer=first,
        last_layer=writer.next_index - 1,
        merge_layer=built.merge,
        shortcut_source=built.shortcut_source,
        output_layer=built.output,
        dilation=site.dilation,
        drop_path=site.drop_path,
        zero_init=built.zero_init,
    )


class BlockLayout(NamedTuple):
    """What a block's layers are made from, apart from where they sit in the plan: two
    blocks with the same layout (in specs of the same structure) plan the same layers.
    A named tuple: an edit of a deep network makes and compares a thousand of them."""

    stage: int
    block_index: int  # in its stage
    in_channels: int
    out_channels: int
    inner_channels: int
    stride: int
    first_dilation: int
    dilation: int
    drop_path: float
    needs_projection: bool


@lru_cache(maxsize=4)  # an edit compares the layouts of the spec before it, made at the edit before
def block_layouts(spec: SpecView, stem_channels: int) -> tuple[BlockLayout, ...]:
    """Every block's layout, in order: plain arithmetic on the spec, no layers planned."""
    block_kind = parts.BLOCKS[spec.block]
    rates = iter(drop_path_rates(spec))
    channels = stem_channels
    layouts = []
    for stage, ((stride, dilation, previous), depth) in enumerate(
        zip(stage_dilations(spec), spec.depths, strict=True)
    ):
        out_channels = spec.stage_out_channels(stage)
        inner_channels = spec.inner_width(stage)
        for index in range(depth):
            block_stride = stride if index == 0 else 1
            needs = block_stride != 1 or channels != out_channels
            if index == 0 and block_kind.project_every_stage:
                needs = True
            layouts.append(
                BlockLayout(
                    stage=stage,
                    block_index=index,
                    in_channels=channels,
                    out_channels=out_channels,
                    inner_channels=inner_channels,
                    stride=block_stride,
                    first_dilation=previous if index == 0 else dilation,
                    dilation=dilation,
                    drop_path=next(rates),
                    needs_projection=needs,
                )
            )
            channels = out_channels
    return tuple(layouts)


def _plan_blocks(
    writer: PlanWriter, source: int, layouts: tuple[BlockLayout, ...], blocks: list[PlannedBlock]
) -> None:
    """Plans the blocks of ``layouts`` after ``source``, then the head."""
    spec = writer.spec
    x = source
    for layout in layouts:
        site = BlockSite(
            spec=spec,
            prefix=f"layer{layout.stage + 1}.{layout.block_index}",
            stage=layout.stage,
            index=layout.block_index,
            source=x,
            in_channels=layout.in_channels,
            inner_channels=layout.inner_channels,
            out_channels=layout.out_channels,
            stride=layout.stride,
            first_dilation=layout.first_dilation,
            dilation=layout.dilation,
            drop_path=layout.drop_path,
            needs_projection=layout.needs_projection,
        )
        block = _plan_block(writer, site)
        blocks.append(block)
        x = block.output_layer
    writer.where = {}
    parts.plan_head(writer, x)


@size_bounded_cache(max_entries=64, max_size=MAX_CACHED_PLAN_LAYERS, size_of=lambda plan: len(plan.layers))
def layer_plan(spec: SpecView) -> LayerPlan:
    """The ordered layers of ``spec`` (cached: specs are immutable)."""
    writer = PlanWriter(spec)
    block_kind = parts.BLOCKS[spec.block]
    x = parts.STEMS[spec.stem].plan(writer, block_kind.preact)
    x = parts.plan_stem_pool(writer, x)
    blocks: list[PlannedBlock] = []
    _plan_blocks(writer, x, block_layouts(spec, writer.channels(x)), blocks)
    return LayerPlan(spec, tuple(writer.layers), tuple(blocks))


# What only places blocks (their number, widths and strides), shapes the head or sizes the
# image: specs equal in every other field plan the same stem, and the same layers for
# blocks of the same layout.
_PLACEMENT_FIELDS = frozenset({"depths", "widths", "strides", "num_classes", "input_size"})


def _structure(spec: SpecView) -> tuple[object, ...]:
    return tuple(getattr(spec, field.name) for field in fields(spec) if field.name not in _PLACEMENT_FIELDS)


def layer_plan_after(previous: LayerPlan, spec: SpecView) -> LayerPlan:
    """``layer_plan(spec)``, reusing ``previous``'s layers up to the first block an edit
    changed; cached alike, so the next edit finds this plan."""
    return layer_plan.get_or_compute(lambda: _replan(previous, spec), spec)


def _replan(previous: LayerPlan, spec: SpecView) -> LayerPlan:
    if not previous.blocks or _structure(previous.spec) != _structure(spec):
        return layer_plan.__wrapped__(spec)
    stem_channels = previous.blocks[0].in_channels
    old = block_layouts(previous.spec, stem_channels)
    new = block_layouts(spec, stem_channels)
    kept = 0
    for before, after in zip(old, new, strict=False):
        if before != after:
            break
        kept += 1
    if kept == 0:
        return layer_plan.__wrapped__(spec)
    last_kept = previous.blocks[kept - 1]
    writer = PlanWriter(spec)
    writer.layers = list(previous.layers[: last_kept.last_layer + 1])
    blocks = list(previous.blocks[:kept])
    _plan_blocks(writer, last_kept.output_layer, new[kept:], blocks)
    return LayerPlan(spec, tuple(writer.layers), tuple(blocks))


def step_shape(plan: LayerPlan, index: int, shape_of: Callable[[int], Shape]) -> Shape:
    """The output shape of step ``index``, from the output shapes of the steps before it
    (``shape_of``; ``NETWORK_INPUT`` is the image): its op's rule, and the residual merge's
    check that both branches agree. A ``SpecError`` names a spec whose shapes cannot work."""
    layer = plan.layers[index]
    if layer.op in CONTAINER_OPS:
        return shape_of(index - 1)
    source = shape_of(layer.inputs[0])
    output = OPS[layer.op].shape(layer, source)
    if layer.role == "merge":
        other = shape_of(layer.inputs[1])
        if other != source and parts.ANTI_ALIASES[plan.spec.anti_alias].plan is not None:
            raise SpecError(
                "anti_alias",
                f"at {layer.name} the anti-aliased branch gives {source[1:]} "
                f"while the shortcut gives {other[1:]} (a pool floors odd sides): "
                "use an input_size that halves evenly, or another anti_alias",
            )
        if other != source:
            raise AssertionError(f"{layer.name}: branch shapes {source} and {other} differ")
    return output


def output_shapes(plan: LayerPlan) -> tuple[Shape, ...]:
    """Every step's output shape (a ``SpecError`` where the spec's shapes cannot work)."""
    shapes: list[Shape] = []

    def shape_of(index: int) -> Shape:
        return plan.spec.input_shape if index == NETWORK_INPUT else shapes[index]

    for index in range(len(plan.layers)):
        shapes.append(step_shape(plan, index, shape_of))
    return tuple(shapes)
