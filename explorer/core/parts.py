"""Every kind of part a network is made of, each defined once.

A block kind, a stem, a stem pool, a shortcut, an attention kind and an anti-aliasing
kind each have one definition here: the value a spec names it by, its label and its
one-line tooltip (the trick and its paper), which options apply to it, the class name
torchsummary shows for its module, and the layers it adds to the plan. The spec's
validation, the plan, the build (which makes modules from the plan), the diagram's labels
and the test strategies read these tables; ``FIELD_KINDS``, ``FIELD_GROUPS`` and
``inapplicable_options`` give the editor and the command line their choices, labels,
tooltips and greyed-out options. A new kind is one more entry in its table here (plus a
module in ``blocks.py`` and a shape rule in ``analysis.py`` only if it brings a new op).

Nothing here imports torch. ``plan`` functions receive the plan writer and the block's
site (``explorer.core.plan``) and return the index of the step whose output they give.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from explorer.core.plan import BlockSite, PlanWriter, Role
    from explorer.core.spec import ArchSpec


@dataclass(frozen=True)
class Kind:
    """What every kind of part has: its key in a spec, its label and its tooltip."""

    key: str
    label: str
    tooltip: str


def make_divisible(value: float, divisor: int = 8, round_limit: float = 0.9) -> int:
    """timm's channel rounding: the nearest multiple of ``divisor``, at least ``divisor``,
    and (with ``round_limit``) not more than that fraction below ``value``."""
    result = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if result < round_limit * value:
        result += divisor
    return result


# Anti-aliasing: a low-pass step where a convolution would stride.


@dataclass(frozen=True)
class AntiAliasKind(Kind):
    plan: Callable[[PlanWriter, str, Role, int, int], int] | None
    """Lays out the anti-aliased downsampling by a stride at a name; ``None``: no anti-aliasing."""


def _plan_avg_aa(writer: PlanWriter, name: str, role: Role, source: int, stride: int) -> int:
    # timm's create_aa calls nn.AvgPool2d(stride): the kernel is the stride.
    return writer.same(name, "pool", role, source, kernel_size=stride, stride=stride)


def _plan_blur(writer: PlanWriter, name: str, role: Role, source: int, stride: int) -> int:
    channels = writer.channels(source)
    padding = ((stride - 1) + 2) // 2
    return writer.same(
        name, "blur", role, source, kernel_size=3, stride=stride, padding=padding, groups=channels
    )


ANTI_ALIASES: dict[str, AntiAliasKind] = {
    kind.key: kind
    for kind in (
        AntiAliasKind("none", "none", "Strided convolutions and pools, no low-pass filter", None),
        AntiAliasKind(
            "avgpool",
            "2x2 average pool",
            "Strides by a 2x2 average pool after the convolution (timm's aa_layer=AvgPool2d)",
            _plan_avg_aa,
        ),
        AntiAliasKind(
            "blur",
            "BlurPool (3x3 binomial)",
            "Anti-aliased downsampling by a fixed 3x3 blur before subsampling (Zhang 2019, arXiv:1904.11486)",
            _plan_blur,
        ),
    )
}


def plan_anti_alias(writer: PlanWriter, name: str, role: Role, source: int, stride: int) -> int:
    kind = ANTI_ALIASES[writer.spec.anti_alias]
    assert kind.plan is not None
    return kind.plan(writer, name, role, source, stride)


def block_uses_anti_alias(site: BlockSite) -> bool:
    """timm's rule: a block anti-aliases where it strides by 2 or its first conv dilates less."""
    if site.spec.anti_alias == "none":
        return False
    return site.stride == 2 or site.first_dilation != site.dilation


# Attention: a gate on the main branch's output, before the merge.


@dataclass(frozen=True)
class AttentionKind(Kind):
    class_name: str
    uses_ratio: bool
    plan: Callable[[PlanWriter, BlockSite, int], int] | None
    badge: str = ""
    """What a diagram puts before the block's name ("SE bottleneck")."""


def se_channels(channels: int, ratio: float) -> int:
    """The squeeze width: timm's SEModule rounding (multiples of 8, at least 8)."""
    return make_divisible(channels * ratio, 8, round_limit=0.0)


def eca_kernel_size(channels: int) -> int:
    """ECA's adaptive 1-d kernel size, as timm computes it (gamma 2, beta 1)."""
    t = int(abs(math.log(channels, 2) + 1) / 2)
    return max(t if t % 2 else t + 1, 3)


def _plan_se(writer: PlanWriter, site: BlockSite, source: int) -> int:
    name = site.name("se")
    channels = writer.channels(source)
    first = writer.next_index
    x = writer.same(f"{name}.mean", "mean", "attention", source)
    x = writer.conv(f"{name}.fc1", "attention", x, se_channels(channels, site.spec.se_ratio), 1, bias=True)
    x = writer.same(f"{name}.act", "relu", "attention", x)
    x = writer.conv(f"{name}.fc2", "attention", x, channels, 1, bias=True)
    x = writer.same(f"{name}.gate", "sigmoid", "attention", x)
    out = writer.add(
        f"{name}.mul", "mul", "attention", (source, x), in_channels=channels, out_channels=channels
    )
    writer.container(name, "module", "attention", source, first, "SEModule")
    return out


def _plan_eca(writer: PlanWriter, site: BlockSite, source: int) -> int:
    name = site.name("se")
    channels = writer.channels(source)
    kernel = eca_kernel_size(channels)
    first = writer.next_index
    x = writer.same(f"{name}.mean", "mean", "attention", source)
    x = writer.add(f"{name}.view", "to_seq", "attention", (x,), in_channels=channels, out_channels=1)
    x = writer.add(
        f"{name}.conv",
        "conv1d",
        "attention",
        (x,),
        in_channels=1,
        out_channels=1,
        kernel_size=kernel,
        padding=(kernel - 1) // 2,
    )
    x = writer.same(f"{name}.gate", "sigmoid", "attention", x)
    x = writer.add(f"{name}.expand", "to_map", "attention", (x,), in_channels=1, out_channels=channels)
    out = writer.add(
        f"{name}.mul", "mul", "attention", (source, x), in_channels=channels, out_channels=channels
    )
    writer.container(name, "module", "attention", source, first, "EcaModule")
    return out


ATTENTIONS: dict[str, AttentionKind] = {
    kind.key: kind
    for kind in (
        AttentionKind("none", "none", "No channel attention", "", False, None),
        AttentionKind(
            "se",
            "squeeze-and-excitation",
            "Gates channels by a pooled 2-layer bottleneck (Hu et al. 2018, arXiv:1709.01507)",
            "SEModule",
            True,
            _plan_se,
            "SE",
        ),
        AttentionKind(
            "eca",
            "efficient channel attention",
            "Gates channels by a 1-d conv over pooled channels (Wang et al. 2020, arXiv:1910.03151)",
            "EcaModule",
            False,
            _plan_eca,
            "ECA",
        ),
    )
}


def plan_attention(writer: PlanWriter, site: BlockSite, source: int) -> int:
    kind = ATTENTIONS[site.spec.attention]
    return source if kind.plan is None else kind.plan(writer, site, source)


def plan_drop_path(writer: PlanWriter, site: BlockSite, source: int) -> int:
    """Stochastic depth on the main branch; a block with rate 0 has no such step, as in timm."""
    if site.drop_path <= 0:
        return source
    return writer.same(site.name("drop_path"), "droppath", "main", source, rate=site.drop_path)


# Shortcuts: the branch around a block where its shape changes.


@dataclass(frozen=True)
class ShortcutKind(Kind):
    can_shrink: bool
    plan: Callable[[PlanWriter, BlockSite, int, bool], int]
    """Lays out the shortcut from a source; the flag says the block is pre-activated
    (its projection has no norm, as in timm's ResNetV2)."""


def _plan_projection(writer: PlanWriter, site: BlockSite, source: int, preact: bool) -> int:
    x = writer.conv(site.name("shortcut.0"), "shortcut", source, site.out_channels, 1, site.stride)
    if not preact:
        x = writer.same(site.name("shortcut.1"), "bn", "shortcut", x)
    return x


def _plan_zero_pad(writer: PlanWriter, site: BlockSite, source: int, preact: bool) -> int:
    return writer.add(
        site.name("shortcut"),
        "zeropad",
        "shortcut",
        (source,),
        in_channels=writer.channels(source),
        out_channels=site.out_channels,
        kernel_size=1,
        stride=site.stride,
    )


def _plan_avg_down(writer: PlanWriter, site: BlockSite, source: int, preact: bool) -> int:
    x = source
    if site.stride > 1:
        x = writer.same(
            site.name("shortcut.0"), "pool", "shortcut", x, kernel_size=2, stride=site.stride, ceil_mode=True
        )
    elif site.dilation > 1:
        x = writer.same(site.name("shortcut.0"), "poolsame", "shortcut", x, kernel_size=2, stride=1)
    x = writer.conv(site.name("shortcut.1"), "shortcut", x, site.out_channels, 1)
    if not preact:
        x = writer.same(site.name("shortcut.2"), "bn", "shortcut", x)
    return x


SHORTCUTS: dict[str, ShortcutKind] = {
    kind.key: kind
    for kind in (
        ShortcutKind(
            "projection",
            "projection  (1x1 conv + BN)",
            "A strided 1x1 conv + BN where the shape changes (He et al. 2015, option B)",
            True,
            _plan_projection,
        ),
        ShortcutKind(
            "zero-pad",
            "zero-pad  (parameter-free)",
            "A strided identity padded with zero channels (He et al. 2015, option A)",
            False,
            _plan_zero_pad,
        ),
        ShortcutKind(
            "avg-down",
            "avg-down  (2x2 avg pool, 1x1 conv + BN)",
            "ResNet-D: average-pool with the stride, then a 1x1 conv + BN (He et al. 2019, arXiv:1812.01187)",
            True,
            _plan_avg_down,
        ),
    )
}


def plan_shortcut(writer: PlanWriter, site: BlockSite, source: int, preact: bool) -> tuple[int, str]:
    """The shortcut's output and its kind: the block's input itself where nothing changes."""
    if not site.needs_projection:
        return source, "identity"
    kind = SHORTCUTS[site.spec.shortcut]
    return kind.plan(writer, site, source, preact), kind.key


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
    on_1x1 = site.spec.stride_on == "1x1"
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
    on_1x1 = site.spec.stride_on == "1x1"
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


# Stems and the stem pool.


@dataclass(frozen=True)
class StemKind(Kind):
    stride: int
    """The stride of its convolutions; a stem that strides also pools (``stem_pool``)."""
    default_side: int
    width_factor: int
    """Output channels per ``stem_width`` (a deep stem ends at twice its width, as timm's)."""
    plan: Callable[[PlanWriter, bool], int]
    """Lays out the stem from the image; the flag: pre-activation blocks follow (no final norm)."""
    min_width: int = 1
    """The smallest ``stem_width`` that leaves every conv a channel."""

    @property
    def pools(self) -> bool:
        return self.stride > 1


def _stem_end(writer: PlanWriter, x: int, preact: bool) -> int:
    if preact:
        return x
    x = writer.same("bn1", "bn", "stem", x)
    return writer.same("relu", "relu", "stem", x, functional=True)


def _plan_cifar_stem(writer: PlanWriter, preact: bool) -> int:
    from explorer.core.plan import NETWORK_INPUT

    x = writer.conv("conv1", "stem", NETWORK_INPUT, writer.spec.stem_width, 3)
    return _stem_end(writer, x, preact)


def _plan_imagenet_stem(writer: PlanWriter, preact: bool) -> int:
    from explorer.core.plan import NETWORK_INPUT

    x = writer.conv("conv1", "stem", NETWORK_INPUT, writer.spec.stem_width, 7, 2)
    return _stem_end(writer, x, preact)


def _deep_stem(widths: Callable[[int], tuple[int, int]]) -> Callable[[PlanWriter, bool], int]:
    def plan(writer: PlanWriter, preact: bool) -> int:
        from explorer.core.plan import NETWORK_INPUT

        width = writer.spec.stem_width
        first, second = widths(width)
        x = writer.conv("conv1.0", "stem", NETWORK_INPUT, first, 3, 2)
        x = writer.same("conv1.1", "bn", "stem", x)
        x = writer.same("conv1.2", "relu", "stem", x)
        x = writer.conv("conv1.3", "stem", x, second, 3)
        x = writer.same("conv1.4", "bn", "stem", x)
        x = writer.same("conv1.5", "relu", "stem", x)
        x = writer.conv("conv1.6", "stem", x, 2 * width, 3)
        return _stem_end(writer, x, preact)

    return plan


STEMS: dict[str, StemKind] = {
    kind.key: kind
    for kind in (
        StemKind(
            "cifar",
            "3x3 conv, stride 1",
            "One 3x3 conv, no pool: for 32x32 inputs",
            1,
            32,
            1,
            _plan_cifar_stem,
        ),
        StemKind(
            "imagenet",
            "7x7 conv /2 + max-pool /2",
            "One 7x7 conv with stride 2 (He et al. 2015, arXiv:1512.03385)",
            2,
            224,
            1,
            _plan_imagenet_stem,
        ),
        StemKind(
            "deep",
            "deep: three 3x3 convs /2",
            "ResNet-C: three 3x3 convs, the first with stride 2 (He et al. 2019, arXiv:1812.01187)",
            2,
            224,
            2,
            _deep_stem(lambda width: (width, width)),
        ),
        StemKind(
            "deep-tiered",
            "deep tiered: 3x3 convs of 3/4, 1, 2 widths",
            "timm's resnet*t stem: three 3x3 convs widening 3/4 w, w, 2w (timm)",
            2,
            224,
            2,
            _deep_stem(lambda width: (3 * (width // 4), width)),
            min_width=4,
        ),
    )
}


@dataclass(frozen=True)
class StemPoolKind(Kind):
    stride: int
    plan: Callable[[PlanWriter, int], int] | None


def _plan_max_pool(writer: PlanWriter, source: int) -> int:
    anti_alias = writer.spec.anti_alias
    if anti_alias == "none":
        return writer.same("maxpool", "maxpool", "stem", source, kernel_size=3, stride=2, padding=1)
    if anti_alias == "avgpool":
        # timm replaces the max-pool by the anti-aliasing pool itself.
        return plan_anti_alias(writer, "maxpool", "stem", source, 2)
    x = writer.same("maxpool.0", "maxpool", "stem", source, kernel_size=3, stride=1, padding=1)
    return plan_anti_alias(writer, "maxpool.1", "stem", x, 2)


def _plan_conv_pool(writer: PlanWriter, source: int) -> int:
    aa = writer.spec.anti_alias != "none"
    channels = writer.channels(source)
    x = writer.conv("maxpool.0", "stem", source, channels, 3, 1 if aa else 2)
    index = 1
    if aa:
        x = plan_anti_alias(writer, "maxpool.1", "stem", x, 2)
        index = 2
    x = writer.same(f"maxpool.{index}", "bn", "stem", x)
    return writer.same(f"maxpool.{index + 1}", "relu", "stem", x)


STEM_POOLS: dict[str, StemPoolKind] = {
    kind.key: kind
    for kind in (
        StemPoolKind(
            "max", "3x3 max pool /2", "A 3x3 max pool with stride 2 after the stem", 2, _plan_max_pool
        ),
        StemPoolKind(
            "conv",
            "3x3 conv /2 + BN + ReLU",
            "ResNet-RS: a strided 3x3 conv + BN + ReLU replaces the max pool "
            "(Bello et al. 2021, arXiv:2103.07579)",
            2,
            _plan_conv_pool,
        ),
        StemPoolKind("none", "none", "No pooling after the stem", 1, None),
    )
}


def plan_stem_pool(writer: PlanWriter, source: int) -> int:
    spec = writer.spec
    if not STEMS[spec.stem].pools:
        return source
    kind = STEM_POOLS[spec.stem_pool]
    return source if kind.plan is None else kind.plan(writer, source)


def stem_stride(spec: ArchSpec) -> int:
    stem = STEMS[spec.stem]
    return stem.stride * (STEM_POOLS[spec.stem_pool].stride if stem.pools else 1)


def stem_out_channels(spec: ArchSpec) -> int:
    return spec.stem_width * STEMS[spec.stem].width_factor


# Where the stride of a bottleneck sits.

STRIDE_ON: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind(
            "3x3",
            "3x3 conv  (v1.5)",
            "The 3x3 conv strides: torchvision and timm ('ResNet-B', arXiv:1812.01187)",
        ),
        Kind(
            "1x1",
            "first 1x1 conv  (v1)",
            "The first 1x1 conv strides, as the original paper (arXiv:1512.03385)",
        ),
    )
}

OUTPUT_STRIDES: tuple[int, ...] = (32, 16, 8)


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


# What the editor greys out: the options a spec's parts do not use, each with the reason.


def inapplicable_options(spec: ArchSpec) -> dict[str, str]:
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
    "stem_width": "Width of the stem's convs; a deep stem ends at twice it (timm's stem_width)",
    "se_ratio": "Squeeze width as a fraction of the channels, rounded to a multiple of 8 (Hu et al. 2018)",
    "drop_path": "Stochastic depth: the last block's drop rate, 0 for the first, linear between "
    "(Huang et al. 2016, arXiv:1603.09382)",
    "output_stride": "Later stages dilate instead of striding, keeping a finer output map "
    "(DeepLab, Chen et al. 2017, arXiv:1706.05587)",
}
