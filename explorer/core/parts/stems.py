"""Stem kinds, stem pools, where a bottleneck strides and the output strides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from explorer.core.parts.anti_alias import ANTI_ALIASES, plan_anti_alias
from explorer.core.parts.base import Kind
from explorer.core.planning import NETWORK_INPUT, PlanWriter, SpecView

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
    x = writer.conv("conv1", "stem", NETWORK_INPUT, writer.spec.stem_width, 3)
    return _stem_end(writer, x, preact)


def _plan_imagenet_stem(writer: PlanWriter, preact: bool) -> int:
    x = writer.conv("conv1", "stem", NETWORK_INPUT, writer.spec.stem_width, 7, 2)
    return _stem_end(writer, x, preact)


def _deep_stem(widths: Callable[[int], tuple[int, int]]) -> Callable[[PlanWriter, bool], int]:
    def plan(writer: PlanWriter, preact: bool) -> int:
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
    anti_alias = ANTI_ALIASES[writer.spec.anti_alias]
    if not anti_alias.filters:
        return writer.same("maxpool", "maxpool", "stem", source, kernel_size=3, stride=2, padding=1)
    if anti_alias.replaces_max_pool:
        return plan_anti_alias(writer, "maxpool", "stem", source, 2)
    x = writer.same("maxpool.0", "maxpool", "stem", source, kernel_size=3, stride=1, padding=1)
    return plan_anti_alias(writer, "maxpool.1", "stem", x, 2)


def _plan_conv_pool(writer: PlanWriter, source: int) -> int:
    aa = ANTI_ALIASES[writer.spec.anti_alias].filters
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


def stem_stride(spec: SpecView) -> int:
    stem = STEMS[spec.stem]
    return stem.stride * (STEM_POOLS[spec.stem_pool].stride if stem.pools else 1)


def stem_out_channels(spec: SpecView) -> int:
    return spec.stem_width * STEMS[spec.stem].width_factor


# Where the stride of a bottleneck sits.


@dataclass(frozen=True)
class StrideOnKind(Kind):
    first_1x1: bool
    """A bottleneck's first 1x1 conv carries the stride, rather than its 3x3 conv."""


STRIDE_ON: dict[str, StrideOnKind] = {
    kind.key: kind
    for kind in (
        StrideOnKind(
            "3x3",
            "3x3 conv  (v1.5)",
            "The 3x3 conv strides: torchvision and timm ('ResNet-B', arXiv:1812.01187)",
            first_1x1=False,
        ),
        StrideOnKind(
            "1x1",
            "first 1x1 conv  (v1)",
            "The first 1x1 conv strides, as the original paper (arXiv:1512.03385)",
            first_1x1=True,
        ),
    )
}

OUTPUT_STRIDES: tuple[int, ...] = (32, 16, 8)
