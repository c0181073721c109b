"""build_model(spec, device): the real nn.Module, made layer by layer from the plan.

Every step of the plan with a module of its own becomes that module, at the path the
plan names; a container step (a block, an attention module) becomes a module of the
class the plan names, which runs its member steps in the plan's order. Paths without a
step of their own (a stage ``layer2``, a shortcut ``layer2.0.shortcut``) are
``nn.Sequential`` holders, which torchsummary does not hook.
"""

from __future__ import annotations

import torch
from torch import nn

from explorer.core.blocks import (
    PlannedModule,
    PlannedSequential,
    ResNet,
    Step,
    container_class,
    initialise_weights,
    module_class,
)
from explorer.core.ops import OPS
from explorer.core.plan import (
    CONTAINER_OPS,
    FUNCTIONAL_OPS,
    NETWORK_INPUT,
    LayerPlan,
    PlannedLayer,
    layer_plan,
)
from explorer.core.spec import ArchSpec


def _module(layer: PlannedLayer) -> nn.Module:
    """The module of ``layer``, made from its op's recipe (``explorer.core.ops``)."""
    rule = OPS[layer.op]
    if rule.kind == "container":
        return container_class(layer.type_name)()
    if rule.module is None:
        raise ValueError(f"{layer.name}: op {layer.op!r} runs without a module of its own")
    positional, keywords = rule.module.arguments(layer)
    return module_class(rule.module.class_name)(*positional, **keywords)


def _is_functional(layer: PlannedLayer) -> bool:
    return layer.functional or layer.op in FUNCTIONAL_OPS


def _attach(root: nn.Module, modules: dict[str, nn.Module]) -> dict[str, PlannedSequential]:
    """Puts every module at its path, making ``PlannedSequential`` holders for missing parents."""
    placed: dict[str, nn.Module] = {"": root}

    def place(path: str) -> nn.Module:
        if path not in placed:
            # A container is placed before its members, whose step comes before its own.
            module = modules.get(path) or PlannedSequential()
            place(path.rpartition(".")[0]).add_module(path.rpartition(".")[2], module)
            placed[path] = module
        return placed[path]

    for path in modules:
        place(path)
    return {path: module for path, module in placed.items() if isinstance(module, PlannedSequential)}


def _group(
    steps: list[Step], names: list[str], holders: dict[str, PlannedSequential], prefix: str
) -> list[Step]:
    """Replaces each run of steps under a holder's path (below ``prefix``) by one step that
    calls the holder, which runs them."""
    result: list[Step] = []
    i = 0
    while i < len(steps):
        name = names[steps[i].index]
        holder = next(
            (
                path
                for path in sorted(holders, key=len)
                if name.startswith(path + ".") and (not prefix or path.startswith(prefix + "."))
            ),
            None,
        )
        if holder is None:
            result.append(steps[i])
            i += 1
            continue
        j = i
        while j < len(steps) and names[steps[j].index].startswith(holder + "."):
            j += 1
        inner = _group(steps[i:j], names, holders, holder)
        module = holders[holder]
        module.set_steps(steps[i].inputs[0], inner)
        last = steps[j - 1]
        result.append(Step(last.index, "holder", module, steps[i].inputs[:1], last.aliases))
        i = j
    return result


def _assemble(plan: LayerPlan, root: PlannedModule) -> None:
    """Gives each container the steps it runs, and the network the rest."""
    modules: dict[str, nn.Module] = {}
    by_index: dict[int, nn.Module] = {}
    for index, layer in enumerate(plan.layers):
        if _is_functional(layer):
            continue
        if layer.name not in modules:
            modules[layer.name] = _module(layer)
        by_index[index] = modules[layer.name]
    holders = _attach(root, modules)

    owner = [-1] * len(plan.layers)  # the container index that runs each step (-1: the network)
    for index, layer in enumerate(plan.layers):
        if layer.op in CONTAINER_OPS:
            for member in range(layer.first, index):
                if owner[member] == -1:
                    owner[member] = index
    programs: dict[int, list[Step]] = {-1: []}
    for index, layer in enumerate(plan.layers):
        # A container's output is its last member's: later steps may name that member.
        aliases = (index - 1,) if layer.op in CONTAINER_OPS else ()
        step = Step(index, layer.op, by_index.get(index), layer.inputs, aliases)
        programs.setdefault(owner[index], []).append(step)
    names = [layer.name for layer in plan.layers]
    for index, layer in enumerate(plan.layers):
        if layer.op in CONTAINER_OPS:
            container = by_index[index]
            assert isinstance(container, PlannedModule)
            steps = _group(programs.get(index, []), names, holders, layer.name)
            container.set_steps(layer.inputs[0], steps)
    root.set_steps(NETWORK_INPUT, _group(programs[-1], names, holders, ""))


def _initialise(model: nn.Module, plan: LayerPlan) -> None:
    initialise_weights(model)
    if plan.spec.zero_init_residual:
        for block in plan.blocks:
            nn.init.constant_(model.get_submodule(block.zero_init).weight, 0)  # type: ignore[arg-type]


def build_model(spec: ArchSpec, device: str | torch.device = "cpu") -> ResNet:
    """A freshly initialised model of ``spec`` on ``device`` (``"meta"`` allocates nothing)."""
    plan = layer_plan(spec)
    with torch.device(device):
        model = ResNet()
        _assemble(plan, model)
    if torch.device(device).type != "meta":
        _initialise(model, plan)
    return model
