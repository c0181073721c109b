"""Every op of the layer plan is declared once, completely, and the program reads it from there."""

from __future__ import annotations

import dataclasses
from typing import get_args

import grimp
import pytest

from explorer.core import ops
from explorer.core.ops import OP_NAMES, OPS, Drawn, Keeps, OpKind
from explorer.core.planning import PlannedLayer


def _sample_layer(op: str) -> PlannedLayer:
    return PlannedLayer(
        name="layer1.0.x",
        op=op,  # type: ignore[arg-type]
        role="main",
        inputs=(0, 1),
        in_channels=8,
        out_channels=16 if op in ("conv", "conv1d", "linear", "zeropad") else 8,
        kernel_size=3,
        stride=2,
        padding=1,
        rate=0.1,
    )


@dataclasses.dataclass(frozen=True)
class _Row:
    output_shape: tuple[int, ...] = (16, 4, 4)
    kernel_size: int | None = 3
    stride: int | None = 2
    groups: int | None = 1
    dilation: int | None = None
    rate: float | None = 0.1


def test_every_op_name_has_exactly_one_declaration() -> None:
    assert set(OPS) == set(OP_NAMES)
    assert all(rule.op == op for op, rule in OPS.items())
    assert len(OP_NAMES) == len(set(OP_NAMES))


@pytest.mark.parametrize("op", OP_NAMES)
def test_each_op_is_declared_completely(op: str) -> None:
    rule = OPS[op]  # type: ignore[index]
    assert rule.kind in get_args(OpKind)
    assert rule.keeps in get_args(Keeps)
    assert rule.drawn in get_args(Drawn)
    label = rule.label(_Row())
    assert isinstance(label, str) and label
    if rule.kind == "module":
        assert rule.module is not None, f"{op}: a module op names the module that builds it"
        assert rule.type_name, f"{op}: torchsummary's class name"
    elif rule.kind == "functional":
        assert rule.module is None
        assert rule.expression.count("{0}") >= 1, f"{op}: the arithmetic that computes it"
    else:
        assert rule.module is None and not rule.expression
    if rule.drawn == "merge":
        assert rule.merge_sign and "{1}" in rule.expression, f"{op}: a merge takes two inputs"
    layer = _sample_layer(op)
    shape = rule.shape(layer, (8, 9, 9))
    assert all(isinstance(side, int) and side > 0 for side in shape)
    assert rule.params(layer) >= 0
    assert rule.macs(layer, shape) >= 0
    field, jump = rule.receptive(layer, (3, 1), (8, 9, 9))
    assert field >= 3 and jump >= 1
    assert len(rule.details(layer)) == 4


def test_the_sets_the_interpreters_use_follow_the_declarations() -> None:
    assert {"module", "block"} == ops.CONTAINER_OPS
    assert {"add", "mul", "mean", "to_seq", "to_map", "flatten"} == ops.FUNCTIONAL_OPS
    assert ops.MODULE_TYPE_NAMES["conv"] == "Conv2d"
    assert ops.declared("stage") is None
    assert ops.declared("bn") is OPS["bn"]


def test_a_recipe_builds_the_module_and_writes_the_same_call_as_source() -> None:
    torch = pytest.importorskip("torch")
    from torch import nn

    from explorer.core import blocks

    namespace = {"nn": nn, **{name: blocks.module_class(name) for name in ("BlurPool2d", "ZeroPadShortcut")}}
    namespace |= {name: blocks.module_class(name) for name in ("AvgPool2dSame", "DropPath")}
    for op, rule in OPS.items():
        if rule.module is None:
            continue
        layer = _sample_layer(op)
        positional, keywords = rule.module.arguments(layer)
        built = blocks.module_class(rule.module.class_name)(*positional, **keywords)
        from_text = eval(rule.module.call_text(layer), namespace)
        assert type(from_text) is type(built), op
        assert repr(from_text) == repr(built), op
        assert [p.shape for p in from_text.parameters()] == [p.shape for p in built.parameters()], op
        if rule.params(layer) or op in ("conv", "bn", "linear"):
            assert sum(p.numel() for p in built.parameters()) == rule.params(layer), op
    assert torch.is_tensor(torch.zeros(1))


def test_the_declared_arithmetic_runs_as_written() -> None:
    torch = pytest.importorskip("torch")
    from explorer.core.blocks import Step, run_step

    x = torch.randn(2, 4, 3, 3)
    gate = torch.randn(2, 4, 1, 1)
    expected = {
        "add": x + x,
        "mul": x * gate,
        "mean": x.mean((2, 3), keepdim=True),
        "flatten": torch.flatten(x, 1),
        "to_seq": gate.view(2, 1, -1),
        "to_map": gate.view(2, 1, -1).view(2, -1, 1, 1),
    }
    inputs = {"add": (0, 0), "mul": (0, 1), "to_seq": (1,), "to_map": (2,)}
    values = {0: x, 1: gate, 2: gate.view(2, 1, -1)}
    for op, want in expected.items():
        got = run_step(Step(9, op, None, inputs.get(op, (0,))), values)
        assert torch.equal(got, want), op


def test_no_import_circle_in_the_core() -> None:
    """Not even through imports made only for the type checker: each part depends on the
    plan's vocabulary, never the other way round."""
    graph = grimp.build_graph("explorer", exclude_type_checking_imports=False)
    core = sorted(module for module in graph.modules if module.startswith("explorer.core"))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if not imported.startswith("explorer.core"):
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in core:
        if module not in index:
            visit(module)
    assert circles == []
