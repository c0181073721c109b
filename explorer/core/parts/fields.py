"""The spec fields that pick parts: their tables, the editor's groups, what does not apply."""

from __future__ import annotations

from explorer.core.parts.anti_alias import ANTI_ALIASES
from explorer.core.parts.attention import ATTENTIONS
from explorer.core.parts.base import Kind
from explorer.core.parts.blocks import BLOCKS
from explorer.core.parts.shortcuts import SHORTCUTS
from explorer.core.parts.stems import STEM_POOLS, STEMS, STRIDE_ON, stem_stride
from explorer.core.planning import SpecView

# What the editor greys out: the options a spec's parts do not use, each with the reason.


def inapplicable_options(spec: SpecView) -> dict[str, str]:
    """The spec fields that ``spec``'s chosen parts do not use, with the reason a person
    reads; such a field must keep its default (validation says so, naming the field)."""
    reasons: dict[str, str] = {}
    block = BLOCKS[spec.block]
    if not block.bottleneck:
        for name in ("groups", "width_per_group", "stride_on"):
            reasons[name] = f"the {block.label.split('  ')[0]} block has no 1x1-3x3-1x1 bottleneck"
    stem = STEMS[spec.stem]
    if not stem.pools:
        reasons["stem_pool"] = f"the {stem.label} stem does not pool"
    attention = ATTENTIONS[spec.attention]
    if not attention.uses_ratio:
        reasons["se_ratio"] = "only squeeze-and-excitation has a reduction ratio"
    natural = stem_stride(spec)
    for stride in spec.stage_strides:
        natural *= stride
    if natural < 32:
        reasons["output_stride"] = f"the network reaches only stride {natural}: nothing to dilate"
    return reasons


# The spec fields that pick a kind of part, with their tables (labels, tooltips, keys),
# and the groups the editor shows them in; the command line's choices come from here too.

FIELD_KINDS: dict[str, dict[str, Kind]] = {
    "block": dict(BLOCKS),
    "stem": dict(STEMS),
    "stem_pool": dict(STEM_POOLS),
    "stride_on": dict(STRIDE_ON),
    "shortcut": dict(SHORTCUTS),
    "attention": dict(ATTENTIONS),
    "anti_alias": dict(ANTI_ALIASES),
}

FIELD_GROUPS: dict[str, tuple[str, ...]] = {
    "Stem": ("stem", "stem_width", "stem_pool"),
    "Blocks": ("block", "stride_on", "groups", "width_per_group", "anti_alias"),
    "Shortcut": ("shortcut",),
    "Attention": ("attention", "se_ratio"),
    "Regularisation": ("drop_path", "zero_init_residual"),
    "Output stride": ("output_stride",),
}

FIELD_TOOLTIPS: dict[str, str] = {
    "groups": "Groups of the bottleneck's 3x3 conv: ResNeXt's cardinality, 32 for resnext50_32x4d "
    "(Xie et al. 2017, arXiv:1611.05431)",
    "width_per_group": "Inner width = width x width_per_group / 64 x groups; 128 makes a wide ResNet "
    "(Zagoruyko & Komodakis 2016, arXiv:1605.07146)",
    "zero_init_residual": "Start each block's last BatchNorm at zero, so every block begins as the "
    "identity (Goyal et al. 2017, arXiv:1706.02677)",
    "stem_width": "Width of the stem's convs; a deep stem ends at twice it (timm's stem_width)",
    "se_ratio": "Squeeze width as a fraction of the channels, rounded to a multiple of 8 (Hu et al. 2018)",
    "drop_path": "Stochastic depth: the last block's drop rate, 0 for the first, linear between "
    "(Huang et al. 2016, arXiv:1603.09382)",
    "output_stride": "Later stages dilate instead of striding, keeping a finer output map "
    "(DeepLab, Chen et al. 2017, arXiv:1706.05587)",
}
