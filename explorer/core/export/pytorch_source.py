"""A spec's network as one standalone, readable PyTorch file that needs only torch.

The file is made from what ``build_model`` uses (``explorer.core.export.source_classes``
writes its classes from the plan): the layers torch lacks that the plan's op recipes name,
as their own source in ``explorer.core.blocks``, with the initialisation the builder runs;
a class for each kind of container the plan names (a block, an attention module), each
documented by its part's tooltip; the network class ``ResNet``; and a factory named after
the variant (``resnet50d()``, or ``custom_resnet()`` for a spec that is no preset). Its
``state_dict`` has the keys and shapes of ``build_model(spec)``, and its layers are made
and initialised in the same order with the same functions, so that ``torch.manual_seed(s);
resnet50d()`` equals ``torch.manual_seed(s); build_model(spec)`` weight for weight and
output for output. The text is laid out as ``ruff format`` would lay it out and is the
same bytes every time.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import sys
from collections.abc import Callable
from typing import TypeGuard

from explorer.core import blocks, parts
from explorer.core.analysis import analyze
from explorer.core.export.pyformat import INDENT
from explorer.core.export.source_classes import access, written_classes
from explorer.core.ops import OPS
from explorer.core.plan import LayerPlan, layer_plan
from explorer.core.presets import preset_name_of
from explorer.core.spec import ArchSpec
from explorer.core.units import format_shape
from explorer.core.wording import counted

CUSTOM_NAME = "custom_resnet"
NETWORK_CLASS = blocks.ResNet.__name__


def factory_name(spec: ArchSpec) -> str:
    """The generated factory's name: the preset's own name, else ``custom_resnet``."""
    name = preset_name_of(spec)
    if name is None:
        return CUSTOM_NAME
    return re.sub(r"\W", "_", name.rpartition("/")[2])


def pytorch_source(spec: ArchSpec) -> str:
    """The standalone module's text."""
    plan = layer_plan(spec)
    name = factory_name(spec)
    sections = [
        inspect.getsource(definition).strip("\n").split("\n") for definition in _own_definitions(plan)
    ]
    classes = written_classes(plan, NETWORK_CLASS, _model_doc(spec), _initialisation(plan))
    sections += [written.lines for written in classes]
    sections.append([f"def {name}() -> {NETWORK_CLASS}:", f"{INDENT}return {NETWORK_CLASS}()"])
    body: list[str] = []
    for section in sections:
        body += [*(["", ""] if body else []), *section]
    lines = [*_header(spec, name), "", *_imports("\n".join(body)), "", "", *body]
    return "\n".join(lines) + "\n"


def _header(spec: ArchSpec, name: str) -> list[str]:
    totals = analyze(spec).totals
    lines = [
        f"# {name}: a residual network as standalone PyTorch code (needs only torch).",
        "#",
        f"# At its input of {format_shape(spec.input_shape)}: {totals.total_params:,} parameters, "
        f"{totals.macs:,} multiply-accumulates.",
        "#",
        "# The architecture it was made from:",
    ]
    fields = [f"{json.dumps(key)}: {json.dumps(value)}" for key, value in spec.to_dict().items()]
    lines.append("# {")
    lines += [f"#   {field}," for field in fields[:-1]]
    return [*lines, f"#   {fields[-1]}", "# }"]


def _own_definitions(plan: LayerPlan) -> list[Callable[..., object]]:
    """The layers of ``explorer.core.blocks`` that the plan's recipes name, each after what
    it needs of that module, then the initialisation that ``build_model`` runs."""
    ordered: list[Callable[..., object]] = []

    def add(definition: Callable[..., object]) -> None:
        if definition in ordered:
            return
        for name in _names(inspect.getsource(definition)):
            needed = getattr(blocks, name, None)
            if needed is not definition and _defined_in_blocks(needed):
                add(needed)
        ordered.append(definition)

    for layer in plan.layers:
        recipe = OPS[layer.op].module
        if recipe is not None and not layer.functional:
            made = blocks.module_class(recipe.class_name)
            if _defined_in_blocks(made):
                add(made)
    add(blocks.initialise_weights)
    return ordered


def _defined_in_blocks(value: object) -> TypeGuard[Callable[..., object]]:
    defined = inspect.isclass(value) or inspect.isfunction(value)
    return defined and getattr(value, "__module__", None) == blocks.__name__


def _names(source: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}


def _initialisation(plan: LayerPlan) -> list[str]:
    """The end of the network's ``__init__``: the builder's initialisation, then, for
    ``zero_init_residual``, each block's last norm (or conv) at zero."""
    pad = INDENT * 2
    lines = [f"{pad}{blocks.initialise_weights.__name__}(self)"]
    if not plan.spec.zero_init_residual:
        return lines
    zeroed: dict[str, list[str]] = {}
    containers = {layer.name: layer for layer in plan.layers if layer.name in {b.name for b in plan.blocks}}
    for planned in plan.blocks:
        class_name = containers[planned.name].type_name
        path = f"module.{access(planned.zero_init[len(planned.name) + 1 :].split('.'))}"
        if path not in zeroed.setdefault(class_name, []):
            zeroed[class_name].append(path)
    lines.append(f"{pad}for module in self.modules():")
    for class_name, paths in zeroed.items():
        lines.append(f"{pad}{INDENT}if isinstance(module, {class_name}):")
        lines += [f"{pad}{INDENT * 2}nn.init.constant_({path}.weight, 0)" for path in paths]
    return lines


def _imports(body: str) -> list[str]:
    """The imports of the modules that ``body`` names, as ``explorer.core.blocks`` imports them."""
    used = _names(body)
    standard: list[str] = []
    others: list[str] = []
    for alias, module in sorted(vars(blocks).items(), key=lambda item: getattr(item[1], "__name__", "")):
        if not inspect.ismodule(module) or alias not in used:
            continue
        full = module.__name__
        package, _, last = full.rpartition(".")
        if alias == full:
            line = f"import {full}"
        elif alias == last:
            line = f"from {package} import {alias}"
        else:
            line = f"import {full} as {alias}"
        (standard if full.partition(".")[0] in sys.stdlib_module_names else others).append(line)
    groups = [
        sorted(group, key=lambda line: (line.startswith("from "), line)) for group in (standard, others)
    ]
    return groups[0] + [""] * bool(groups[0] and groups[1]) + groups[1]


def _model_doc(spec: ArchSpec) -> str:
    head = f"a {spec.num_classes}-class classifier" if spec.num_classes else "pooled features"
    return f"A stem, {counted(spec.num_stages, 'stage')} of {parts.BLOCKS[spec.block].paper} blocks, {head}."
