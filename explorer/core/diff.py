"""The structural difference between two specs: which stages differ and how, and which
layers and blocks one has that the other lacks or holds differently."""

from __future__ import annotations

from dataclasses import dataclass, fields

from explorer.core.analysis import LayerRow, analyze
from explorer.core.spec import ArchSpec

# The spec fields the diff does not compare as whole-network settings: these are
# compared stage by stage (see ``_stage_fields``), with their defaults filled in.
_PER_STAGE_FIELDS = frozenset({"block", "depths", "widths", "strides"})
# A field that may be left as None is compared by the value it stands for.
_EFFECTIVE_VALUE = {"input_size": "input_shape"}


def network_fields() -> tuple[str, ...]:
    """The names the diff compares for the whole network: every ``ArchSpec`` field
    not compared per stage, so that a new field is diffed without being listed here."""
    return tuple(
        _EFFECTIVE_VALUE.get(f.name, f.name) for f in fields(ArchSpec) if f.name not in _PER_STAGE_FIELDS
    )


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: object
    after: object

    def describe(self) -> str:
        return f"{self.field} {_show(self.before)} -> {_show(self.after)}"


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True, slots=True)
class StageChange:
    index: int
    status: str  # "changed", "added" (only in the second spec) or "removed" (only in the first)
    changes: tuple[FieldChange, ...]

    @property
    def name(self) -> str:
        return f"stage {self.index + 1} (layer{self.index + 1})"

    def describe(self) -> str:
        if self.status != "changed":
            return f"{self.name}: {self.status}"
        parts = []
        for change in self.changes:
            if change.field == "depth":
                parts.append(f"{change.before} against {change.after} blocks")
            else:
                parts.append(change.describe())
        return f"{self.name}: " + ", ".join(parts)


@dataclass(frozen=True, slots=True)
class SpecDiff:
    network_changes: tuple[FieldChange, ...]
    stage_changes: tuple[StageChange, ...]
    layers_added: tuple[str, ...]
    layers_removed: tuple[str, ...]
    layers_changed: tuple[str, ...]
    blocks_differing_first: tuple[str, ...]
    blocks_differing_second: tuple[str, ...]

    @property
    def identical(self) -> bool:
        return not (self.network_changes or self.stage_changes)

    def describe(self) -> list[str]:
        if self.identical:
            return ["the two architectures are identical"]
        lines = [change.describe() for change in self.network_changes]
        lines += [change.describe() for change in self.stage_changes]
        lines.append(
            f"layers: {len(self.layers_added)} added, {len(self.layers_removed)} removed, "
            f"{len(self.layers_changed)} changed"
        )
        return lines


def _stage_fields(spec: ArchSpec, stage: int) -> dict[str, object]:
    return {
        "block": spec.block,
        "depth": spec.depths[stage],
        "width": spec.stage_widths[stage],
        "stride": spec.stage_strides[stage],
    }


def _layer_signature(row: LayerRow) -> tuple[object, ...]:
    return (row.type, row.input_shape, row.output_shape, row.kernel_size, row.stride, row.groups, row.params)


def _layers(spec: ArchSpec) -> dict[str, LayerRow]:
    # A block's ReLU module runs more than once; its first call stands for it.
    layers: dict[str, LayerRow] = {}
    for row in analyze(spec).rows:
        if row.op not in ("block", "add") and row.summary_id is not None:
            layers.setdefault(row.name, row)
    return layers


def _block_of(name: str) -> str | None:
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0].startswith("layer") and len(parts) > 2 else None


def spec_diff(first: ArchSpec, second: ArchSpec) -> SpecDiff:
    network = tuple(
        FieldChange(field, getattr(first, field), getattr(second, field))
        for field in network_fields()
        if getattr(first, field) != getattr(second, field)
    )
    stages = []
    for index in range(max(first.num_stages, second.num_stages)):
        if index >= first.num_stages:
            stages.append(StageChange(index, "added", ()))
        elif index >= second.num_stages:
            stages.append(StageChange(index, "removed", ()))
        else:
            before, after = _stage_fields(first, index), _stage_fields(second, index)
            changes = tuple(
                FieldChange(key, before[key], after[key]) for key in before if before[key] != after[key]
            )
            if changes:
                stages.append(StageChange(index, "changed", changes))

    first_layers, second_layers = _layers(first), _layers(second)
    added = tuple(name for name in second_layers if name not in first_layers)
    removed = tuple(name for name in first_layers if name not in second_layers)
    changed = tuple(
        name
        for name, row in first_layers.items()
        if name in second_layers and _layer_signature(row) != _layer_signature(second_layers[name])
    )

    def blocks(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(block for block in map(_block_of, names) if block))

    return SpecDiff(
        network_changes=network,
        stage_changes=tuple(stages),
        layers_added=added,
        layers_removed=removed,
        layers_changed=changed,
        blocks_differing_first=blocks(removed + changed),
        blocks_differing_second=blocks(added + changed),
    )
