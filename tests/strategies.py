"""Hypothesis strategies for architecture specs, drawn from the parts' own definitions."""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from explorer.core import parts
from explorer.core.spec import DEFAULT_SE_RATIO, OUTPUT_STRIDES, ArchSpec, SpecError


def _natural_stride(stem: str, stem_pool: str, strides: tuple[int, ...]) -> int:
    kind = parts.STEMS[stem]
    stride = kind.stride * (parts.STEM_POOLS[stem_pool].stride if kind.pools else 1)
    for item in strides:
        stride *= item
    return stride


@st.composite
def small_specs(draw: st.DrawFn, max_stages: int = 4) -> ArchSpec:
    """Valid specs of every kind of part, small enough that a real forward pass (the
    oracle) takes milliseconds."""
    block = draw(st.sampled_from(tuple(parts.BLOCKS)))
    kind = parts.BLOCKS[block]
    stages = draw(st.integers(1, max_stages))
    depths = tuple(draw(st.lists(st.integers(1, 2), min_size=stages, max_size=stages)))
    widths = tuple(draw(st.lists(st.integers(1, 12), min_size=stages, max_size=stages)))
    strides = tuple(draw(st.lists(st.integers(1, 2), min_size=stages, max_size=stages)))
    shortcut = draw(st.sampled_from(tuple(parts.SHORTCUTS)))
    groups, width_per_group, stride_on = 1, 64, "3x3"
    if kind.bottleneck:
        stride_on = draw(st.sampled_from(tuple(parts.STRIDE_ON)))
        if draw(st.booleans()):
            groups = draw(st.integers(1, 4))
            width_per_group = draw(st.sampled_from([16, 32, 64, 128]))
            # torchvision's inner width, width * width_per_group // 64, must stay >= 1
            widths = tuple(max(width, 64 // width_per_group) for width in widths)
    stem = draw(st.sampled_from(tuple(parts.STEMS)))
    stem_pool = draw(st.sampled_from(tuple(parts.STEM_POOLS))) if parts.STEMS[stem].pools else "max"
    stem_width = draw(st.integers(parts.STEMS[stem].min_width, 8))
    if not parts.SHORTCUTS[shortcut].can_shrink:
        widths = tuple(sorted(widths))
        limit = widths[0] * kind.expansion // parts.STEMS[stem].width_factor
        if limit < 1:
            widths = tuple(max(width, 2) for width in widths)
            limit = widths[0] * kind.expansion // parts.STEMS[stem].width_factor
        stem_width = max(parts.STEMS[stem].min_width, min(stem_width, limit))
        widths = tuple(
            max(width, -(-stem_width * parts.STEMS[stem].width_factor // kind.expansion)) for width in widths
        )
    attention = draw(st.sampled_from(tuple(parts.ATTENTIONS)))
    se_ratio = (
        draw(st.sampled_from([DEFAULT_SE_RATIO, 0.25, 0.5, 1.0])) if attention == "se" else DEFAULT_SE_RATIO
    )
    anti_alias = draw(st.sampled_from(tuple(parts.ANTI_ALIASES)))
    natural = _natural_stride(stem, stem_pool, strides)
    output_stride = draw(st.sampled_from(OUTPUT_STRIDES)) if natural >= 32 else 32
    # Anti-aliasing needs pixels to filter, and its 2x2 average pool even sides: whole
    # multiples of the network's stride give both.
    sides = st.integers(1, 20) if anti_alias == "none" else st.sampled_from([2 * natural, 3 * natural])
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
            input_size=(draw(sides), draw(sides)),
            stem_pool=stem_pool,
            stride_on=stride_on,
            attention=attention,
            se_ratio=se_ratio,
            anti_alias=anti_alias,
            drop_path=draw(st.sampled_from([0.0, 0.0, 0.1, 0.5])),
            output_stride=output_stride,
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


FIELD_CHOICES: dict[str, st.SearchStrategy[object]] = {
    "block": st.sampled_from(tuple(parts.BLOCKS)),
    "stem": st.sampled_from(tuple(parts.STEMS)),
    "shortcut": st.sampled_from(tuple(parts.SHORTCUTS)),
    "attention": st.sampled_from(tuple(parts.ATTENTIONS)),
    "anti_alias": st.sampled_from(tuple(parts.ANTI_ALIASES)),
    "stem_pool": st.sampled_from(tuple(parts.STEM_POOLS)),
    "stride_on": st.sampled_from(tuple(parts.STRIDE_ON)),
    "drop_path": st.sampled_from([0.0, 0.1, 0.5]),
    "num_classes": st.sampled_from([0, 1, 7]),
    "zero_init_residual": st.booleans(),
    "stem_width": st.integers(1, 8),
    "groups": st.integers(1, 4),
    "output_stride": st.sampled_from([8, 16, 32]),
    "input_size": st.tuples(st.integers(4, 40), st.integers(4, 40)),
}


@st.composite
def spec_edits(draw: st.DrawFn, spec: ArchSpec) -> ArchSpec:
    """One edit a person could make in the editor: a stage's depth, width or stride, a
    stage added or removed, or any other field. Edits the spec refuses leave it as it was."""
    kind = draw(st.sampled_from(["depth", "width", "stride", "add stage", "remove stage", "field"]))
    stage = draw(st.integers(0, spec.num_stages - 1))
    try:
        if kind == "depth":
            depths = list(spec.depths)
            depths[stage] = draw(st.integers(1, 4))
            return spec.with_depths(tuple(depths))
        if kind == "width":
            widths = list(spec.stage_widths)
            widths[stage] = draw(st.integers(1, 16))
            return dataclasses.replace(spec, widths=tuple(widths))
        if kind == "stride":
            strides = list(spec.stage_strides)
            strides[stage] = draw(st.integers(1, 2))
            return dataclasses.replace(spec, strides=tuple(strides))
        if kind == "add stage":
            return spec.with_depths((*spec.depths, draw(st.integers(1, 3))))
        if kind == "remove stage":
            return spec.with_depths(spec.depths[:-1]) if spec.num_stages > 1 else spec
        name = draw(st.sampled_from(sorted(FIELD_CHOICES)))
        return dataclasses.replace(spec, **{name: draw(FIELD_CHOICES[name])})
    except SpecError:
        return spec
