"""Every kind of part a network is made of, each defined once.

A block kind, a stem, a stem pool, a shortcut, an attention kind and an anti-aliasing
kind each have one definition in this package (one module per sort of part): the value a
spec names it by, its label and its one-line tooltip (the trick and its paper), which
options apply to it, the class name torchsummary shows for its module, and the layers it
adds to the plan. The spec's
validation, the plan, the build (which makes modules from the plan), the diagram's labels
and the test strategies read these tables; ``FIELD_KINDS``, ``FIELD_GROUPS`` and
``inapplicable_options`` give the editor and the command line their choices, labels,
tooltips and greyed-out options. A new kind is one more entry in its table here (plus,
only if it brings a new kind of step, that op's declaration in ``explorer.core.ops``).

Nothing here imports torch, nor the spec or the plan: ``plan`` functions receive the plan
writer and the block's site (``explorer.core.planning``, which shows them the spec as a
``SpecView``) and return the index of the step whose output they give.
"""

from explorer.core.parts.anti_alias import ANTI_ALIASES, AntiAliasKind, block_uses_anti_alias, plan_anti_alias
from explorer.core.parts.attention import (
    ATTENTIONS,
    AttentionKind,
    eca_kernel_size,
    plan_attention,
    plan_drop_path,
    se_channels,
)
from explorer.core.parts.base import Kind, make_divisible
from explorer.core.parts.blocks import BLOCKS, BlockKind, BuiltBlock
from explorer.core.parts.fields import FIELD_GROUPS, FIELD_KINDS, FIELD_TOOLTIPS, inapplicable_options
from explorer.core.parts.head import plan_head
from explorer.core.parts.shortcuts import IDENTITY_SHORTCUT, SHORTCUTS, ShortcutKind, plan_shortcut
from explorer.core.parts.stems import (
    OUTPUT_STRIDES,
    STEM_POOLS,
    STEMS,
    STRIDE_ON,
    StemKind,
    StemPoolKind,
    plan_stem_pool,
    stem_out_channels,
    stem_stride,
)

__all__ = [
    "ANTI_ALIASES",
    "ATTENTIONS",
    "BLOCKS",
    "FIELD_GROUPS",
    "FIELD_KINDS",
    "FIELD_TOOLTIPS",
    "IDENTITY_SHORTCUT",
    "OUTPUT_STRIDES",
    "SHORTCUTS",
    "STEMS",
    "STEM_POOLS",
    "STRIDE_ON",
    "AntiAliasKind",
    "AttentionKind",
    "BlockKind",
    "BuiltBlock",
    "Kind",
    "ShortcutKind",
    "StemKind",
    "StemPoolKind",
    "block_uses_anti_alias",
    "eca_kernel_size",
    "inapplicable_options",
    "make_divisible",
    "plan_anti_alias",
    "plan_attention",
    "plan_drop_path",
    "plan_head",
    "plan_shortcut",
    "plan_stem_pool",
    "se_channels",
    "stem_out_channels",
    "stem_stride",
]
