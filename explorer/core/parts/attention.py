"""Attention kinds (a gate on the main branch before the merge) and drop-path."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from explorer.core.parts.base import Kind, make_divisible
from explorer.core.planning import BlockSite, PlanWriter

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
