"""Every part of every table is declared completely, and plans only declared ops."""

from __future__ import annotations

from typing import Any

import pytest

from explorer.core import parts
from explorer.core.analysis import analyze
from explorer.core.ops import OPS
from explorer.core.parts.base import Kind
from explorer.core.plan import layer_plan
from explorer.core.spec import ArchSpec

TABLES: dict[str, dict[str, Any]] = {
    "block": parts.BLOCKS,
    "stem": parts.STEMS,
    "stem_pool": parts.STEM_POOLS,
    "shortcut": parts.SHORTCUTS,
    "stride_on": parts.STRIDE_ON,
    "attention": parts.ATTENTIONS,
    "anti_alias": parts.ANTI_ALIASES,
}


def _spec_with(field: str, key: str) -> ArchSpec:
    """A small spec that uses the part ``key`` of the table of ``field``."""
    values: dict[str, Any] = {field: key, "stem": "imagenet", "input_size": (64, 64)}
    if field == "stride_on":
        values["block"] = "bottleneck"
    if field == "stem_pool" and not parts.STEMS["imagenet"].pools:
        pytest.skip("the ImageNet stem takes no pool")
    return ArchSpec(**values)


@pytest.mark.parametrize(("field", "key"), [(f, k) for f, table in TABLES.items() for k in table])
def test_each_part_is_declared_completely_and_plans_declared_ops(field: str, key: str) -> None:
    kind = TABLES[field][key]
    assert isinstance(kind, Kind)
    assert kind.key == key
    assert kind.label.strip() and kind.tooltip.strip(), f"{field} {key!r}: a label and a tooltip"
    if getattr(kind, "plan", None) is not None and hasattr(kind, "class_name"):
        assert kind.class_name.isidentifier(), f"{field} {key!r}: the class torchsummary shows"
    if field == "shortcut" and not kind.can_shrink:
        spec = ArchSpec(shortcut=key, stem="imagenet", input_size=(64, 64))
    else:
        spec = _spec_with(field, key)
    plan = layer_plan(spec)
    assert plan.layers, key
    for layer in plan.layers:
        assert layer.op in OPS, f"{field} {key!r} plans {layer.name} with the undeclared op {layer.op!r}"
        rule = OPS[layer.op]
        if rule.kind == "container":
            assert layer.type_name.isidentifier(), f"{layer.name}: a container names its class"
        elif not layer.functional:
            assert layer.type_name, f"{layer.name}: a module's class name"
    assert analyze(spec).totals.total_params > 0
