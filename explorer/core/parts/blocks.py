"""Block kinds: the layers of one residual block, post- or pre-activation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from explorer.core.parts.anti_alias import block_uses_anti_alias, plan_anti_alias
from explorer.core.parts.attention import plan_attention, plan_drop_path
from explorer.core.parts.base import Kind
from explorer.core.parts.shortcuts import plan_shortcut
from explorer.core.parts.stems import STRIDE_ON
from explorer.core.planning import BlockSite, PlanWriter

# Blocks.


@dataclass(frozen=True)
class BuiltBlock:
    output: int
    merge: int
    shortcut: str
    shortcut_source: int
    zero_init: str


@dataclass(frozen=True)
class BlockKind(Kind):
    class_name: str
    expansion: int
    bottleneck: bool
    """Has a 1x1-3x3-1x1 body: groups, width_per_group and stride_on apply."""
    preact: bool
    """BN-ReLU before each conv: the stem ends at its conv and a final norm precedes the head."""
    project_every_stage: bool
    """The first block of every stage has a projection shortcut (timm's PreActBottleneck)."""
    plan: Callable[[PlanWriter, BlockSite], BuiltBlock]
    paper: str


def _merge(
    writer: PlanWriter, site: BlockSite, main: int, source: int, zero_init: str, preact: bool
) -> BuiltBlock:
    """Attention, drop-path, the shortcut and the add; a post-activation block then its ReLU."""
    main = plan_attention(writer, site, main)
    main = plan_drop_path(writer, site, main)
    shortcut, kind = plan_shortcut(writer, site, source, preact)
    channels = site.out_channels
    merge = writer.add(
        site.name("add"), "add", "merge", (main, shortcut), in_channels=channels, out_channels=channels
    )
    out = merge if preact else writer.same(site.name("relu"), "relu", "main", merge)
    return BuiltBlock(out, merge, kind, source, zero_init)


def _conv_bn_act(
    writer: PlanWriter,
    site: BlockSite,
    source: int,
    index: int,
    out: int,
    kernel: int,
    stride: int = 1,
    groups: int = 1,
    dilation: int = 1,
) -> int:
    x = writer.conv(site.name(f"conv{index}"), "main", source, out, kernel, stride, groups, dilation)
    x = writer.same(site.name(f"bn{index}"), "bn", "main", x)
    return writer.same(site.name("relu"), "relu", "main", x)


def _plan_basic(writer: PlanWriter, site: BlockSite) -> BuiltBlock:
    aa = block_uses_anti_alias(site)
    stride = 1 if aa else site.stride
    x = _conv_bn_act(
        writer, site, site.source, 1, site.inner_channels, 3, stride=stride, dilation=site.first_dilation
    )
    if aa:
        x = plan_anti_alias(writer, site.name("aa"), "main", x, site.stride)
    x = writer.conv(site.name("conv2"), "main", x, site.out_channels, 3, dilation=site.dilation)
    x = writer.same(site.name("bn2"), "bn", "main", x)
    return _merge(writer, site, x, site.source, site.name("bn2"), preact=False)


def _plan_bottleneck(writer: PlanWriter, site: BlockSite) -> BuiltBlock:
    aa = block_uses_anti_alias(site)
    stride = 1 if aa else site.stride
    on_1x1 = STRIDE_ON[site.spec.stride_on].first_1x1
    inner = site.inner_channels
    x = _conv_bn_act(writer, site, site.source, 1, inner, 1, stride=stride if on_1x1 else 1)
    if aa and on_1x1:
        x = plan_anti_alias(writer, site.name("aa"), "main", x, site.stride)
    x = _conv_bn_act(
        writer,
        site,
        x,
        2,
        inner,
        3,
        stride=1 if on_1x1 else stride,
        groups=site.spec.groups,
        dilation=site.first_dilation,
    )
    if aa and not on_1x1:
        x = plan_anti_alias(writer, site.name("aa"), "main", x, site.stride)
    x = writer.conv(site.name("conv3"), "main", x, site.out_channels, 1)
    x = writer.same(site.name("bn3"), "bn", "main", x)
    return _merge(writer, site, x, site.source, site.name("bn3"), preact=False)


def _preact(writer: PlanWriter, site: BlockSite, source: int, index: int) -> int:
    x = writer.same(site.name(f"bn{index}"), "bn", "main", source)
    return writer.same(site.name("relu"), "relu", "main", x)


def _shortcut_source(site: BlockSite, preactivated: int) -> int:
    """timm's ResNetV2: a projection starts from the pre-activated input, an identity from the input."""
    return preactivated if site.needs_projection else site.source


def _plan_preact_basic(writer: PlanWriter, site: BlockSite) -> BuiltBlock:
    aa = block_uses_anti_alias(site)
    pre = _preact(writer, site, site.source, 1)
    x = writer.conv(
        site.name("conv1"),
        "main",
        pre,
        site.inner_channels,
        3,
        stride=1 if aa else site.stride,
        dilation=site.first_dilation,
    )
    if aa:
        x = plan_anti_alias(writer, site.name("aa"), "main", x, site.stride)
    x = _preact(writer, site, x, 2)
    x = writer.conv(site.name("conv2"), "main", x, site.out_channels, 3, dilation=site.dilation)
    source = _shortcut_source(site, pre)
    return _merge(writer, site, x, source, site.name("conv2"), preact=True)


def _plan_preact_bottleneck(writer: PlanWriter, site: BlockSite) -> BuiltBlock:
    aa = block_uses_anti_alias(site)
    stride = 1 if aa else site.stride
    on_1x1 = STRIDE_ON[site.spec.stride_on].first_1x1
    inner = site.inner_channels
    pre = _preact(writer, site, site.source, 1)
    x = writer.conv(site.name("conv1"), "main", pre, inner, 1, stride=stride if on_1x1 else 1)
    if aa and on_1x1:
        x = plan_anti_alias(writer, site.name("aa"), "main", x, site.stride)
    x = _preact(writer, site, x, 2)
    x = writer.conv(
        site.name("conv2"),
        "main",
        x,
        inner,
        3,
        stride=1 if on_1x1 else stride,
        groups=site.spec.groups,
        dilation=site.first_dilation,
    )
    if aa and not on_1x1:
        x = plan_anti_alias(writer, site.name("aa"), "main", x, site.stride)
    x = _preact(writer, site, x, 3)
    x = writer.conv(site.name("conv3"), "main", x, site.out_channels, 1)
    source = _shortcut_source(site, pre)
    return _merge(writer, site, x, source, site.name("conv3"), preact=True)


BLOCKS: dict[str, BlockKind] = {
    kind.key: kind
    for kind in (
        BlockKind(
            "basic",
            "basic  (3x3, 3x3)",
            "Two 3x3 convs around an identity (He et al. 2015, arXiv:1512.03385)",
            "ResidualBlock",
            1,
            False,
            False,
            False,
            _plan_basic,
            "basic",
        ),
        BlockKind(
            "bottleneck",
            "bottleneck  (1x1, 3x3, 1x1, x4)",
            "1x1 reduce, 3x3, 1x1 expand by 4 (He et al. 2015, arXiv:1512.03385)",
            "BottleneckBlock",
            4,
            True,
            False,
            False,
            _plan_bottleneck,
            "bottleneck",
        ),
        BlockKind(
            "preact-basic",
            "pre-activation basic  (BN-ReLU-3x3, x2)",
            "BN and ReLU before each conv, a clean identity path (He et al. 2016, arXiv:1603.05027)",
            "PreActBasic",
            1,
            False,
            True,
            False,
            _plan_preact_basic,
            "pre-act basic",
        ),
        BlockKind(
            "preact-bottleneck",
            "pre-activation bottleneck  (BN-ReLU-1x1, 3x3, 1x1, x4)",
            "BN and ReLU before each conv, a clean identity path (He et al. 2016, arXiv:1603.05027)",
            "PreActBottleneck",
            4,
            True,
            True,
            True,
            _plan_preact_bottleneck,
            "pre-act bottleneck",
        ),
    )
}
