"""What of the app's parts one spec's network uses: the generator writes only these."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.core import parts
from explorer.core.plan import LayerPlan


@dataclass(frozen=True)
class SourceFeatures:
    block: str
    bottleneck: bool
    preact: bool
    class_name: str
    shortcut: str | None
    """The shortcut kind of the blocks that change shape; ``None``: no block does."""
    project_every_stage: bool
    block_anti_alias: str | None
    """The anti-aliasing kind of the blocks that stride by 2; ``None``: no block anti-aliases."""
    stride_on_1x1: bool
    groups: int
    dilated: bool
    drop_path: bool
    attention: str | None


def features_of(plan: LayerPlan) -> SourceFeatures:
    spec = plan.spec
    kind = parts.BLOCKS[spec.block]
    names = {layer.name for layer in plan.layers}
    shortcut = spec.shortcut if any(b.shortcut != parts.IDENTITY_SHORTCUT for b in plan.blocks) else None
    block_aa = any(f"{b.name}.aa" in names for b in plan.blocks)
    return SourceFeatures(
        block=spec.block,
        bottleneck=kind.bottleneck,
        preact=kind.preact,
        class_name=kind.class_name,
        shortcut=shortcut,
        project_every_stage=kind.project_every_stage and shortcut is not None,
        block_anti_alias=spec.anti_alias if block_aa else None,
        stride_on_1x1=spec.stride_on == "1x1",
        groups=spec.groups,
        dilated=any(b.dilation > 1 for b in plan.blocks),
        drop_path=any(b.drop_path > 0 for b in plan.blocks),
        attention=None if spec.attention == "none" else spec.attention,
    )
