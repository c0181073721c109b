"""Hypothesis strategies for architecture specs."""

from __future__ import annotations

from hypothesis import strategies as st

from explorer.core.spec import ArchSpec, SpecError


@st.composite
def small_specs(draw: st.DrawFn, max_stages: int = 4) -> ArchSpec:
    """Valid specs small enough that a real forward pass (the oracle) takes milliseconds."""
    block = draw(st.sampled_from(["basic", "bottleneck"]))
    stages = draw(st.integers(1, max_stages))
    depths = tuple(draw(st.lists(st.integers(1, 2), min_size=stages, max_size=stages)))
    widths = tuple(draw(st.lists(st.integers(1, 12), min_size=stages, max_size=stages)))
    strides = tuple(draw(st.lists(st.integers(1, 2), min_size=stages, max_size=stages)))
    shortcut = draw(st.sampled_from(["projection", "zero-pad"]))
    groups, width_per_group = 1, 64
    if block == "bottleneck" and draw(st.booleans()):
        groups = draw(st.integers(1, 4))
        width_per_group = draw(st.sampled_from([16, 32, 64, 128]))
        # torchvision's inner width, width * width_per_group // 64, must stay >= 1
        widths = tuple(max(width, 64 // width_per_group) for width in widths)
    if shortcut == "zero-pad":
        widths = tuple(sorted(widths))
    stem = draw(st.sampled_from(["cifar", "imagenet"]))
    stem_width = draw(st.integers(1, 8))
    if shortcut == "zero-pad":
        stem_width = min(stem_width, widths[0] * (4 if block == "bottleneck" else 1))
    try:
        return ArchSpec(
            block=block,
            depths=depths,
            widths=widths,
            strides=strides,
            stem=stem,
            stem_width=stem_width,
            in_channels=draw(st.integers(1, 4)),
            num_classes=draw(st.sampled_from([0, 0, 1, 7])),
            zero_init_residual=draw(st.booleans()),
            groups=groups,
            width_per_group=width_per_group,
            shortcut=shortcut,
            input_size=(draw(st.integers(1, 20)), draw(st.integers(1, 20))),
        )
    except SpecError as exc:  # pragma: no cover - a strategy bug, not a product bug
        raise AssertionError(f"strategy made an invalid spec: {exc}") from exc


@st.composite
def notebook_specs(draw: st.DrawFn) -> ArchSpec:
    """Specs the notebook's own code can express: 4 stages of 64..512, cifar stem, no head."""
    return ArchSpec(
        block=draw(st.sampled_from(["basic", "bottleneck"])),
        depths=tuple(draw(st.lists(st.integers(1, 2), min_size=4, max_size=4))),
        in_channels=draw(st.integers(1, 3)),
        input_size=(draw(st.integers(1, 12)), draw(st.integers(1, 12))),
    )
