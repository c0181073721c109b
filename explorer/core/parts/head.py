"""The head: global pool and classifier (a pre-activation network first normalises)."""

from __future__ import annotations

from explorer.core.parts.blocks import BLOCKS
from explorer.core.planning import PlanWriter

# The head: global pool and classifier (a pre-activation network first normalises).


def plan_head(writer: PlanWriter, source: int) -> int:
    spec = writer.spec
    x = source
    if BLOCKS[spec.block].preact:
        # timm's ResNetV2: a final BN + ReLU, and the classifier as a 1x1 conv before the flatten.
        x = writer.same("norm", "bn", "head", x)
        x = writer.same("act", "relu", "head", x)
        x = writer.same("avgpool", "avgpool", "head", x)
        if spec.num_classes:
            x = writer.conv("fc", "head", x, spec.num_classes, 1, bias=True)
        return writer.same("flatten", "flatten", "head", x, functional=True)
    x = writer.same("avgpool", "avgpool", "head", x)
    x = writer.same("flatten", "flatten", "head", x, functional=True)
    if spec.num_classes:
        x = writer.add(
            "fc",
            "linear",
            "head",
            (x,),
            in_channels=writer.channels(x),
            out_channels=spec.num_classes,
            bias=True,
        )
    return x
