"""Anti-aliasing kinds: a low-pass step where a convolution would stride."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from explorer.core.parts.base import Kind
from explorer.core.planning import BlockSite, PlanWriter, Role

# Anti-aliasing: a low-pass step where a convolution would stride.


@dataclass(frozen=True)
class AntiAliasKind(Kind):
    plan: Callable[[PlanWriter, str, Role, int, int], int] | None
    """Lays out the anti-aliased downsampling by a stride at a name; ``None``: no anti-aliasing."""
    replaces_max_pool: bool = False
    """The stem's max pool is this pool itself, rather than a max pool of stride 1 before it."""

    @property
    def filters(self) -> bool:
        return self.plan is not None


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
            replaces_max_pool=True,  # timm's stem uses the anti-aliasing pool in place of the max pool
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
    if not ANTI_ALIASES[site.spec.anti_alias].filters:
        return False
    return site.stride == 2 or site.first_dilation != site.dilation
