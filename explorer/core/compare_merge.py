"""Merging two edits of one comparison, made side by side (two windows on one workspace).

Both sides started from ``base``; ``ours`` is this side's edit, ``theirs`` what the other
side saved meanwhile. Variants are told apart by name. The merge keeps every variant
either side added or changed; only a variant this side removed (or renamed away) goes.
Where both sides changed the same variant, this side's version wins.
"""

from __future__ import annotations

from dataclasses import replace

from explorer.core.compare import Comparison, Variant


def _by_name(comparison: Comparison) -> dict[str, Variant]:
    return {variant.name: variant for variant in comparison.variants}


def _baseline_name(comparison: Comparison) -> str | None:
    return comparison.variants[comparison.baseline].name if comparison.variants else None


def merge_comparisons(base: Comparison, ours: Comparison, theirs: Comparison) -> Comparison:
    """``ours`` (an edit of ``base``) applied on top of ``theirs`` (another edit of ``base``)."""
    if theirs == base:
        return ours
    if ours == base:
        return theirs
    base_by, ours_by, theirs_by = _by_name(base), _by_name(ours), _by_name(theirs)
    removed_here = {name for name in base_by if name not in ours_by}
    changed_here = {name for name, variant in ours_by.items() if base_by.get(name) != variant}

    def version_of(name: str) -> Variant | None:
        """The merged version of a variant both sides started with (None: it goes)."""
        if name in removed_here:
            return None
        if name in changed_here:
            return ours_by[name]
        return theirs_by.get(name)  # None where the other side removed it

    in_base_order = [name for name in base_by if name in ours_by]
    in_our_order = [variant.name for variant in ours.variants if variant.name in base_by]
    if in_base_order != in_our_order:
        # This side reordered the variants: its order leads, the other side's new ones follow.
        entries = [*ours.variants, *(v for v in theirs.variants if v.name not in base_by)]
    else:
        kept_here = [
            v
            for v in ours.variants
            if v.name not in base_by or (v.name in changed_here and v.name not in theirs_by)
        ]
        entries = [*theirs.variants, *kept_here]

    merged: dict[str, Variant] = {}
    renamed: dict[str, str] = {}  # a variant added under a name the other side took meanwhile
    for entry in entries:
        variant = version_of(entry.name) if entry.name in base_by else entry
        if variant is None or (entry.name in base_by and entry.name in merged):
            continue
        name = variant.name
        if name in merged and merged[name] != variant:
            name = Comparison(tuple(merged.values())).unique_name(name)
            renamed[variant.name] = name
            variant = replace(variant, name=name)
        merged[name] = variant

    wanted = _baseline_name(ours)
    if wanted == _baseline_name(base):
        wanted = _baseline_name(theirs)
    wanted = renamed.get(wanted or "", wanted)
    names = list(merged)
    return Comparison(tuple(merged.values()), names.index(wanted) if wanted in names else 0)
