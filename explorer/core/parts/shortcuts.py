"""Shortcut kinds: the branch around a block where its shape changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from explorer.core.parts.base import Kind
from explorer.core.planning import BlockSite, PlanWriter

# Shortcuts: the branch around a block where its shape changes.

IDENTITY_SHORTCUT = "identity"  # a block's shortcut where its shape does not change: no layers


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
        return source, IDENTITY_SHORTCUT
    kind = SHORTCUTS[site.spec.shortcut]
    return kind.plan(writer, site, source, preact), kind.key
